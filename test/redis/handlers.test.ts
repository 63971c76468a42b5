// Handlers end to end over real Redis, with the AWS services mocked to drive the failure paths:
// Kinesis down, a gone connection, throttling, DynamoDB leaving items unprocessed.
import "aws-sdk-client-mock-vitest/extend";
import { randomUUID } from "node:crypto";
import {
  ApiGatewayManagementApiClient,
  GoneException,
  PostToConnectionCommand,
} from "@aws-sdk/client-apigatewaymanagementapi";
import { KinesisClient, PutRecordCommand } from "@aws-sdk/client-kinesis";
import {
  BatchGetCommand,
  BatchWriteCommand,
  DynamoDBDocumentClient,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import type { KinesisStreamEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { Redis } from "ioredis";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from "vitest";
import { DEFAULT_TUNABLES } from "../../functions/config.ts";
import { BUSY_RETRY_AFTER_MS } from "../../functions/domain/limits.ts";
import type { WsEvent, WsResult } from "../../functions/middleware/ws.ts";

type WsHandler = (e: WsEvent) => Promise<WsResult>;
type StreamHandler = (
  e: KinesisStreamEvent,
) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

const kinesis = mockClient(KinesisClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const management = mockClient(ApiGatewayManagementApiClient);
let redis: Redis;
let handlers: {
  location: WsHandler;
  unregisteredLocation: WsHandler;
  init: WsHandler;
  fanout: StreamHandler;
  history: StreamHandler;
};

const HOME = { lat: 37.5665, lon: 126.978 };
const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

const wsEvent = (
  routeKey: string,
  userId: string,
  body: object,
  connectionId = uid("conn"),
): WsEvent =>
  ({
    requestContext: { routeKey, eventType: "MESSAGE", connectionId, authorizer: { userId } },
    body: JSON.stringify(body),
    isBase64Encoded: false,
  }) as unknown as WsEvent;

let seq = 1000;
const streamEvent = (...events: object[]): KinesisStreamEvent => ({
  Records: events.map((e) => ({
    kinesis: {
      kinesisSchemaVersion: "1.0",
      partitionKey: "p",
      sequenceNumber: String(++seq),
      data: Buffer.from(JSON.stringify(e)).toString("base64"),
      approximateArrivalTimestamp: Date.now() / 1000,
    },
    eventSource: "aws:kinesis",
    eventVersion: "1.0",
    eventID: `shard:${seq}`,
    eventName: "aws:kinesis:record",
    invokeIdentityArn: "arn",
    awsRegion: "us-east-1",
    eventSourceARN: "arn",
  })),
});

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    REDIS_URL: inject("redisUrl"),
    LOCATION_STREAM: "location-events-test",
    USERS_TABLE: "Users-test",
    FRIENDSHIPS_TABLE: "Friendships-test",
    HISTORY_TABLE: "LocationHistory-test",
    CONNECTIONS_ENDPOINT: "https://example.execute-api.us-east-1.amazonaws.com/test",
    STAGE: "test",
    POWERTOOLS_METRICS_DISABLED: "false",
  });
  redis = new Redis(inject("redisUrl"));
  const location = (await import("../../functions/ws-location.ts")).handler;
  handlers = {
    // As after $connect: the connection's session exists (the frame gate checks it).
    location: async (e) => {
      await redis.hset(`cx:{${e.requestContext.connectionId}}`, "userId", "x");
      return location(e);
    },
    unregisteredLocation: location,
    init: (await import("../../functions/ws-init.ts")).handler,
    fanout: (await import("../../functions/stream-fanout.ts")).handler,
    history: (await import("../../functions/stream-history.ts")).handler,
  };
});
afterAll(async () => {
  await redis.quit();
  const { closeSharedRedis } = await import("../../functions/adapters/redis/client.ts");
  await closeSharedRedis();
});
beforeEach(() => {
  kinesis.reset();
  dynamo.reset();
  management.reset();
});

