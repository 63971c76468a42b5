// Alarms on what stops location updates from reaching friends (function errors and throttles,
// consumer lag, dead-lettered batches, API errors, cache saturation, and the functions' own
// metrics: fan-out lag, failed records, gone connections, clients told a dependency is down), an
// encrypted SNS topic for their actions, and one dashboard per stage.
import { ArnFormat, Duration, Stack } from "aws-cdk-lib";
import type { IHttpApi } from "aws-cdk-lib/aws-apigatewayv2";
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import { PolicyStatement, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import {
  type AppMetricName,
  METRICS_NAMESPACE,
  SERVICE_NAME,
} from "../../functions/metric-names.ts";
import { removalPolicyFor } from "../retention.ts";
import type { HouseFunction } from "./house-function.ts";

export interface StreamConsumerWatch {
  readonly name: string;
  readonly fn: IFunction;
  /** Alarm when the oldest record a batch delivers is older than this. */
  readonly maxIteratorAge: Duration;
}

export interface MonitoringProps {
  readonly namePrefix: string;
  /** The `stage` dimension of the application metrics. */
  readonly stage: string;
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

/**
 * Every alarm of a stage is named `<namePrefix>.<alarm>`. The dot cannot occur in a stage name
 * (config.ts), so `<namePrefix>.*` matches this stage's alarms and not those of a stage whose
 * name merely starts with this one's (`prod` and `prod-eu`): the alarm topic admits exactly these.
 */
export const alarmNamePrefix = (namePrefix: string): string => `${namePrefix}.`;

/**
 * Fan-out lag p99 (ms), over three consecutive minutes. Friends should see a move within a second
 * or two; at 5 s the map visibly trails reality (the fan-out never drops a latest position for age,
 * so a backlog shows here). Three minutes keep a single slow batch or cold start quiet.
 */
const FANOUT_LAG_P99_MS = 5_000;
/**
 * Stream records reported as batch item failures in 5 min. A failed record is retried (and the
 * batch bisected) before it is dead-lettered, so a few are transient; ten mean a consumer is
 * failing steadily, minutes before its dead-letter alarm fires.
 */
const FAILED_RECORDS = 10;
/**
 * Connections the Management API reported gone in 5 min. Some always are (a phone loses its network
 * and the push lands before $disconnect has cleaned up); a thousand means API Gateway is dropping
 * clients wholesale. Raise it for a stage whose normal churn comes near.
 */
const GONE_CONNECTIONS = 1_000;
/**
 * `unavailable` error replies in 5 min: each one is a client told that a dependency (Redis, the
 * stream, a table) failed. Twenty is past the odd timeout and failover blip.
 */
const CLIENT_UNAVAILABLE = 20;

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
      // The topic stores nothing and goes with the stack in every stage (it has no removal policy
      // of its own): its key goes too, as removalPolicyFor(false) would have it.
      removalPolicy: removalPolicyFor(false),
    });
    this.topic = new Topic(this, "AlarmTopic", {
      topicName: `${props.namePrefix}-alarms`,
      displayName: `Nearby Friends alarms (${props.namePrefix})`,
      masterKey: key,
      // The topic policy this adds (a Deny of plain HTTP) replaces SNS's default policy, so that
      // without the Allow below no service could publish.
      enforceSSL: true,
    });

    // CloudWatch publishes this stage's alarm notifications, and only those (confused deputy):
    // sns:Publish on the topic, and the data key it needs from the topic's key.
    const stack = Stack.of(this);
    const cloudWatch = new ServicePrincipal("cloudwatch.amazonaws.com");
    const fromThisStagesAlarms = {
      StringEquals: { "aws:SourceAccount": stack.account },
      ArnLike: {
        "aws:SourceArn": stack.formatArn({
          service: "cloudwatch",
          resource: "alarm",
          resourceName: `${alarmNamePrefix(props.namePrefix)}*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        sid: "AllowThisStagesAlarms",
        principals: [cloudWatch],
        actions: ["sns:Publish"],
        resources: [this.topic.topicArn],
        conditions: fromThisStagesAlarms,
      }),
    );
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: "AllowThisStagesAlarmsToPublish",
        principals: [cloudWatch],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        conditions: fromThisStagesAlarms,
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    this.action = new SnsAction(this.topic);

    /** A metric the functions emit (Powertools EMF): its namespace and dimensions, in one place. */
    const appMetric = (
      name: AppMetricName,
      statistic: string,
      extraDims: Record<string, string> = {},
    ): Metric =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: name,
        dimensionsMap: { service: SERVICE_NAME, stage: props.stage, ...extraDims },
        statistic,
        period: PERIOD,
      });

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

    this.alarm(
      "fanout-lag-p99",
      appMetric("FanoutLagMs", "p99").with({ period: Duration.minutes(1) }),
      FANOUT_LAG_P99_MS,
      `friends receive moves more than ${FANOUT_LAG_P99_MS} ms late (fan-out lag p99, 3 minutes running)`,
      3,
    );
    this.alarm(
      "failed-records",
      appMetric("FailedRecords", "Sum"),
      FAILED_RECORDS,
      "stream consumers keep reporting records they could not process (batch item failures)",
    );
    this.alarm(
      "gone-connections",
      appMetric("GoneConnections", "Sum"),
      GONE_CONNECTIONS,
      "many pushes found their connection gone: API Gateway may be dropping clients",
    );
    this.alarm(
      "client-errors-unavailable",
      appMetric("ClientErrors", "Sum", { code: "unavailable" }),
      CLIENT_UNAVAILABLE,
      "clients receive `unavailable` errors: a dependency (Redis, Kinesis, DynamoDB) is failing",
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
    const graph = (title: string, left: IMetric[], right: IMetric[] = []) =>
      new GraphWidget({ title, left, right, width: 12, height: 6 });
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

    const sum = (name: AppMetricName) => appMetric(name, "Sum").with({ label: name });
    this.dashboard.addWidgets(
      graph("Locations: received, published, filtered, shed under overload", [
        sum("LocationsReceived"),
        sum("LocationsPublished"),
        sum("LocationsFiltered"),
        sum("LocationsShed"),
      ]),
      graph(
        "Fan-out: records, pushes, friend updates (right: updates per push)",
        [sum("FanoutRecords"), sum("FanoutPushes"), sum("FanoutFriendUpdates")],
        [
          new MathExpression({
            expression: "updates / pushes",
            usingMetrics: {
              updates: appMetric("FanoutFriendUpdates", "Sum"),
              pushes: appMetric("FanoutPushes", "Sum"),
            },
            label: "friend updates per push (coalescing)",
            period: PERIOD,
          }),
        ],
      ),
    );
    this.dashboard.addWidgets(
      graph("Fan-out lag (ms): record's server time to push", [
        appMetric("FanoutLagMs", "p50").with({ label: "p50" }),
        appMetric("FanoutLagMs", "p99").with({ label: "p99" }),
      ]),
      graph("Gone connections, failed records, stale records dropped", [
        sum("GoneConnections"),
        sum("FailedRecords"),
        sum("FanoutStaleDropped"),
      ]),
      graph("Reporting cadences decided anew (first or changed)", [sum("CadenceChanges")]),
    );
    this.dashboard.addWidgets(
      graph("Client errors by code", [
        new MathExpression({
          // One series per `code` value that occurred, without listing the codes here.
          expression: `SEARCH('{${METRICS_NAMESPACE},code,service,stage} MetricName="ClientErrors" service="${SERVICE_NAME}" stage="${props.stage}"', 'Sum', ${PERIOD.toSeconds()})`,
          usingMetrics: {},
          // biome-ignore lint/suspicious/noTemplateCurlyInString: a CloudWatch dynamic label (each series named after its code), not a template.
          label: "${PROP('Dim.code')}",
          period: PERIOD,
        }),
      ]),
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
      alarmName: `${alarmNamePrefix(this.namePrefix)}${name}`,
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
