// HTTP handlers as API Gateway invokes them, over real Redis (DynamoDB mocked): validation at the
// edge, and the per-user rate limit.
import "aws-sdk-client-mock-vitest/extend";
import { randomUUID } from "node:crypto";
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { HTTP_RATE_WINDOW_MS, HTTP_REQUESTS_PER_WINDOW } from "../../functions/domain/limits.ts";
import type { HttpEvent, HttpHandler } from "../../functions/middleware/http.ts";

const dynamo = mockClient(DynamoDBDocumentClient);
let profile: HttpHandler;

const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

/** An HTTP API (payload 2.0) event of an authorized caller. */
const httpEvent = (routeKey: string, userId: string, body?: string): HttpEvent => {
  const [method = "GET", path = "/"] = routeKey.split(" ");
  return {
    version: "2.0",
    routeKey,
    rawPath: path,
    rawQueryString: "",
    headers: {},
    requestContext: {
      routeKey,
      http: { method, path, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: "test" },
      authorizer: {
        principalId: "",
        integrationLatency: 0,
        jwt: { claims: { sub: userId }, scopes: [] },
      },
    },
    ...(body === undefined ? {} : { body }),
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
  });
  profile = (await import("../../functions/http-profile.ts")).handler;
});
afterAll(async () => {
  const { closeSharedRedis } = await import("../../functions/adapters/redis/client.ts");
  await closeSharedRedis();
});
beforeEach(() => {
  dynamo.reset();
});

describe("the per-user rate limit", () => {
  it("answers 429 rate_limited with retry-after beyond the user's requests in the window", async () => {
    // Prepare: a user who used up the window.
    dynamo.on(GetCommand).resolves({});
    const alice = uid("alice");
    for (let i = 0; i < HTTP_REQUESTS_PER_WINDOW; i++) {
      expect((await profile(httpEvent("GET /me", alice))).statusCode).toBe(200);
    }
    // Act
    const res = await profile(httpEvent("GET /me", alice));
    // Assess
    expect(res.statusCode).toBe(429);
    expect(JSON.parse(res.body ?? "")).toEqual({
      error: {
        code: "rate_limited",
        message: expect.any(String),
        retryAfterMs: expect.any(Number),
      },
    });
    const retryAfter = Number(res.headers?.["retry-after"]);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(HTTP_RATE_WINDOW_MS / 1000);
    expect(dynamo).toHaveReceivedCommandTimes(GetCommand, HTTP_REQUESTS_PER_WINDOW);
    // Another user is not affected.
    expect((await profile(httpEvent("GET /me", uid("bob")))).statusCode).toBe(200);
  });
});

describe("PUT /me", () => {
  it("refuses a display name that is not well-formed Unicode, naming the field, storing nothing", async () => {
    // Prepare: a lone surrogate, as JSON can carry it (\ud800 with no low surrogate after it).
    const alice = uid("alice");
    for (const name of ["\\ud800", "a\\udfffb", "\\udc00\\ud800"]) {
      // Act
      const res = await profile(httpEvent("PUT /me", alice, `{"displayName":"${name}"}`));
      // Assess
      expect(res.statusCode).toBe(400);
      expect(JSON.parse(res.body ?? "")).toEqual({
        error: { code: "invalid_request", message: expect.stringContaining("displayName") },
      });
    }
    expect(dynamo).not.toHaveReceivedCommand(UpdateCommand);
  });

  it("accepts a name with characters outside the BMP (a surrogate pair)", async () => {
    dynamo.on(UpdateCommand).resolves({});
    const res = await profile(
      httpEvent("PUT /me", uid("alice"), '{"displayName":"Al \\ud83d\\ude00"}'),
    );
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body ?? "")).toMatchObject({ displayName: "Al 😀" });
  });
});
