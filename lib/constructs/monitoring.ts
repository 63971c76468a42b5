// Alarms on what stops location updates from reaching friends (function errors and throttles,
// consumer lag, dead-lettered batches, API errors, cache saturation), an encrypted SNS topic for
// their actions, and one dashboard per stage.
import { Duration } from "aws-cdk-lib";
import type { IHttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import type { HouseFunction } from "./house-function.ts";

export interface StreamConsumerWatch {
  readonly name: string;
  readonly fn: IFunction;
  /** Alarm when the oldest record a batch delivers is older than this. */
  readonly maxIteratorAge: Duration;
}

export interface MonitoringProps {
  readonly namePrefix: string;
  readonly functions: readonly HouseFunction[];
  readonly consumers: readonly StreamConsumerWatch[];
  readonly deadLetterQueues: readonly { readonly name: string; readonly queue: IQueue }[];
  readonly webSocket: { readonly apiId: string; readonly stageName: string };
  readonly httpApi: IHttpApi;
  /** CacheClusterId of every cache node. */
  readonly cacheNodeIds: readonly string[];
  readonly alarmEmail: string | undefined;
}

const PERIOD = Duration.minutes(5);

export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly alarms: Alarm[] = [];
  readonly dashboard: Dashboard;
  private readonly action: SnsAction;
  private readonly namePrefix: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.namePrefix = props.namePrefix;
    const key = new Key(this, "TopicKey", {
      alias: `alias/${props.namePrefix}/alarms`,
      description: "Encrypts the alarm topic",
      enableKeyRotation: true,
    });
    // CloudWatch publishes alarm notifications to the topic: it must be able to use the key.
    key.grant(
      new ServicePrincipal("cloudwatch.amazonaws.com"),
      "kms:Decrypt",
      "kms:GenerateDataKey*",
    );
    this.topic = new Topic(this, "AlarmTopic", {
      topicName: `${props.namePrefix}-alarms`,
      displayName: `Nearby Friends alarms (${props.namePrefix})`,
      masterKey: key,
      enforceSSL: true,
    });
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    this.action = new SnsAction(this.topic);

    for (const fn of props.functions) {
      this.alarm(
        `${fn.entryName}-errors`,
        fn.metricErrors({ period: PERIOD }),
        1,
        `${fn.entryName} threw errors`,
      );
      this.alarm(
        `${fn.entryName}-throttles`,
        fn.metricThrottles({ period: PERIOD }),
        1,
        `${fn.entryName} was throttled`,
      );
    }
    for (const consumer of props.consumers) {
      this.alarm(
        `${consumer.name}-iterator-age`,
        consumer.fn.metric("IteratorAge", { statistic: "Maximum", period: Duration.minutes(1) }),
        consumer.maxIteratorAge.toMilliseconds(),
        `${consumer.name} consumer lags the stream by more than ${consumer.maxIteratorAge.toHumanString()}`,
        3,
      );
    }
    for (const { name, queue } of props.deadLetterQueues) {
      this.alarm(
        `${name}-dlq-depth`,
        queue.metricApproximateNumberOfMessagesVisible({ period: PERIOD, statistic: "Maximum" }),
        1,
        "a stream batch failed all retries and was dead-lettered",
      );
    }

    const wsMetric = (metricName: string) =>
      new Metric({
        namespace: "AWS/ApiGateway",
        metricName,
        dimensionsMap: { ApiId: props.webSocket.apiId, Stage: props.webSocket.stageName },
        statistic: "Sum",
        period: PERIOD,
      });
    // WebSocket APIs publish no 5xx metric: execution and integration errors are their server errors.
    this.alarm(
      "ws-execution-errors",
      wsMetric("ExecutionError"),
      5,
      "WebSocket API execution errors",
    );
    this.alarm(
      "ws-integration-errors",
      wsMetric("IntegrationError"),
      5,
      "WebSocket API integration errors",
    );
    this.alarm(
      "http-5xx",
      props.httpApi.metricServerError({ period: PERIOD }),
      5,
      "HTTP API 5xx responses",
    );

    const cacheMetric = (metricName: string, nodeId: string) =>
      new Metric({
        namespace: "AWS/ElastiCache",
        metricName,
        dimensionsMap: { CacheClusterId: nodeId },
        statistic: "Average",
        period: PERIOD,
      });
    for (const nodeId of props.cacheNodeIds) {
      this.alarm(
        `${nodeId}-cpu`,
        cacheMetric("EngineCPUUtilization", nodeId),
        80,
        `cache node ${nodeId} engine CPU`,
        3,
      );
      this.alarm(
        `${nodeId}-memory`,
        cacheMetric("DatabaseMemoryUsagePercentage", nodeId),
        80,
        `cache node ${nodeId} memory`,
        3,
      );
    }

    this.dashboard = new Dashboard(this, "Dashboard", {
      dashboardName: props.namePrefix,
      defaultInterval: Duration.hours(3),
    });
    const graph = (title: string, left: IMetric[]) =>
      new GraphWidget({ title, left, width: 12, height: 6 });
    this.dashboard.addWidgets(
      graph("WebSocket: connections and messages", [
        wsMetric("ConnectCount"),
        wsMetric("MessageCount"),
      ]),
      graph("WebSocket: errors", [
        wsMetric("ExecutionError"),
        wsMetric("IntegrationError"),
        wsMetric("ClientError"),
      ]),
    );
    this.dashboard.addWidgets(
      graph("HTTP API: requests and 5xx", [
        props.httpApi.metricCount(),
        props.httpApi.metricServerError(),
      ]),
      graph(
        "Stream consumers: iterator age (ms)",
        props.consumers.map((c) =>
          c.fn.metric("IteratorAge", { statistic: "Maximum", label: c.name }),
        ),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        "Function errors",
        props.functions.map((fn) => fn.metricErrors({ label: fn.entryName })),
      ),
      graph(
        "Function duration p99 (ms)",
        props.functions.map((fn) => fn.metricDuration({ statistic: "p99", label: fn.entryName })),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        "Cache engine CPU %",
        props.cacheNodeIds.map((id) => cacheMetric("EngineCPUUtilization", id)),
      ),
      graph(
        "Cache memory %",
        props.cacheNodeIds.map((id) => cacheMetric("DatabaseMemoryUsagePercentage", id)),
      ),
    );
    this.dashboard.addWidgets(
      graph(
        "Dead-lettered batches",
        props.deadLetterQueues.map(({ name, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: "Maximum", label: name }),
        ),
      ),
    );
  }

  private alarm(
    name: string,
    metric: IMetric,
    threshold: number,
    description: string,
    evaluationPeriods = 1,
  ): Alarm {
    const alarm = new Alarm(this, `${name.replace(/[^A-Za-z0-9]/g, "")}Alarm`, {
      alarmName: `${this.namePrefix}-${name}`,
      alarmDescription: description,
      metric,
      threshold,
      evaluationPeriods,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(this.action);
    alarm.addOkAction(this.action);
    this.alarms.push(alarm);
    return alarm;
  }
}
