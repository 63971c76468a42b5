// The local HTTP API in front of the handlers: what it answers before a handler runs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpEvent } from "../../functions/middleware/http.ts";
import { type HttpApi, startHttpApi } from "../../local/http-api.ts";

let api: HttpApi;
const seen: HttpEvent[] = [];

beforeAll(async () => {
  api = await startHttpApi(
    0,
    () => ({
      routes: {
        "DELETE /friends/{userId}": async (event) => {
          seen.push(event);
          return { statusCode: 204 };
        },
      },
      verify: async () => "alice",
      issueToken: async () => "token",
      loseConnections: () => 0,
      health: async () => ({}),
      restartRedis: async () => undefined,
      jwks: { keys: [] },
      deadLetters: async () => ({}),
      gatewayStats: () => ({}),
    }),
    () => undefined,
  );
});
afterAll(async () => {
  await api.stop();
});

const del = (path: string) =>
  fetch(`http://127.0.0.1:${api.port}${path}`, {
    method: "DELETE",
    headers: { authorization: "Bearer token" },
  });

describe("local HTTP API", () => {
  it("answers a path parameter that is not valid percent-encoding with invalid_request", async () => {
    for (const path of ["/friends/%ff", "/friends/%zz", "/friends/%", "/friends/a%e2%82"]) {
      // Act
      const res = await del(path);
      // Assess
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error: { code: "invalid_request", message: expect.stringContaining("userId") },
      });
    }
    expect(seen).toEqual([]);
  });

  it("passes a well-encoded path parameter to the handler decoded", async () => {
    const res = await del("/friends/bob%2Dsmith");
    expect(res.status).toBe(204);
    expect(seen.at(-1)?.pathParameters).toEqual({ userId: "bob-smith" });
  });
});
