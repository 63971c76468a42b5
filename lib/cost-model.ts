// The monthly bill of one stage, estimated from the settings the stack is built from (a StageConfig,
// the functions' needs, the access-log formats) and a workload, at the list prices of
// lib/prices.ts. Pure arithmetic: `npm run cost` prints it, the tests check it by hand.
//
// Quantities come from the workload and the stack's settings; where the code's behaviour is not a
// setting (a function's duration, the bytes of a request on the wire), a named constant below holds
// an estimate and says so. A month is 730 hours, as AWS prices it.
import { DEFAULT_TUNABLES } from "../functions/config.ts";
import { slowCadenceS } from "../functions/domain/cadence.ts";
import { APP_METRICS, METRICS_NAMESPACE } from "../functions/metric-names.ts";
import { AUTHORIZER_ENTRY, HTTP_ROUTES, STREAM_CONSUMERS, WS_ROUTES } from "../functions/routes.ts";
import type { StageConfig } from "./config.ts";
import { DEFAULT_MEMORY_SIZE, type HouseEntry } from "./constructs/house-function.ts";
import { HTTP_ACCESS_LOG_FIELDS } from "./constructs/http-api.ts";
import { WS_ACCESS_LOG_FIELDS } from "./constructs/websocket-api.ts";
import { FUNCTION_NEEDS } from "./function-needs.ts";
import { CACHE_NODE_HOURLY, costOf, PRICES, type Price } from "./prices.ts";
import type { LogFormat, SystemLogLevel } from "./profiles.ts";
import { STREAM_CONSUMER_SETTINGS } from "./stream-consumers.ts";

export const HOURS_PER_MONTH = 730;
const SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600;
const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;
const GB = 2 ** 30;

// --- What the stack deploys, as counted by the template (test/cdk/cost-model.test.ts checks them).

/** The VPC spans two AZs (lib/constructs/network.ts `maxAzs`). */
export const AZS = 2;
/** Kinesis Streams and Secrets Manager (lib/constructs/network.ts). */
export const INTERFACE_ENDPOINTS = 2;
/** The stream's key and the alarm topic's key. */
export const KMS_KEYS = 2;
/** The cache's AUTH token. */
export const SECRETS = 1;
export const DASHBOARDS = 1;
/** Alarms that do not scale with functions or cache nodes (lib/constructs/monitoring.ts). */
const FIXED_ALARMS =
  2 /* consumers' iterator age */ +
  2 /* dead-letter queues */ +
  1 /* share-expiry workflow failures */ +
  3 /* WebSocket execution and integration errors, HTTP 5xx */ +
  4; /* fan-out lag, failed records, gone connections, `unavailable` replies */
const ALARMS_PER_FUNCTION = 2; // errors, throttles
const ALARMS_PER_CACHE_NODE = 2; // CPU, memory

// --- Estimates of how the code behaves (not settings).

/** Warm duration of one invocation (ms) on ARM at the function's memory: estimates. */
export const DURATION_MS: Readonly<Partial<Record<HouseEntry, number>>> = {
  "ws-authorizer": 25,
  "ws-connect": 15,
  "ws-init": 60,
  "ws-location": 20,
  "ws-disconnect": 20,
  "ws-ping": 5,
  "http-profile": 30,
  "http-friends": 40,
  "http-settings": 30,
  "http-history": 40,
  "http-blocks": 40,
  "http-share-links": 40,
  "ws-nearby-people": 60,
  "ws-nearby-friends": 40,
  "share-expiry": 30,
};
/** Fan-out batch: reads and planning, then the pushes, `postConcurrency` at a time. */
const FANOUT_BASE_MS = 30;
const POST_MS = 25;
/** History batch: decoding, then one BatchWriteItem of 25 items after another. */
const HISTORY_BASE_MS = 20;
const BATCH_WRITE_MS = 15;
/**
 * The event-source mappings' batching (lib/stream-consumers.ts). The fan-out's window
 * is 0: a busy shard's invocations follow each other, so a batch gathers what arrived while the
 * previous one ran; at least this long, about one batch's duration (FANOUT_BASE_MS + the posts).
 */
