// HTTP handlers as API Gateway invokes them, DynamoDB mocked: validation at the edge.
import "aws-sdk-client-mock-vitest/extend";
import { randomUUID } from "node:crypto";
import { DynamoDBDocumentClient, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { mockClient } from "aws-sdk-client-mock";
import { beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
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
beforeEach(() => {
  dynamo.reset();
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
