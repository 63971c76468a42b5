// The blocks handler as API Gateway invokes it, over real Redis (DynamoDB mocked): the order and
// shape of the table writes (both directions on one item each, the blocked user's item first), a
// repeated unblock, and a failing table answered `unavailable`.
import "aws-sdk-client-mock-vitest/extend";
import { randomUUID } from "node:crypto";
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  UpdateCommand,
} from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import type { HttpEvent, HttpHandler } from "../../functions/middleware/http.ts";

const dynamo = mockClient(DynamoDBDocumentClient);
let blocks: HttpHandler;

const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

/** An HTTP API (payload 2.0) event of an authorized caller. */
const httpEvent = (
  routeKey: string,
  userId: string,
  opts: { body?: string; path?: string; params?: Record<string, string> } = {},
): HttpEvent => {
  const [method = "GET", path = "/"] = routeKey.split(" ");
  const rawPath = opts.path ?? path;
  return {
    version: "2.0",
    routeKey,
    rawPath,
    rawQueryString: "",
    headers: {},
    requestContext: {
      routeKey,
      http: { method, path: rawPath, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "t" },
      authorizer: {
        principalId: "",
        integrationLatency: 0,
        jwt: { claims: { sub: userId }, scopes: [] },
      },
    },
    ...(opts.params ? { pathParameters: opts.params } : {}),
    ...(opts.body === undefined ? {} : { body: opts.body }),
    isBase64Encoded: false,
  } as unknown as HttpEvent;
};

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_REGION: "us-east-1",
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    REDIS_URL: inject("redisUrl"),
    USERS_TABLE: "Users-test",
    FRIENDSHIPS_TABLE: "Friendships-test",
    BLOCKS_TABLE: "Blocks-test",
    CONNECTIONS_ENDPOINT: "http://127.0.0.1:9",
  });
  blocks = (await import("../../functions/http-blocks.ts")).handler;
});
afterAll(async () => {
  const { closeSharedRedis } = await import("../../functions/adapters/redis/client.ts");
  await closeSharedRedis();
});
beforeEach(() => {
  dynamo.reset();
});

describe("POST /blocks", () => {
  it("marks the blocked user's item, then the blocker's, keeping the first time", async () => {
    // Prepare: bob exists, alice blocked nobody, the two have no relation.
    const [alice, bob] = [uid("alice"), uid("bob")];
    dynamo.on(GetCommand, { TableName: "Users-test" }).resolves({ Item: { userId: bob } });
    dynamo.on(GetCommand, { TableName: "Friendships-test" }).resolves({});
    dynamo.on(QueryCommand).resolves({ Items: [] });
    dynamo.on(UpdateCommand).resolves({});

    // Act
    const res = await blocks(
      httpEvent("POST /blocks", alice, { body: JSON.stringify({ userId: bob }) }),
    );

    // Assess
    expect(res.statusCode).toBe(204);
    const updates = dynamo.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates).toEqual([
      expect.objectContaining({
        TableName: "Blocks-test",
        Key: { userId: bob, otherId: alice },
        UpdateExpression: "SET #f = if_not_exists(#f, :at)",
        ExpressionAttributeNames: { "#f": "blockedByAt" },
      }),
      expect.objectContaining({
        Key: { userId: alice, otherId: bob },
        ExpressionAttributeNames: { "#f": "blockedAt" },
      }),
    ]);
    expect(dynamo).not.toHaveReceivedCommand(DeleteCommand);
  });

  it("answers unavailable when the table is throttled, and writes no block", async () => {
    const [alice, bob] = [uid("alice"), uid("bob")];
    dynamo.on(GetCommand).resolves({ Item: { userId: bob } });
    const throttled = Object.assign(new Error("slow down"), {
      name: "ProvisionedThroughputExceededException",
    });
    dynamo.on(QueryCommand).rejects(throttled);

    const res = await blocks(
      httpEvent("POST /blocks", alice, { body: JSON.stringify({ userId: bob }) }),
    );

    expect(res.statusCode).toBe(503);
    expect(JSON.parse(res.body ?? "")).toMatchObject({ error: { code: "unavailable" } });
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });
});

describe("DELETE /blocks/{userId}", () => {
  it("removes the blocker's mark first, deletes an item left empty, and ignores a missing item", async () => {
    const [alice, bob] = [uid("alice"), uid("bob")];
    const missing = Object.assign(new Error("no item"), {
      name: "ConditionalCheckFailedException",
    });
    // alice's item is left empty; bob's item is gone already (a repeat, or never blocked).
    dynamo
      .on(UpdateCommand, { Key: { userId: alice, otherId: bob } })
      .resolves({ Attributes: { userId: alice, otherId: bob } });
    dynamo.on(UpdateCommand, { Key: { userId: bob, otherId: alice } }).rejects(missing);
    dynamo.on(DeleteCommand).resolves({});

    const res = await blocks(
      httpEvent("DELETE /blocks/{userId}", alice, {
        path: `/blocks/${bob}`,
        params: { userId: bob },
      }),
    );

    expect(res.statusCode).toBe(204);
    const updates = dynamo.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(updates.map((u) => [u.Key, u.UpdateExpression, u.ExpressionAttributeNames])).toEqual([
      [{ userId: alice, otherId: bob }, "REMOVE #f", { "#f": "blockedAt" }],
      [{ userId: bob, otherId: alice }, "REMOVE #f", { "#f": "blockedByAt" }],
    ]);
    expect(dynamo).toHaveReceivedCommandTimes(DeleteCommand, 1);
    expect(dynamo).toHaveReceivedCommandWith(DeleteCommand, {
      Key: { userId: alice, otherId: bob },
      ConditionExpression: "attribute_not_exists(blockedAt) AND attribute_not_exists(blockedByAt)",
    });
  });
});