const FANOUT_MIN_CYCLE_S = 0.25;
const FANOUT_WINDOW_S = Math.max(
  STREAM_CONSUMER_SETTINGS.fanout.maxBatchingWindowS,
  FANOUT_MIN_CYCLE_S,
);
const HISTORY_WINDOW_S = STREAM_CONSUMER_SETTINGS.history.maxBatchingWindowS;
/** An on-demand stream starts at 4 MB/s of writes (four shards' worth) and keeps it. */
const ON_DEMAND_MIN_SHARDS = 4;
const SHARD_RECORDS_PER_S = 1000;
const SHARD_BYTES_PER_S = 1024 * 1024;

/** API Gateway closes a WebSocket connection after 2 hours: a client reconnects (and re-inits). */
const MAX_CONNECTION_HOURS = 2;
/** Clients send a frame at least every 5 minutes (a `ping` when there is nothing else). */
const PING_EVERY_S = 300;
const INIT_REPLY_BYTES = 1000;
const PONG_BYTES = 80;
/** WebSocket and TLS framing of a message on its way to the client. */
const WS_FRAME_OVERHEAD_BYTES = 30;

/** A PostToConnection through the NAT: request line, SigV4 headers, response, TLS, TCP/IP. */
const POST_OVERHEAD_BYTES = 1350;
/** A PutRecord through the Kinesis endpoint: headers, base64 body, response with its sequence. */
const PUT_RECORD_OVERHEAD_BYTES = 1400;
/** Redis traffic (requests and replies): the frame gate and the location script per frame; the
 * audience and viewers' positions per push. Half of it crosses AZs to the shard's primary. */
const REDIS_BYTES_PER_FRAME = 1500;
const REDIS_BYTES_PER_PUSH = 300;

/** A history item as stored: attributes plus DynamoDB's 100 bytes of per-item overhead. */
const HISTORY_ITEM_BYTES = 300;
/** Read units per session (friend list, settings) and per HTTP request. */
const READS_PER_SESSION = 2;
const READS_PER_HTTP_REQUEST = 1;

/** Lambda's own lines per invocation: START, END and REPORT in text; start and report as JSON
 * events; an X-Ray line more when traced. WARN keeps none of them. */
const PLATFORM_TEXT_BYTES = 270;
const PLATFORM_JSON_BYTES = 360;
const PLATFORM_TRACE_BYTES = 110;
/** One EMF line (Powertools Metrics, flushed per invocation when it counted something). */
const EMF_LINE_BYTES = 312;
/** The fan-out's EMF line: five counts and one `FanoutLagMs` value per record. */
const FANOUT_EMF_BASE_BYTES = 520;
const FANOUT_EMF_BYTES_PER_RECORD = 14;
/** Stored logs are compressed, about this much; they are kept one month. */
const LOG_COMPRESSION = 0.15;
/** VPC flow logs: records per open connection per hour (10-minute aggregation, both ENIs, both
 * directions) and their size; each execution environment holds about this many connections. */
const FLOW_RECORDS_PER_CONNECTION_HOUR = 24;
const FLOW_RECORD_BYTES = 130;
const CONNECTIONS_PER_ENVIRONMENT = 4;

/** Lambda's default sampling under active tracing: 1 request a second, then 5 % of the rest. */
const XRAY_RESERVOIR_PER_S = 1;
const XRAY_RATE = 0.05;
/** Kinesis re-uses a data key about 5 minutes per producer and consumer: KMS calls per hour. */
const KMS_CALLS_PER_CLIENT_HOUR = 12;
/** Cold starts (each reads the Redis AUTH token) per execution environment per hour. */
const COLD_STARTS_PER_ENVIRONMENT_HOUR = 0.5;
/** Error codes clients see in a month, each a `ClientErrors` metric of its own. */
const CLIENT_ERROR_CODES_SEEN = 3;
/** Per-route metrics API Gateway publishes with detailed metrics on. */
const WS_METRICS_PER_ROUTE = 5;
const HTTP_METRICS_PER_ROUTE = 6;

