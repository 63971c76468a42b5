// The whole backend of one stage (cell): network, location cache, stream, tables, user pool, the
// Lambda functions named in functions/routes.ts, both APIs and their monitoring.
import { CfnOutput, Duration, Stack, type StackProps } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { StartingPosition } from "aws-cdk-lib/aws-lambda";
import {
  KinesisConsumerEventSource,
  KinesisEventSource,
  SqsDlq,
} from "aws-cdk-lib/aws-lambda-event-sources";
import type { Construct } from "constructs";
import {
  AUTHORIZER_ENTRY,
  HTTP_ROUTES,
  SHARE_EXPIRY_ENTRY,
  STREAM_CONSUMERS,
  WS_ROUTES,
} from "../functions/routes.ts";
import type { StageConfig } from "./config.ts";
import { DataTables } from "./constructs/data-tables.ts";
import { DeadLetterQueue } from "./constructs/dead-letter-queue.ts";
import {
  type HouseEntry,
  HouseFunction,
  POST_CONFIRMATION_ENTRY,
} from "./constructs/house-function.ts";
import { HttpRoutesApi } from "./constructs/http-api.ts";
import { LocationCache } from "./constructs/location-cache.ts";
import { LocationStream } from "./constructs/location-stream.ts";
import { Monitoring } from "./constructs/monitoring.ts";
import { Network } from "./constructs/network.ts";
import { ShareExpiry } from "./constructs/share-expiry.ts";
import { ACCESS_TOKEN_SCOPE, UserAuth } from "./constructs/user-auth.ts";
import { RealtimeApi } from "./constructs/websocket-api.ts";
import { FUNCTION_NEEDS } from "./function-needs.ts";
import {
  REDIS_SECRET_ACTIONS,
  STREAM_PUBLISH_ACTIONS,
  type TableNeed,
  tableActions,
  useBlocksTable,
  useConnectionsApi,
  useFriendshipsTable,
  useHistoryTable,
  useLocationStream,
  useRedis,
  useShareLinkCreation,
  useShareLinksTable,
  useTunables,
  useUserPool,
  useUsersTable,
} from "./grants.ts";
import { STREAM_CONSUMER_SETTINGS, type StreamConsumerSettings } from "./stream-consumers.ts";

export interface NearbyFriendsStackProps extends StackProps {
  readonly config: StageConfig;
}

/** Every distinct Lambda entry: one function each, however many routes it serves. */
export const ALL_ENTRIES: readonly HouseEntry[] = [
  ...new Set<HouseEntry>([
    AUTHORIZER_ENTRY,
    ...Object.values(WS_ROUTES),
    ...Object.values(HTTP_ROUTES),
    ...Object.values(STREAM_CONSUMERS),
    SHARE_EXPIRY_ENTRY,
    POST_CONFIRMATION_ENTRY,
  ]),
];

/** An event-source mapping's settings (lib/stream-consumers.ts) as the CDK takes them. */
const eventSourceProps = (s: StreamConsumerSettings) => ({
  startingPosition: StartingPosition[s.startingPosition],
  bisectBatchOnError: s.bisectBatchOnError,
  reportBatchItemFailures: s.reportBatchItemFailures,
  retryAttempts: s.retryAttempts,
  batchSize: s.batchSize,
  maxBatchingWindow: Duration.seconds(s.maxBatchingWindowS),
  ...(s.maxRecordAgeS === undefined ? {} : { maxRecordAge: Duration.seconds(s.maxRecordAgeS) }),
});

const pascal = (entry: string): string =>
  entry
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");

export class NearbyFriendsStack extends Stack {
  readonly functions: ReadonlyMap<HouseEntry, HouseFunction>;