interface EmfLine {
  _aws: {
    CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
  };
  [key: string]: unknown;
}

/** The EMF lines (CloudWatch embedded metric format) a call prints on stdout, as Lambda would. */
async function captureEmf(call: () => Promise<unknown>): Promise<EmfLine[]> {
  const lines: EmfLine[] = [];
  const write = process.stdout.write.bind(process.stdout);
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk, ...rest) => {
    for (const text of String(chunk).split("\n")) {
      if (text.includes('"_aws"')) lines.push(JSON.parse(text) as EmfLine);
    }
    return write(chunk, ...(rest as []));
  });
  try {
    await call();
  } finally {
    spy.mockRestore();
  }
  return lines;
}

/** Every value printed for each metric name, across the lines. */
function emfValues(lines: EmfLine[]): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const line of lines) {
    for (const d of line._aws.CloudWatchMetrics) {
      for (const m of d.Metrics) {
        const v = line[m.Name];
        const values = out[m.Name] ?? [];
        values.push(...(Array.isArray(v) ? (v as number[]) : [v as number]));
        out[m.Name] = values;
      }
    }
  }
  return out;
}

describe("location handler", () => {
  it("reports a Kinesis failure as unavailable and lets the client's retry be published", async () => {
    const alice = uid("alice");
    kinesis.on(PutRecordCommand).rejects(new Error("stream down"));
    const failed = await handlers.location(
      wsEvent("location", alice, { action: "location", ...HOME, requestId: "r9" }),
    );
    expect(JSON.parse(failed.body ?? "{}")).toEqual({
      type: "error",
      requestId: "r9",
      code: "unavailable",
      message: "the location stream is unavailable, retry with backoff",
    });
    expect(await redis.hget(`loc:{${alice}}`, "pubAt")).toBeNull();

    kinesis.reset();
    kinesis.on(PutRecordCommand).resolves({ SequenceNumber: "1", ShardId: "s" });
    const ok = await handlers.location(wsEvent("location", alice, { action: "location", ...HOME }));
    expect(ok).toEqual({ statusCode: 200 });
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordCommand, 1);
    const input = kinesis.commandCalls(PutRecordCommand)[0]?.args[0].input;
    expect(input?.PartitionKey).toBe(alice);
    expect(JSON.parse(Buffer.from(input?.Data ?? new Uint8Array()).toString())).toMatchObject({
      v: 1,
      kind: "position",
      userId: alice,
      lat: HOME.lat,
      lon: HOME.lon,
    });
  });

  it("drops a frame that arrives after a newer one of the same connection", async () => {
    const alice = uid("alice");
    const conn = uid("conn");
    kinesis.on(PutRecordCommand).resolves({ SequenceNumber: "1", ShardId: "s" });
    const newer = { action: "location", lat: HOME.lat + 0.01, lon: HOME.lon, ts: 2_000 };
    const older = { action: "location", ...HOME, ts: 1_000 };
    expect(await handlers.location(wsEvent("location", alice, newer, conn))).toEqual({
      statusCode: 200,
    });
    expect(await handlers.location(wsEvent("location", alice, older, conn))).toEqual({
      statusCode: 200,
    });
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordCommand, 1);
    expect(await redis.hget(`loc:{${alice}}`, "lat")).toBe(String(newer.lat));
  });

  it("tells a connection whose session Redis lost to send init, storing nothing", async () => {
    const alice = uid("alice");
    const res = await handlers.unregisteredLocation(
      wsEvent("location", alice, { action: "location", ...HOME, requestId: "r1" }),
    );
    expect(JSON.parse(res.body ?? "{}")).toMatchObject({
      type: "error",
      requestId: "r1",
      code: "init_required",
    });
    expect(await redis.exists(`loc:{${alice}}`)).toBe(0);
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordCommand, 0);
  });

  it("sheds a position that waited too long for the handler: rate_limited, nothing stored", async () => {
    const alice = uid("alice");
    kinesis.on(PutRecordCommand).resolves({ SequenceNumber: "1", ShardId: "s" });
    const waited = (ms: number, requestId: string) => {
      const e = wsEvent("location", alice, { action: "location", ...HOME, requestId });
      e.requestContext.requestTimeEpoch = Date.now() - ms;
      return e;
    };
    let res: WsResult | undefined;
    const emf = await captureEmf(async () => {
      res = await handlers.location(waited(DEFAULT_TUNABLES.locationMaxWaitMs + 3000, "late"));
    });
    expect(JSON.parse(res?.body ?? "{}")).toEqual({
      type: "error",
      requestId: "late",
      code: "rate_limited",
      message: expect.stringContaining("send your latest position again"),
      retryAfterMs: BUSY_RETRY_AFTER_MS,
    });
    expect(emfValues(emf).LocationsShed).toEqual([1]);
    expect(await redis.exists(`loc:{${alice}}`)).toBe(0);
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordCommand, 0);

    // A frame that waited less than the limit is stored and published as usual.
    const ok = await handlers.location(waited(DEFAULT_TUNABLES.locationMaxWaitMs - 1000, "ok"));
    expect(ok).toEqual({ statusCode: 200 });
    expect(await redis.hget(`loc:{${alice}}`, "lat")).toBe(String(HOME.lat));
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordCommand, 1);
  });

  it("answers a bad frame without touching Redis or Kinesis", async () => {
    const alice = uid("alice");
    const res = await handlers.location(
      wsEvent("location", alice, { action: "location", lat: 200, lon: 0 }),
    );
    expect(JSON.parse(res.body ?? "{}")).toMatchObject({ code: "invalid_request" });
    expect(await redis.exists(`loc:{${alice}}`)).toBe(0);
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordCommand, 0);
  });

  it("reports a DynamoDB failure during init as unavailable, having changed nothing", async () => {
    kinesis.on(PutRecordCommand).resolves({});
    dynamo.on(QueryCommand).rejects(
      Object.assign(new Error("throttled"), {
        name: "ProvisionedThroughputExceededException",
        $metadata: {},
      }),
    );
    const alice = uid("alice");
    const res = await handlers.init(
      wsEvent("init", alice, { action: "init", ...HOME, requestId: "i1" }),
    );
    expect(JSON.parse(res.body ?? "{}")).toMatchObject({
      type: "error",
      requestId: "i1",
      code: "unavailable",
    });
    // Nothing was stored or published.
    expect(await redis.exists(`loc:{${alice}}`)).toBe(0);
    expect(kinesis).toHaveReceivedCommandTimes(PutRecordCommand, 0);
  });
});

