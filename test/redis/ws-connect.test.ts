// $connect and $disconnect as API Gateway invokes them, over real Redis (Kinesis mocked): the
// per-user connection cap and handshake rate refuse a handshake with 429.
import { randomUUID } from "node:crypto";
import { KinesisClient, PutRecordCommand } from "@aws-sdk/client-kinesis";
import { mockClient } from "aws-sdk-client-mock";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { CONNECTS_PER_WINDOW, MAX_CONNECTIONS_PER_USER } from "../../functions/domain/limits.ts";
import type { WsEvent, WsHandler } from "../../functions/middleware/ws.ts";

const kinesis = mockClient(KinesisClient);
let redis: Redis;
let connectHandler: WsHandler;
let disconnectHandler: WsHandler;

const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

const lifecycleEvent = (
  routeKey: "$connect" | "$disconnect",
  userId: string,
  connectionId: string,
) =>
  ({
    requestContext: {
      routeKey,
      eventType: routeKey === "$connect" ? "CONNECT" : "DISCONNECT",
      connectionId,
      authorizer: { userId, principalId: userId },
    },
    isBase64Encoded: false,
  }) as unknown as WsEvent;

const connect = async (userId: string, connectionId = uid("conn")) =>
  (await connectHandler(lifecycleEvent("$connect", userId, connectionId))).statusCode;
const disconnect = (userId: string, connectionId: string) =>
  disconnectHandler(lifecycleEvent("$disconnect", userId, connectionId));

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    REDIS_URL: inject("redisUrl"),
    LOCATION_STREAM: "location-events-test",
    USERS_TABLE: "Users-test",
    FRIENDSHIPS_TABLE: "Friendships-test",
    // $disconnect tells the friends it followed of their new cadence (none here).
    CONNECTIONS_ENDPOINT: "https://example.execute-api.us-east-1.amazonaws.com/test",
  });
  kinesis.on(PutRecordCommand).resolves({});
  redis = new Redis(inject("redisUrl"));
  connectHandler = (await import("../../functions/ws-connect.ts")).handler;
  disconnectHandler = (await import("../../functions/ws-disconnect.ts")).handler;
});
afterAll(async () => {
  await redis.quit();
  const { closeSharedRedis } = await import("../../functions/adapters/redis/client.ts");
  await closeSharedRedis();
});

describe("$connect", () => {
  it("refuses a handshake beyond the user's open connections with 429, and takes one once a connection closes", async () => {
    // Prepare: the user holds the maximum.
    const alice = uid("alice");
    const open = Array.from({ length: MAX_CONNECTIONS_PER_USER }, () => uid("conn"));
    for (const c of open) expect(await connect(alice, c)).toBe(200);
    // Act / Assess
    const refused = uid("conn");
    expect(await connect(alice, refused)).toBe(429);
    expect(await redis.exists(`cx:{${refused}}`)).toBe(0);
    expect(await connect(uid("bob"))).toBe(200);
    await disconnect(alice, open[0] ?? "");
    expect(await connect(alice)).toBe(200);
  });

  it("refuses handshakes beyond the user's connect rate with 429, even with every connection closed", async () => {
    const alice = uid("alice");
    for (let i = 0; i < CONNECTS_PER_WINDOW; i++) {
      const c = uid("conn");
      expect(await connect(alice, c)).toBe(200);
      await disconnect(alice, c);
    }
    expect(await connect(alice)).toBe(429);
  });
});