/** Sample values of the access-log variables, to size a line of a format. */
const ACCESS_LOG_SAMPLES: Readonly<Record<string, string>> = {
  "$context.requestId": "KjXl2GgBoAMEc8Q=",
  "$context.extendedRequestId": "KjXl2GgBoAMEc8Q=",
  "$context.connectionId": "KjXlzcx5oAMCKmg=",
  "$context.routeKey": "location",
  "$context.eventType": "MESSAGE",
  "$context.status": "200",
  "$context.requestTimeEpoch": "1764622800123",
  "$context.responseLatency": "25",
  "$context.identity.sourceIp": "203.0.113.45",
  "$context.identity.userAgent": "NearbyFriends/1.4.2 (iPhone; iOS 18.1)",
  "$context.authorizer.principalId": "3f1c2b9e-8a7d-4e21-9c55-0d6b1a2f7e34",
  "$context.authorizer.claims.sub": "3f1c2b9e-8a7d-4e21-9c55-0d6b1a2f7e34",
  "$context.authorizer.error": "-",
  "$context.error.message": "-",
  "$context.integration.status": "200",
  "$context.integration.error": "-",
  "$context.integration.latency": "18",
};

/** The bytes of one access-log line of a format (a JSON object of `$context` variables). */
export function accessLogLineBytes(fields: Readonly<Record<string, string>>): number {
  const line = Object.fromEntries(
    Object.entries(fields).map(([key, variable]) => {
      const sample = ACCESS_LOG_SAMPLES[variable];
      if (sample === undefined) throw new Error(`no sample value for access-log field ${variable}`);
      return [key, sample];
    }),
  );
  return Buffer.byteLength(JSON.stringify(line));
}

/** What the bill depends on in a stage's settings. */
export interface Deployment {
  readonly natGateways: number;
  /** Provisioned shard count; undefined: on-demand. */
  readonly shards: number | undefined;
  readonly parallelizationFactor: number;
  readonly cacheNodeType: string;
  readonly cacheNodes: number;
  readonly logFormat: LogFormat;
  readonly systemLogLevel: SystemLogLevel;
  readonly wsAccessLogBytes: number;
  readonly httpAccessLogBytes: number;
  readonly detailedMetrics: boolean;
  readonly historyPitr: boolean;
  readonly functions: Readonly<Record<HouseEntry, { memoryMb: number; tracing: boolean }>>;
  readonly alarms: number;
  readonly postConcurrency: number;
  readonly historyRetentionDays: number;
  /** The reporting cadences the server asks for (PROTOCOL §2.11), the slow one as capped. */
  readonly cadence: Cadence;
}

/** Seconds between reports a client is asked for: watched closely, and not. */
export interface Cadence {
  readonly fastS: number;
  readonly slowS: number;
}

const cadenceOf = (t: typeof DEFAULT_TUNABLES): Cadence => ({
  fastS: t.reportFastS,
  slowS: slowCadenceS(t),
});

const ENTRIES = Object.keys(FUNCTION_NEEDS) as HouseEntry[];

/** The deployment a StageConfig builds, as the estimate needs it. */
export function deploymentOf(config: StageConfig): Deployment {
  const cacheNodes = config.cacheNumNodeGroups * (config.cacheReplicasPerNodeGroup + 1);
  return {
    natGateways: config.natGateways,
    shards: config.shards,
    parallelizationFactor: config.parallelizationFactor,
    cacheNodeType: config.cacheNodeType,
    cacheNodes,
    logFormat: config.logFormat,
    systemLogLevel: config.systemLogLevel,
    // The WebSocket stage logs only with API Gateway's account role (lib/config.ts).
    wsAccessLogBytes: config.webSocketAccessLogs
      ? accessLogLineBytes(WS_ACCESS_LOG_FIELDS[config.accessLogs])
      : 0,
    httpAccessLogBytes: accessLogLineBytes(HTTP_ACCESS_LOG_FIELDS[config.accessLogs]),
    detailedMetrics: config.detailedMetrics,
    historyPitr: config.historyPitr,
    functions: Object.fromEntries(
      ENTRIES.map((entry) => [
        entry,
        {
          memoryMb: FUNCTION_NEEDS[entry].memorySize ?? DEFAULT_MEMORY_SIZE,
          tracing: FUNCTION_NEEDS[entry].tracing ?? true,
        },
      ]),
    ) as Record<HouseEntry, { memoryMb: number; tracing: boolean }>,
    alarms:
      ENTRIES.length * ALARMS_PER_FUNCTION + FIXED_ALARMS + cacheNodes * ALARMS_PER_CACHE_NODE,
    postConcurrency: config.tunables.postConcurrency,
    historyRetentionDays: config.tunables.historyRetentionDays,
    cadence: cadenceOf(config.tunables),
  };
}