describe("fan-out handler", () => {
  beforeEach(() => {
    // Nobody in these tests has settings of their own: everyone shares precisely.
    dynamo.on(BatchGetCommand).resolves({ Responses: { "Users-test": [] } });
  });
  async function friendWatching(mover: string) {
    const viewer = uid("bob");
    const conn = uid("conn");
    await redis.hset(`cx:{${conn}}`, "userId", viewer, "connectedAt", "0");
    await redis.zadd(`conns:{${viewer}}`, Date.now() + 3_600_000, conn);
    await redis.hset(`subs:{${mover}}`, `${conn} ${viewer}`, "0");
    await redis.sadd(`follows:{${conn}}`, mover);
    await redis.hset(
      `loc:{${viewer}}`,
      "lat",
      String(HOME.lat),
      "lon",
      String(HOME.lon),
      "at",
      String(Date.now()),
    );
    return { viewer, conn };
  }
  /** A mover's record, its position published in Redis (where the fan-out reads what to push). */
  const moved = async (userId: string) => {
    const event = {
      v: 1,
      kind: "position",
      userId,
      lat: HOME.lat + 0.01,
      lon: HOME.lon,
      at: Date.now(),
    };
    await redis.hset(
      `loc:{${userId}}`,
      "pubLat",
      String(event.lat),
      "pubLon",
      String(event.lon),
      "pubAt",
      String(event.at),
    );
    return event;
  };

  it("cleans up a connection the Management API reports gone, and tells friends its user is offline", async () => {
    const alice = uid("alice");
    const { viewer, conn } = await friendWatching(alice);
    management
      .on(PostToConnectionCommand)
      .rejects(new GoneException({ message: "gone", $metadata: {} }));
    kinesis.on(PutRecordCommand).resolves({});
    const res = await handlers.fanout(streamEvent(await moved(alice)));
    expect(res.batchItemFailures).toEqual([]);
    expect(management).toHaveReceivedCommandWith(PostToConnectionCommand, { ConnectionId: conn });
    expect(await redis.exists(`cx:{${conn}}`, `loc:{${viewer}}`)).toBe(0);
    expect(await redis.zscore(`conns:{${viewer}}`, conn)).toBeNull();
    expect(await redis.hlen(`subs:{${alice}}`)).toBe(0);
    const offline = kinesis.commandCalls(PutRecordCommand)[0]?.args[0].input;
    expect(JSON.parse(Buffer.from(offline?.Data ?? new Uint8Array()).toString())).toMatchObject({
      kind: "offline",
      userId: viewer,
    });
  });

  it("retries a throttled post and reports nothing failed when it then succeeds", async () => {
    const alice = uid("alice");
    const { viewer, conn } = await friendWatching(alice);
    management
      .on(PostToConnectionCommand)
      .rejectsOnce(
        Object.assign(new Error("slow down"), {
          name: "ThrottlingException",
          $metadata: { httpStatusCode: 429 },
        }),
      )
      .resolves({});
    const res = await handlers.fanout(streamEvent(await moved(alice)));
    expect(res.batchItemFailures).toEqual([]);
    expect(management).toHaveReceivedCommandTimes(PostToConnectionCommand, 2);
    const sent = management.commandCalls(PostToConnectionCommand)[1]?.args[0].input;
    expect(JSON.parse(Buffer.from(sent?.Data as Uint8Array).toString())).toMatchObject({
      type: "friends",
      updates: [{ userId: alice, state: "nearby", distanceM: 1112 }],
    });
    expect(await redis.hget(`subs:{${alice}}`, `${conn} ${viewer}`)).toBe("1");
  });

  it("reports the records of a failed post as batch item failures", async () => {
    const alice = uid("alice");
    const carol = uid("carol");
    await friendWatching(alice);
    management
      .on(PostToConnectionCommand)
      .rejects(Object.assign(new Error("boom"), { $metadata: { httpStatusCode: 500 } }));
    const event = streamEvent(await moved(alice), await moved(carol));
    const res = await handlers.fanout(event);
    expect(res.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]?.kinesis.sequenceNumber },
    ]);
  });

  it("prints the batch's metrics as CloudWatch EMF: records, pushes, coalescing, staleness, lag, gone", async () => {
    // Prepare: one viewer follows alice and bob (one push, two updates); a second viewer follows
    // alice on a connection that is gone; carol's record has nothing to deliver (she is offline).
    const alice = uid("alice");
    const bob = uid("bob");
    const { viewer, conn } = await friendWatching(alice);
    await redis.hset(`subs:{${bob}}`, `${conn} ${viewer}`, "0");
    const { conn: goneConn } = await friendWatching(alice);
    management
      .on(PostToConnectionCommand, { ConnectionId: goneConn })
      .rejects(new GoneException({ message: "gone", $metadata: {} }));
    management.on(PostToConnectionCommand, { ConnectionId: conn }).resolves({});
    kinesis.on(PutRecordCommand).resolves({});
    const offlineMover = {
      v: 1,
      kind: "position",
      userId: uid("carol"),
      lat: HOME.lat,
      lon: HOME.lon,
      at: Date.now() - 60_000,
    };
    const batch = streamEvent(await moved(alice), await moved(bob), offlineMover);
    const started = Date.now();

    // Act
    const emf = await captureEmf(() => handlers.fanout(batch));

    // Assess
    const values = emfValues(emf);
    expect(values.FanoutRecords).toEqual([3]);
    expect(values.FanoutStaleDropped).toEqual([1]);
    expect(values.FanoutPushes).toEqual([2]);
    expect(values.FanoutFriendUpdates).toEqual([3]);
    expect(values.GoneConnections).toEqual([1]);
    expect(values.FanoutLagMs).toHaveLength(2);
    for (const lag of values.FanoutLagMs ?? []) {
      expect(lag).toBeGreaterThanOrEqual(0);
      expect(lag).toBeLessThanOrEqual(Date.now() - started + 50);
    }
    expect(values.FailedRecords).toBeUndefined();
    const directives = emf.flatMap((line) => line._aws.CloudWatchMetrics);
    expect(directives.every((d) => d.Namespace === "NearbyFriends")).toBe(true);
    expect(directives.every((d) => d.Dimensions.some((set) => set.includes("stage")))).toBe(true);
    expect(emf.every((line) => line.stage === "test")).toBe(true);
  });

  it("counts the records of a failed post as FailedRecords", async () => {
    const alice = uid("alice");
    await friendWatching(alice);
    management.on(PostToConnectionCommand).rejects(new Error("boom"));
    const batch = streamEvent(await moved(alice));
    const emf = await captureEmf(() => handlers.fanout(batch));
    expect(emfValues(emf).FailedRecords).toEqual([1]);
  });

  it("skips an unreadable record instead of blocking the shard", async () => {
    const res = await handlers.fanout(streamEvent({ v: 99, kind: "teleport" }));
    expect(res.batchItemFailures).toEqual([]);
  });
});

