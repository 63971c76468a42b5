// The WebSocket API: a Lambda authorizer on $connect (a user's token or a share link's in the query
// string), one route per
// entry of routes.ts, two-way so that route replies reach the client, and a throttled, logged stage.
import { RemovalPolicy, Validations } from "aws-cdk-lib";
import { CfnAccount } from "aws-cdk-lib/aws-apigateway";
import { WebSocketApi, WebSocketStage } from "aws-cdk-lib/aws-apigatewayv2";
import { WebSocketLambdaAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { WebSocketLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { ManagedPolicy, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import type { Throttle } from "../config.ts";
import type { AccessLogs } from "../profiles.ts";
import { accessLogSettings } from "./access-logs.ts";

export interface RealtimeApiProps {
  readonly namePrefix: string;
  readonly stageName: string;
  /** Route key → the function serving it; must hold `$connect`, `$disconnect` and `$default`. */
  readonly routes: Readonly<Record<string, IFunction>>;
  readonly authorizer: IFunction;
  readonly throttle: Throttle;
  readonly retainLogs: boolean;
  /**
   * The access-log format: one line per frame, so on the bill at the frame rate.
   * @default "full"
   */
  readonly accessLogs?: AccessLogs;
  /**
   * Per-route metrics (custom metrics on the bill).
   * @default false
   */
  readonly detailedMetrics?: boolean;
  /** Set the account's API Gateway CloudWatch role (required once per account and region for WebSocket logs). */
  readonly createAccountLogRole: boolean;
  /**
   * Access logs of the stage. A WebSocket stage with logging deploys only in an account whose API
   * Gateway settings name a CloudWatch role (`createAccountLogRole`, or set outside this stack):
   * "CloudWatch Logs role ARN must be set in account settings to enable logging".
   */
  readonly accessLogsEnabled: boolean;
}

/** The access-log fields of each format (the cost estimate sizes a line from them). */
export const WS_ACCESS_LOG_FIELDS: Readonly<Record<AccessLogs, Readonly<Record<string, string>>>> =
  {
    full: {
      requestId: "$context.requestId",
      extendedRequestId: "$context.extendedRequestId",
      connectionId: "$context.connectionId",
      routeKey: "$context.routeKey",
      eventType: "$context.eventType",
      status: "$context.status",
      requestTime: "$context.requestTimeEpoch",
      ip: "$context.identity.sourceIp",
      principalId: "$context.authorizer.principalId",
      error: "$context.error.message",
      authorizerError: "$context.authorizer.error",
      integrationStatus: "$context.integration.status",
      integrationError: "$context.integration.error",
      integrationLatency: "$context.integration.latency",
    },
    // Enough to follow a frame and see why it failed; the event's own timestamp stands in for
    // requestTime, and no IP address or user id is copied into the logs.
    trimmed: {
      requestId: "$context.requestId",
      connectionId: "$context.connectionId",
      routeKey: "$context.routeKey",
      status: "$context.status",
      error: "$context.error.message",
      integrationError: "$context.integration.error",
      integrationLatency: "$context.integration.latency",
    },
  };

/** Route keys whose integration reply is sent to the client (not the handshake nor the close). */
const twoWay = (routeKey: string): boolean => routeKey !== "$connect" && routeKey !== "$disconnect";

export class RealtimeApi extends Construct {
  readonly api: WebSocketApi;
  readonly stage: WebSocketStage;

  constructor(scope: Construct, id: string, props: RealtimeApiProps) {
    super(scope, id);
    const {
      $connect: connect,
      $disconnect: disconnect,
      $default: fallback,
      ...custom
    } = props.routes;
    if (!connect || !disconnect || !fallback)
      throw new Error("the WebSocket routes need $connect, $disconnect and $default");

    const integration = (routeKey: string, fn: IFunction) =>
      new WebSocketLambdaIntegration(`${routeKey.replace(/\W/g, "")}Integration`, fn);

    this.api = new WebSocketApi(this, "Api", {
      apiName: `${props.namePrefix}-ws`,
      description: "Nearby Friends real-time API (PROTOCOL.md §2)",
      routeSelectionExpression: "$request.body.action",
      connectRouteOptions: {
        integration: integration("$connect", connect),
        authorizer: new WebSocketLambdaAuthorizer("TokenAuthorizer", props.authorizer, {
          authorizerName: `${props.namePrefix}-token`,
          // None: a user's handshake carries `token`, a share-link viewer's `share`, and API
          // Gateway refuses (401) a handshake missing any configured identity source before the
          // authorizer runs. The authorizer refuses one with neither. WebSocket authorizers are
          // never cached, so every handshake is checked afresh (a revoked link at once).
          identitySource: [],
        }),
      },
      disconnectRouteOptions: { integration: integration("$disconnect", disconnect) },
      defaultRouteOptions: {
        integration: integration("$default", fallback),
        returnResponse: twoWay("$default"),
      },
    });
    for (const [routeKey, fn] of Object.entries(custom)) {
      this.api.addRoute(routeKey, {
        integration: integration(routeKey, fn),
        returnResponse: twoWay(routeKey),
      });
    }

    this.stage = new WebSocketStage(this, "Stage", {
      webSocketApi: this.api,
      stageName: props.stageName,
      autoDeploy: true,
      throttle: props.throttle,
      detailedMetricsEnabled: props.detailedMetrics ?? false,
      // No execution logging (per-route logging level) either way: it would need the same account
      // role and logs frame payloads (positions); access logs carry what an operator needs.
      ...(props.accessLogsEnabled
        ? {
            accessLogSettings: accessLogSettings(this, {
              logGroupName: `/nearby-friends/${props.namePrefix}/ws-access`,
              retain: props.retainLogs,
              fields: WS_ACCESS_LOG_FIELDS[props.accessLogs ?? "full"],
            }),
          }
        : {}),
    });
    if (!props.accessLogsEnabled) {
      Validations.of(this.stage).acknowledge({
        id: "AwsSolutions-APIG1",
        reason:
          "WebSocket access logs need the account-wide API Gateway CloudWatch role, which this stage neither has nor creates (context apiGatewayAccountRole / webSocketAccessLogs); the functions' logs, the stage's metrics and alarms still cover every route.",
      });
    }

    if (props.createAccountLogRole) {
      // WebSocket (unlike HTTP) APIs write logs through the account-wide API Gateway role. It is
      // retained: other stages deployed to the same account and region rely on it too.
      const role = new Role(this, "AccountLogRole", {
        assumedBy: new ServicePrincipal("apigateway.amazonaws.com"),
        managedPolicies: [
          ManagedPolicy.fromAwsManagedPolicyName(
            "service-role/AmazonAPIGatewayPushToCloudWatchLogs",
          ),
        ],
      });
      role.applyRemovalPolicy(RemovalPolicy.RETAIN);
      const account = new CfnAccount(this, "Account", { cloudWatchRoleArn: role.roleArn });
      account.applyRemovalPolicy(RemovalPolicy.RETAIN);
      this.stage.node.addDependency(account);
      Validations.of(role).acknowledge({
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        reason:
          "AmazonAPIGatewayPushToCloudWatchLogs is the documented policy of the account-level API Gateway logging role; it must cover every API's log groups in the account.",
      });
    }

    Validations.of(this.api).acknowledge({
      id: "AwsSolutions-APIG4",
      reason:
        "WebSocket APIs authorize only $connect (a Lambda authorizer verifying the Cognito token); every other route runs on that authorized connection.",
    });
  }
}