/** Who uses the stage, and how. */
export interface Workload {
  /** Users connected (during their connected hours). */
  readonly users: number;
  /** Seconds between two positions the app reports while the user is connected. */
  readonly intervalS: number;
  /**
   * Share of connected time a user is watched closely (a friend near, or a share link open): the
   * client then reports every max(`intervalS`, fast cadence); the rest of the time every
   * max(`intervalS`, slow cadence) (PROTOCOL §2.11). 1: as if always watched.
   */
  readonly watchedShare: number;
  /** Friends' connections within the radius that each published position is pushed to. */
  readonly nearby: number;
  /** Hours a day each user is connected (0-24). */
  readonly hoursPerDay: number;
  /** Share of location frames the movement filter publishes (moved or heartbeat due), 0-1. */
  readonly publishedShare: number;
  /** HTTP API requests per user per day (profile, friends, settings, history). */
  readonly httpRequestsPerUserDay: number;
  /** Bytes of a `location` frame, a push (one friend update) and a stream record. */
  readonly frameBytes: number;
  readonly pushBytes: number;
  readonly recordBytes: number;
}

export const DEFAULT_WORKLOAD: Workload = {
  users: 0,
  intervalS: 30,
  watchedShare: 1,
  nearby: 3,
  hoursPerDay: 24,
  publishedShare: 1,
  httpRequestsPerUserDay: 2,
  frameBytes: 90,
  pushBytes: 180,
  recordBytes: 160,
};

export interface LineItem {
  readonly service: string;
  readonly item: string;
  /** What is billed, in the price's unit (or what the line counts). */
  readonly quantity: number;
  readonly unit: string;
  readonly usd: number;
}

export interface Estimate {
  readonly lines: readonly LineItem[];
  readonly total: number;
  /** Remarks on the estimate itself (e.g. too few provisioned shards for the load). */
  readonly notes: readonly string[];
}

/** The month's traffic a workload makes, before any price. */
export interface Traffic {
  readonly connectionMinutes: number;
  readonly sessions: number;
  readonly frames: number;
  readonly pings: number;
  readonly published: number;
  readonly records: number;
  readonly pushes: number;
  readonly httpRequests: number;
  readonly messagesIn: number;
  readonly messagesOut: number;
}

export function trafficOf(w: Workload, cadence: Cadence = cadenceOf(DEFAULT_TUNABLES)): Traffic {
  const userSeconds = w.users * (w.hoursPerDay / 24) * SECONDS_PER_MONTH;
  const sessions =
    w.users * w.hoursPerDay === 0
      ? 0
      : w.users * DAYS_PER_MONTH * Math.max(1, w.hoursPerDay / MAX_CONNECTION_HOURS);
  // Watched, a client reports at the app's pace down to the fast cadence; unwatched, at the slow one.
  const watchedEvery = Math.max(w.intervalS, cadence.fastS);
  const unwatchedEvery = Math.max(w.intervalS, cadence.slowS);
  const watched = userSeconds * w.watchedShare;
  const frames = watched / watchedEvery + (userSeconds - watched) / unwatchedEvery;
  // A client that reports less often than the keepalive sends a ping in between.
  const pings =
    (watchedEvery > PING_EVERY_S ? watched / PING_EVERY_S : 0) +
    (unwatchedEvery > PING_EVERY_S ? (userSeconds - watched) / PING_EVERY_S : 0);
  const published = frames * w.publishedShare;
  // The end of each session publishes an `offline` record, pushed as `away`.
  const records = published + sessions;
  const pushes = records * w.nearby;
  return {
    connectionMinutes: userSeconds / 60,
    sessions,
    frames,
    pings,
    published,
    records,
    pushes,
    httpRequests: w.users * w.httpRequestsPerUserDay * DAYS_PER_MONTH,
    // Frames, pings and one `init` per session in; pushes, pongs and the `init` replies out.
    messagesIn: frames + pings + sessions,
    messagesOut: pushes + pings + sessions,
  };
}

