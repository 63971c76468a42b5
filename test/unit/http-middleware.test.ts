// The HTTP handler stack with a fake request gate: the per-user rate limit runs after the caller is
// known and before any route, answers 429 in the protocol's envelope with `retry-after`, and is
// skipped (not failed) when Redis is unavailable.
import { describe, expect, it } from "vitest";
import { type HttpEvent, httpApi, json } from "../../functions/middleware/http.ts";
import type { RequestAdmission, RequestGate } from "../../functions/middleware/request-gate.ts";

class FakeGate implements RequestGate {
  readonly seen: string[] = [];
  constructor(private readonly answer: () => RequestAdmission) {}
  async admit(userId: string): Promise<RequestAdmission> {
    this.seen.push(userId);
    return this.answer();
  }
}

const event = (routeKey: string, sub?: string): HttpEvent => {
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
      authorizer: { jwt: { claims: sub === undefined ? {} : { sub }, scopes: [] } },
    },
    isBase64Encoded: false,
  } as unknown as HttpEvent;
};

function api(gate: RequestGate) {
  const ran: string[] = [];
  const handler = httpApi(
    {
      "GET /me": async ({ userId }) => {
        ran.push(userId);
        return json(200, { userId });
      },
    },
    async () => gate,
  );
  return { handler, ran };
}

describe("the HTTP rate limit", () => {
  it("answers 429 rate_limited with retry-after in whole seconds, and runs no route", async () => {
    // Prepare
    const gate = new FakeGate(() => ({ allowed: false, retryAfterMs: 2500 }));
    const { handler, ran } = api(gate);
    // Act
    const res = await handler(event("GET /me", "alice"));
    // Assess
    expect(res.statusCode).toBe(429);
    expect(res.headers).toMatchObject({ "retry-after": "3" });
    expect(JSON.parse(res.body ?? "")).toEqual({
      error: {
        code: "rate_limited",
        message: expect.stringContaining("requests"),
        retryAfterMs: 2500,
      },
    });
    expect(ran).toEqual([]);
    expect(gate.seen).toEqual(["alice"]);
  });

  it("lets a request within the limit through", async () => {
    const { handler, ran } = api(new FakeGate(() => ({ allowed: true, retryAfterMs: 1000 })));
    const res = await handler(event("GET /me", "alice"));
    expect(res.statusCode).toBe(200);
    expect(ran).toEqual(["alice"]);
  });

  it("counts requests to no route too, and never an unauthenticated one", async () => {
    const gate = new FakeGate(() => ({ allowed: true, retryAfterMs: 1000 }));
    const { handler } = api(gate);
    expect((await handler(event("GET /nowhere", "alice"))).statusCode).toBe(404);
    expect((await handler(event("GET /me"))).statusCode).toBe(401);
    expect(gate.seen).toEqual(["alice"]);
  });

  it("lets the request through unchecked when Redis is unavailable", async () => {
    const down = Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" });
    const { handler, ran } = api(
      new FakeGate(() => {
        throw down;
      }),
    );
    expect((await handler(event("GET /me", "alice"))).statusCode).toBe(200);
    expect(ran).toEqual(["alice"]);
  });

  it("answers 500 internal when the gate fails for any other reason", async () => {
    const { handler, ran } = api(
      new FakeGate(() => {
        throw new TypeError("a bug");
      }),
    );
    const res = await handler(event("GET /me", "alice"));
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body ?? "")).toEqual({
      error: { code: "internal", message: "internal error" },
    });
    expect(ran).toEqual([]);
  });
});