describe("history handler", () => {
  const position = (userId: string, at: number) => ({
    v: 1,
    kind: "position",
    userId,
    lat: 1,
    lon: 2,
    at,
    clientTs: 5,
  });

  it("retries unprocessed items and writes idempotent keys", async () => {
    const alice = uid("alice");
    const event = streamEvent(position(alice, 1_763_770_000_000), {
      v: 1,
      kind: "offline",
      userId: alice,
      at: 1,
    });
    const first = event.Records[0]?.kinesis.sequenceNumber;
    dynamo
      .on(BatchWriteCommand)
      .resolvesOnce({
        UnprocessedItems: {
          "LocationHistory-test": [
            { PutRequest: { Item: { userId: alice, sk: `1763770000000#${first}` } } },
          ],
        },
      })
      .resolves({});
    const res = await handlers.history(event);
    expect(res.batchItemFailures).toEqual([]);
    expect(dynamo).toHaveReceivedCommandTimes(BatchWriteCommand, 2);
    const item =
      dynamo.commandCalls(BatchWriteCommand)[1]?.args[0].input.RequestItems?.[
        "LocationHistory-test"
      ]?.[0]?.PutRequest?.Item;
    expect(item).toEqual({
      userId: alice,
      sk: `1763770000000#${first}`,
      lat: 1,
      lon: 2,
      at: 1_763_770_000_000,
      clientTs: 5,
      expiresAt: 1_763_770_000 + 30 * 86_400,
    });
  });

  it("reports the records it could not write", async () => {
    dynamo.on(BatchWriteCommand).rejects(Object.assign(new Error("down"), { $metadata: {} }));
    const event = streamEvent(position(uid("alice"), 1_763_770_000_000));
    const res = await handlers.history(event);
    expect(res.batchItemFailures).toEqual([
      { itemIdentifier: event.Records[0]?.kinesis.sequenceNumber },
    ]);
  });
});