/** The month's bill of a deployment under a workload. */
export function estimateMonthly(d: Deployment, w: Workload): Estimate {
  const t = trafficOf(w, d.cadence);
  const lines: LineItem[] = [];
  const notes: string[] = [];
  const line = (service: string, item: string, price: Price, quantity: number) =>
    lines.push({ service, item, quantity, unit: price.unit, usd: costOf(price, quantity) });

  // API Gateway.
  const increments = (bytes: number) => Math.ceil(bytes / (32 * 1024));
  const messages =
    (t.frames + t.sessions) * increments(w.frameBytes) +
    t.pushes * increments(w.pushBytes) +
    t.sessions * increments(INIT_REPLY_BYTES) +
    2 * t.pings;
  line("API Gateway", "WebSocket messages (frames in, pushes out)", PRICES.wsMessages, messages);
  line(
    "API Gateway",
    "WebSocket connection minutes",
    PRICES.wsConnectionMinutes,
    t.connectionMinutes,
  );
  line("API Gateway", "HTTP API requests", PRICES.httpApiRequests, t.httpRequests);

  // The stream and its consumers' batches.
  const recordsPerS = t.records / SECONDS_PER_MONTH;
  const shardsNeeded = Math.max(
    1,
    Math.ceil(recordsPerS / SHARD_RECORDS_PER_S),
    Math.ceil((recordsPerS * w.recordBytes) / SHARD_BYTES_PER_S),
  );
  const shards = d.shards ?? Math.max(ON_DEMAND_MIN_SHARDS, shardsNeeded);
  if (d.shards !== undefined && d.shards < shardsNeeded) {
    notes.push(
      `${count(d.shards, "provisioned shard")} cannot take ${Math.round(recordsPerS)} records/s: ${shardsNeeded} needed`,
    );
  }
  const fanoutBatchesPerS = Math.min(
    recordsPerS,
    Math.max(
      (shards * d.parallelizationFactor) / FANOUT_WINDOW_S,
      recordsPerS / STREAM_CONSUMER_SETTINGS.fanout.batchSize,
    ),
  );
  const positionsPerS = t.published / SECONDS_PER_MONTH;
  const historyBatchesPerS = Math.min(
    positionsPerS,
    Math.max(shards / HISTORY_WINDOW_S, positionsPerS / STREAM_CONSUMER_SETTINGS.history.batchSize),
  );
  const recordsPerFanoutBatch = fanoutBatchesPerS > 0 ? recordsPerS / fanoutBatchesPerS : 0;
  const itemsPerHistoryBatch = historyBatchesPerS > 0 ? positionsPerS / historyBatchesPerS : 0;

  // Lambda: invocations and duration per function.
  const invocations = new Map<HouseEntry, number>();
  const durationMs = new Map<HouseEntry, number>();
  const add = (entry: HouseEntry, count: number) =>
    invocations.set(entry, (invocations.get(entry) ?? 0) + count);
  add(AUTHORIZER_ENTRY, t.sessions);
  add(WS_ROUTES.$connect, t.sessions);
  add(WS_ROUTES.init, t.sessions);
  add(WS_ROUTES.$disconnect, t.sessions);
  add(WS_ROUTES.location, t.frames);
  add(WS_ROUTES.ping, t.pings);
  const httpRouteKeys = Object.keys(HTTP_ROUTES) as (keyof typeof HTTP_ROUTES)[];
  for (const key of httpRouteKeys) add(HTTP_ROUTES[key], t.httpRequests / httpRouteKeys.length);
  add(STREAM_CONSUMERS.fanout, fanoutBatchesPerS * SECONDS_PER_MONTH);
  add(STREAM_CONSUMERS.history, historyBatchesPerS * SECONDS_PER_MONTH);
  durationMs.set(
    STREAM_CONSUMERS.fanout,
    FANOUT_BASE_MS + ((recordsPerFanoutBatch * w.nearby) / d.postConcurrency) * POST_MS,
  );
  durationMs.set(
    STREAM_CONSUMERS.history,
    HISTORY_BASE_MS + (itemsPerHistoryBatch / 25) * BATCH_WRITE_MS,
  );
  const durationOf = (entry: HouseEntry) => durationMs.get(entry) ?? DURATION_MS[entry] ?? 0;
  /** Mean execution environments busy (invocations in flight), per function. */
  const concurrencyOf = (entry: HouseEntry) =>
    ((invocations.get(entry) ?? 0) / SECONDS_PER_MONTH) * (durationOf(entry) / 1000);

  for (const [entry, count] of invocations) {
    if (count === 0) continue;
    const gbSeconds = count * (durationOf(entry) / 1000) * (d.functions[entry].memoryMb / 1024);
    lines.push({
      service: "Lambda",
      item: `${entry} (${Math.round(durationOf(entry))} ms × ${d.functions[entry].memoryMb} MB)`,
      quantity: count,
      unit: "invocation",
      usd: costOf(PRICES.lambdaRequests, count) + costOf(PRICES.lambdaArmGbSeconds, gbSeconds),
    });
  }

  // Kinesis.
  if (d.shards === undefined) {
    const gbRounded = (t.records * Math.ceil(w.recordBytes / 1024)) / (1024 * 1024);
    line("Kinesis", "on-demand stream hours", PRICES.kinesisOnDemandStreamHours, HOURS_PER_MONTH);
    line(
      "Kinesis",
      "data in (records rounded up to 1 KB)",
      PRICES.kinesisOnDemandIngest,
      gbRounded,
    );
    line("Kinesis", "read by the history writer", PRICES.kinesisOnDemandRetrieval, gbRounded);
    line(
      "Kinesis",
      "read by the fan-out (enhanced fan-out)",
      PRICES.kinesisOnDemandEfoRetrieval,
      gbRounded,
    );
  } else {
    line(
      "Kinesis",
      count(d.shards, "provisioned shard"),
      PRICES.kinesisShardHours,
      d.shards * HOURS_PER_MONTH,
    );
    line(
      "Kinesis",
      "PUT payload units (25 KB)",
      PRICES.kinesisPutPayloadUnits,
      t.records * Math.ceil(w.recordBytes / (25 * 1024)),
    );
    line(
      "Kinesis",
      "enhanced fan-out consumer-shard hours",
      PRICES.kinesisEfoConsumerShardHours,
      d.shards * HOURS_PER_MONTH,
    );
    line(
      "Kinesis",
      "read by the fan-out (enhanced fan-out)",
      PRICES.kinesisEfoRetrieval,
      (t.records * w.recordBytes) / GB,
    );
  }

  // DynamoDB: one history item per published position, kept for the retention.
  line("DynamoDB", "history writes", PRICES.dynamoWriteRequestUnits, t.published);
  line(
    "DynamoDB",
    "reads (friend lists and settings per session, HTTP API)",
    PRICES.dynamoReadRequestUnits,
    t.sessions * READS_PER_SESSION + t.httpRequests * READS_PER_HTTP_REQUEST,
  );
  const historyGb =
    (t.published * (d.historyRetentionDays / DAYS_PER_MONTH) * HISTORY_ITEM_BYTES) / GB;
  line("DynamoDB", "history storage", PRICES.dynamoStorage, historyGb);
  if (d.historyPitr)
    line("DynamoDB", "history point-in-time recovery", PRICES.dynamoPitr, historyGb);

  // ElastiCache.
  const nodeHourly = CACHE_NODE_HOURLY[d.cacheNodeType];
  if (nodeHourly === undefined) {
    throw new Error(
      `no price for cache node type ${d.cacheNodeType} in lib/prices.ts (known: ${Object.keys(CACHE_NODE_HOURLY).join(", ")})`,
    );
  }
  lines.push({
    service: "ElastiCache",
    item: `${d.cacheNodes} × ${d.cacheNodeType} (Valkey)`,
    quantity: d.cacheNodes * HOURS_PER_MONTH,
    unit: "node-hour",
    usd: d.cacheNodes * HOURS_PER_MONTH * nodeHourly,
  });

  // Network: NAT gateways carry every push; the Kinesis endpoint every PutRecord.
  const natGb = (t.pushes * (POST_OVERHEAD_BYTES + w.pushBytes)) / GB;
  line(
    "VPC",
    count(d.natGateways, "NAT gateway"),
    PRICES.natGatewayHours,
    d.natGateways * HOURS_PER_MONTH,
  );
  line("VPC", "NAT data processed (@connections pushes)", PRICES.natGatewayData, natGb);
  line(
    "VPC",
    `${INTERFACE_ENDPOINTS} interface endpoints × ${AZS} AZs`,
    PRICES.interfaceEndpointHours,
    INTERFACE_ENDPOINTS * AZS * HOURS_PER_MONTH,
  );
  line(
    "VPC",
    "endpoint data processed (PutRecord)",
    PRICES.interfaceEndpointData,
    (t.published * (PUT_RECORD_OVERHEAD_BYTES + w.recordBytes)) / GB,
  );
  // With fewer NAT gateways than AZs, the other AZs' pushes cross to reach one; half the Redis
  // traffic crosses to its shard's primary. Each GB crossing is charged on both sides.
  const natCrossing = (natGb * Math.max(0, AZS - d.natGateways)) / AZS;
  const redisCrossing =
    ((t.frames * REDIS_BYTES_PER_FRAME + t.pushes * REDIS_BYTES_PER_PUSH) / GB) * ((AZS - 1) / AZS);
  line("VPC", "cross-AZ traffic to the NAT gateway", PRICES.interAzTransfer, 2 * natCrossing);
  line("VPC", "cross-AZ traffic to the cache", PRICES.interAzTransfer, 2 * redisCrossing);
  const outBytes =
    t.pushes * (w.pushBytes + WS_FRAME_OVERHEAD_BYTES) +
    t.sessions * (INIT_REPLY_BYTES + WS_FRAME_OVERHEAD_BYTES) +
    t.pings * (PONG_BYTES + WS_FRAME_OVERHEAD_BYTES);
  line(
    "Data transfer",
    "out to the internet (pushes, replies)",
    PRICES.internetTransferOut,
    outBytes / GB,
  );

  // CloudWatch Logs: access-log lines per API request, Lambda's own lines and the EMF lines per
  // invocation, flow logs; stored (compressed) for their one-month retention.
  const routeRequests = t.frames + t.pings + 3 * t.sessions; // $connect, init, $disconnect
  const logGb = new Map<string, number>();
  logGb.set("WebSocket access logs", (routeRequests * d.wsAccessLogBytes) / GB);
  logGb.set("HTTP API access logs", (t.httpRequests * d.httpAccessLogBytes) / GB);
  let platformBytes = 0;
  for (const [entry, count] of invocations) {
    const perInvocation =
      d.logFormat === "Text"
        ? PLATFORM_TEXT_BYTES
        : d.systemLogLevel === "WARN"
          ? 0
          : PLATFORM_JSON_BYTES;
    const traced = d.functions[entry].tracing && perInvocation > 0 ? PLATFORM_TRACE_BYTES : 0;
    platformBytes += count * (perInvocation + traced);
  }
  logGb.set(`Lambda platform lines (${platformLinesLabel(d)})`, platformBytes / GB);
  const emfBytes =
    ((invocations.get(WS_ROUTES.location) ?? 0) + (invocations.get(WS_ROUTES.init) ?? 0)) *
      EMF_LINE_BYTES +
    (invocations.get(STREAM_CONSUMERS.fanout) ?? 0) *
      (FANOUT_EMF_BASE_BYTES + FANOUT_EMF_BYTES_PER_RECORD * recordsPerFanoutBatch);
  logGb.set(`EMF metric lines (${METRICS_NAMESPACE})`, emfBytes / GB);
  const vpcEnvironments = ENTRIES.filter((e) => FUNCTION_NEEDS[e].redis).reduce(
    (sum, e) => sum + ((invocations.get(e) ?? 0) > 0 ? concurrencyOf(e) + 1 : 0),
    0,
  );
  logGb.set(
    "VPC flow logs",
    (vpcEnvironments *
      CONNECTIONS_PER_ENVIRONMENT *
      FLOW_RECORDS_PER_CONNECTION_HOUR *
      HOURS_PER_MONTH *
      FLOW_RECORD_BYTES) /
      GB,
  );
  let ingestedGb = 0;
  for (const [item, gb] of logGb) {
    line("CloudWatch Logs", item, PRICES.logsIngestion, gb);
    ingestedGb += gb;
  }
  line(
    "CloudWatch Logs",
    "storage (compressed, 1 month)",
    PRICES.logsStorage,
    ingestedGb * LOG_COMPRESSION,
  );

  // CloudWatch metrics, alarms, dashboard; X-Ray.
  const busy = t.records > 0;
  // Each metric once (dimensions service and stage), but ClientErrors once per code seen.
  const appMetrics = busy ? Object.keys(APP_METRICS).length - 1 + CLIENT_ERROR_CODES_SEEN : 0;
  line("CloudWatch", "application metrics (EMF)", PRICES.customMetrics, appMetrics);
  if (d.detailedMetrics && busy) {
    line(
      "CloudWatch",
      "API Gateway per-route metrics",
      PRICES.customMetrics,
      Object.keys(WS_ROUTES).length * WS_METRICS_PER_ROUTE +
        Object.keys(HTTP_ROUTES).length * HTTP_METRICS_PER_ROUTE,
    );
  }
  line("CloudWatch", `${d.alarms} alarms`, PRICES.standardAlarms, d.alarms);
  line("CloudWatch", "dashboard", PRICES.dashboards, DASHBOARDS);
  let traces = 0;
  for (const [entry, count] of invocations) {
    if (!d.functions[entry].tracing) continue;
    const perS = count / SECONDS_PER_MONTH;
    traces +=
      SECONDS_PER_MONTH *
      (Math.min(perS, XRAY_RESERVOIR_PER_S) + XRAY_RATE * Math.max(0, perS - XRAY_RESERVOIR_PER_S));
  }
  line(
    "X-Ray",
    "traces of the traced functions (default sampling)",
    PRICES.xrayTracesRecorded,
    traces,
  );

  // Keys, secrets, users.
  const streamClients =
    ENTRIES.filter((e) => FUNCTION_NEEDS[e].stream).reduce(
      (sum, e) => sum + ((invocations.get(e) ?? 0) > 0 ? concurrencyOf(e) + 1 : 0),
      0,
    ) + (busy ? 2 * shards : 0);
  line("KMS", `${KMS_KEYS} customer keys`, PRICES.kmsKeys, KMS_KEYS);
  line(
    "KMS",
    "requests (stream data keys)",
    PRICES.kmsRequests,
    streamClients * KMS_CALLS_PER_CLIENT_HOUR * HOURS_PER_MONTH,
  );
  line("Secrets Manager", `${SECRETS} secret`, PRICES.secrets, SECRETS);
  line(
    "Secrets Manager",
    "GetSecretValue (cold starts)",
    PRICES.secretsApiCalls,
    vpcEnvironments * COLD_STARTS_PER_ENVIRONMENT_HOUR * HOURS_PER_MONTH,
  );
  line("Cognito", "monthly active users", PRICES.cognitoEssentialsMau, w.users);

  return { lines, total: lines.reduce((sum, l) => sum + l.usd, 0), notes };
}

/** "1 NAT gateway", "2 NAT gateways". */
export const count = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? "" : "s"}`;

const platformLinesLabel = (d: Deployment): string =>
  d.logFormat === "Text" ? "text" : `JSON at ${d.systemLogLevel}`;