  constructor(scope: Construct, id: string, props: NearbyFriendsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { namePrefix, retainData } = config;

    const network = new Network(this, "Network", {
      namePrefix,
      natGateways: config.natGateways,
      retainLogs: retainData,
    });
    const cache = new LocationCache(this, "LocationCache", {
      namePrefix,
      vpc: network.vpc,
      nodeType: config.cacheNodeType,
      numNodeGroups: config.cacheNumNodeGroups,
      replicasPerNodeGroup: config.cacheReplicasPerNodeGroup,
      retainData,
    });
    network.allowEndpointsFrom(cache.clientSecurityGroup);
    const tables = new DataTables(this, "Tables", {
      namePrefix,
      retainData,
      historyPitr: config.historyPitr,
    });
    const locationStream = new LocationStream(this, "LocationEvents", {
      namePrefix,
      stage: config.stage,
      shards: config.shards,
      retainData,
    });

    const functions = new Map<HouseEntry, HouseFunction>();
    for (const entry of ALL_ENTRIES) {
      const needs = FUNCTION_NEEDS[entry];
      const fn = new HouseFunction(this, pascal(entry), {
        entry,
        namePrefix,
        stage: config.stage,
        description: needs.description,
        tracing: needs.tracing ?? true,
        retainLogs: retainData,
        logFormat: config.logFormat,
        logLevel: config.logLevel,
        systemLogLevel: config.systemLogLevel,
        ...(needs.memorySize === undefined ? {} : { memorySize: needs.memorySize }),
        ...(needs.timeout === undefined ? {} : { timeout: needs.timeout }),
        ...(needs.redis
          ? { network: { vpc: network.vpc, securityGroups: [cache.clientSecurityGroup] } }
          : {}),
      });
      if (needs.redis) useRedis(fn, cache);
      if (needs.stream) useLocationStream(fn, locationStream.stream, needs.stream);
      if (needs.users) useUsersTable(fn, tables.users, needs.users);
      if (needs.friendships) useFriendshipsTable(fn, tables.friendships, needs.friendships);
      if (needs.history) useHistoryTable(fn, tables.history, needs.history);
      if (needs.shareLinks || needs.shareTokenLookup)
        useShareLinksTable(fn, tables.shareLinks, needs.shareLinks ?? [], needs.shareTokenLookup);
      if (needs.blocks) useBlocksTable(fn, tables.blocks, needs.blocks);
      if (needs.tunables) useTunables(fn, config.tunables);
      functions.set(entry, fn);
    }
    this.functions = functions;

    // The endpoints carry what the functions in the VPC (the Redis users) call, on this stage's
    // resources, and nothing else: the union of those functions' grants.
    const inVpc = ALL_ENTRIES.filter((entry) => FUNCTION_NEEDS[entry].redis).map(
      (entry) => FUNCTION_NEEDS[entry],
    );
    const tableUse: [ITable, TableNeed[]][] = [
      [tables.users, inVpc.flatMap((n) => (n.users ? [n.users] : []))],
      [tables.friendships, inVpc.flatMap((n) => (n.friendships ? [n.friendships] : []))],
      [tables.history, inVpc.flatMap((n) => (n.history ? [n.history] : []))],
      [tables.shareLinks, inVpc.flatMap((n) => (n.shareLinks ? [n.shareLinks] : []))],
      [tables.blocks, inVpc.flatMap((n) => (n.blocks ? [n.blocks] : []))],
    ];
    for (const [table, needs] of tableUse) {
      const actions = [...new Set(needs.flatMap(tableActions))];
      network.allowThroughEndpoint("dynamodb", actions, [table.tableArn]);
    }
    if (inVpc.some((n) => n.stream === "publish")) {
      network.allowThroughEndpoint(
        "kinesis",
        [...STREAM_PUBLISH_ACTIONS],
        [locationStream.stream.streamArn],
      );
    }
    network.allowThroughEndpoint(
      "secretsmanager",
      [...REDIS_SECRET_ACTIONS],
      [cache.authSecret.secretArn],
    );
    const fn = (entry: HouseEntry): HouseFunction => {
      const found = functions.get(entry);
      if (!found) throw new Error(`no function for entry ${entry}`);
      return found;
    };

    const auth = new UserAuth(this, "Auth", {
      namePrefix,
      retainData,
      postConfirmation: fn(POST_CONFIRMATION_ENTRY),
      ...(config.sesFromEmail === undefined
        ? {}
        : {
            sesSender: {
              fromEmail: config.sesFromEmail,
              ...(config.sesVerifiedDomain === undefined
                ? {}
                : { verifiedDomain: config.sesVerifiedDomain }),
            },
          }),
    });
    for (const [entry, f] of functions) {
      if (FUNCTION_NEEDS[entry].userPool) useUserPool(f, auth.userPool, auth.client);
    }

    const realtime = new RealtimeApi(this, "WebSocket", {
      namePrefix,
      stageName: config.stage,
      routes: Object.fromEntries(
        Object.entries(WS_ROUTES).map(([routeKey, entry]) => [routeKey, fn(entry)]),
      ),
      authorizer: fn(AUTHORIZER_ENTRY),
      throttle: config.wsThrottle,
      retainLogs: retainData,
      accessLogs: config.accessLogs,
      detailedMetrics: config.detailedMetrics,
      createAccountLogRole: config.apiGatewayAccountRole,
      accessLogsEnabled: config.webSocketAccessLogs,
    });
    for (const [entry, f] of functions) {
      const need = FUNCTION_NEEDS[entry].connections;
      if (need) useConnectionsApi(f, realtime.stage, need === true ? "post" : need);
    }

    const http = new HttpRoutesApi(this, "Http", {
      namePrefix,
      routes: Object.fromEntries(
        Object.entries(HTTP_ROUTES).map(([routeKey, entry]) => [routeKey, fn(entry)]),
      ),
      issuer: auth.issuer,
      audience: [auth.client.userPoolClientId],
      scopes: [ACCESS_TOKEN_SCOPE],
      throttle: config.httpThrottle,
      retainLogs: retainData,
      accessLogs: config.accessLogs,
      detailedMetrics: config.detailedMetrics,
      corsOrigins: config.webOrigins,
    });

    // Share links open the stage's live map; without a configured page, the HTTP API's /map path.
    const shareLinkBaseUrl = config.shareLinkBaseUrl ?? `${http.stage.url}map`;
    for (const [entry, f] of functions) {
      if (FUNCTION_NEEDS[entry].createsShareLinks) useShareLinkCreation(f, shareLinkBaseUrl);
    }
    const shareExpiry = new ShareExpiry(this, "ShareLinkExpiry", {
      namePrefix,
      table: tables.shareLinks,
      expire: fn(SHARE_EXPIRY_ENTRY),
      retainLogs: retainData,
    });

    const fanoutDlq = new DeadLetterQueue(this, "FanoutDlq", {
      queueName: `${namePrefix}-fanout-dlq`,
    });
    const historyDlq = new DeadLetterQueue(this, "HistoryDlq", {
      queueName: `${namePrefix}-history-dlq`,
    });
    const fanout = fn(STREAM_CONSUMERS.fanout);
    fanout.addEventSource(
      new KinesisConsumerEventSource(locationStream.fanoutConsumer, {
        ...eventSourceProps(STREAM_CONSUMER_SETTINGS.fanout),
        parallelizationFactor: config.parallelizationFactor,
        onFailure: new SqsDlq(fanoutDlq.queue),
      }),
    );
    const history = fn(STREAM_CONSUMERS.history);
    history.addEventSource(
      new KinesisEventSource(locationStream.stream, {
        ...eventSourceProps(STREAM_CONSUMER_SETTINGS.history),
        onFailure: new SqsDlq(historyDlq.queue),
      }),
    );

    new Monitoring(this, "Monitoring", {
      namePrefix,
      stage: config.stage,
      functions: [...functions.values()],
      consumers: [
        { name: "fanout", fn: fanout, maxIteratorAge: Duration.seconds(10) },
        { name: "history", fn: history, maxIteratorAge: Duration.minutes(5) },
      ],
      deadLetterQueues: [
        { name: "fanout", queue: fanoutDlq.queue },
        { name: "history", queue: historyDlq.queue },
      ],
      workflows: [{ name: "share-expiry", machine: shareExpiry.stateMachine }],
      webSocket: { apiId: realtime.api.apiId, stageName: realtime.stage.stageName },
      httpApi: http.api,
      cacheNodeIds: cache.nodeIds(),
      alarmEmail: config.alarmEmail,
    });

    new CfnOutput(this, "WebSocketUrl", {
      value: realtime.stage.url,
      description: "wss:// URL; pass ?token=<jwt>",
    });
    new CfnOutput(this, "HttpApiUrl", { value: http.stage.url, description: "HTTP API base URL" });
    new CfnOutput(this, "UserPoolId", { value: auth.userPool.userPoolId });
    new CfnOutput(this, "UserPoolClientId", { value: auth.client.userPoolClientId });
    new CfnOutput(this, "Region", { value: this.region });
  }
}
