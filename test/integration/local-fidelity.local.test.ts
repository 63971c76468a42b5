// The local stack behaves as AWS does where a client or a handler can tell (PROTOCOL.md §5,
// ARCHITECTURE.md §13): the HTTP API's quotas and what it answers a request no parser accepts,
// the event-source mappings' on-failure destinations, and, on a stack of its
// own with short limits, API Gateway's idle timeout (with its $disconnect) and the @connections
// throttle (the fan-out retries, clients see nothing of it). Local only: AWS is the reference
// these tests hold the stack to.
import { randomUUID } from "node:crypto";
import { connect as tcpConnect } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type LocalStack, startLocalStack } from "../../local/stack.ts";
import {
  at,
  type Frame,
  http,
  httpUrl,
  isPushAbout,
  newUser,
  Session,
  type TestUser,
  updatesAbout,
} from "./client.ts";

describe("the HTTP API's own limits", () => {
  const MB = 1024 * 1024;
  const put = async (path: string, token: string, body: string, headers = {}) => {
    const res = await fetch(`${httpUrl()}${path}`, {
      method: "PUT",
      headers: { authorization: token, "content-type": "application/json", ...headers },
      body,
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  it("passes a 1 MB body to the handler, and refuses one over 10 MB itself with 413", async () => {
    const alice = await newUser("alice");
    const oneMb = JSON.stringify({ displayName: "x".repeat(MB) });
    const elevenMb = JSON.stringify({ displayName: "x".repeat(11 * MB) });

    expect(await put("/me", alice.token, oneMb)).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request" } },
    });
    expect(await put("/me", alice.token, elevenMb)).toEqual({
      status: 413,
      body: { message: "Request Entity Too Large" },
    });
  });

  it("refuses a request line and header values over 10 240 bytes with 431 and its own body", async () => {
    const alice = await newUser("alice");
    const body = JSON.stringify({ displayName: "Alice" });

    // Just under the quota: the (garbage) token reaches the authorizer.
    expect(await put("/me", `Bearer ${"t".repeat(9 * 1024)}`, body)).toEqual({
      status: 401,
      body: { message: "Unauthorized" },
    });
    // A 16 KB token, and a 70 KB header (over Node's own limit too).
    expect(await put("/me", `Bearer ${"t".repeat(16 * 1024)}`, body)).toEqual({
      status: 431,
      body: { message: "Request Header Fields Too Large" },
    });
    expect(await put("/me", alice.token, body, { "x-pad": "p".repeat(70 * 1024) })).toEqual({
      status: 431,
      body: { message: "Request Header Fields Too Large" },
    });
  });

  it("answers a method no route has, even one HTTP parsers do not know, with 404 and its own body", async () => {
    const { hostname, port } = new URL(httpUrl());
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = tcpConnect(Number(port), hostname, () =>
        socket.write(`FOO /me HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`),
      );
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
      });
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });

    expect(reply).toMatch(/^HTTP\/1\.1 404 /);
    expect(reply.slice(reply.indexOf("\r\n\r\n") + 4)).toBe('{"message":"Not Found"}');
  });
});

describe("stream event-source mappings", () => {
  it("count what each consumer's mapping gave up at GET /dev/dead-letters", async () => {
    const res = await http("GET", "/dev/dead-letters");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      fanout: { count: expect.any(Number), latest: expect.any(Array) },
      history: { count: expect.any(Number), latest: expect.any(Array) },
    });
  });
});

describe("a stack with a 2 s idle timeout and @connections limited to 4 calls a second", () => {
  let stack: LocalStack;
  const open: Session[] = [];
  const timers: NodeJS.Timeout[] = [];

  beforeAll(async () => {
    stack = await startLocalStack({
      httpPort: 0,
      wsPort: 0,
      functionsProcesses: 1,
      gateway: { idleTimeoutS: 2, connectionsRatePerS: 4, connectionsBurst: 4 },
      log: () => undefined,
    });
  });
  afterEach(async () => {
    for (const t of timers.splice(0)) clearInterval(t);
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(() => stack?.stop());

  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${stack.httpUrl}${path}`, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? (JSON.parse(text) as Record<string, unknown>) : null,
    };
  };
  const user = async (name: string): Promise<TestUser> => {
    const userId = `${name}-${randomUUID().slice(0, 8)}`;
    const res = await call("POST", "/dev/token", undefined, { userId });
    return { userId, token: String(res.body?.token) };
  };
  const befriend = async (a: TestUser, b: TestUser) => {
    await call("POST", "/friends/requests", a.token, { userId: b.userId });
    await call("POST", `/friends/requests/${a.userId}/accept`, b.token);
  };
  const connect = async (u: TestUser, { keepAlive }: { keepAlive: boolean }) => {
    const s = await Session.open(u.token, stack.wsUrl);
    open.push(s);
    if (keepAlive) timers.push(setInterval(() => s.send({ action: "ping" }), 700));
    return s;
  };
  /** Frames that are errors: ours (`type: error`) or API Gateway's ("Internal server error"). */
  const errors = (s: Session) =>
    s.frames.filter((f: Frame) => f.type === "error" || (f.type === undefined && "message" in f));

  it("closes a connection idle for the timeout with 1001, and $disconnect tells friends", async () => {
    // Prepare: bob, then alice online, each shown to the other; only alice keeps sending.
    const alice = await user("alice");
    const bob = await user("bob");
    await befriend(alice, bob);
    const bobWs = await connect(bob, { keepAlive: false });
    const bobClosed = new Promise<number>((r) => bobWs.ws.once("close", (code) => r(code)));
    await bobWs.request({ action: "init", ...at(0) });
    const aliceWs = await connect(alice, { keepAlive: true });
    const init = await aliceWs.request({ action: "init", ...at(300) });
    expect(init.friends).toMatchObject([{ userId: bob.userId }]);

    // Act: bob stays silent past the idle timeout.
    const code = await bobClosed;

    // Assess: closed by the gateway with 1001; its $disconnect made bob offline for alice.
    expect(code).toBe(1001);
    await aliceWs.next(isPushAbout(bob.userId, "away"), 8000);
    expect(aliceWs.ws.readyState).toBe(aliceWs.ws.OPEN);
    expect(errors(aliceWs)).toEqual([]);
  });

  it("throttles @connections: pushes are retried and all arrive, with no error at any client", async () => {
    // Prepare: six friends of alice online near her, all kept alive.
    const alice = await user("alice");
    const friends = await Promise.all(Array.from({ length: 6 }, (_, i) => user(`friend${i}`)));
    for (const f of friends) await befriend(alice, f);
    const friendWs: Session[] = [];
    for (const [i, f] of friends.entries()) {
      const s = await connect(f, { keepAlive: true });
      await s.request({ action: "init", ...at(i * 10) });
      friendWs.push(s);
    }
    const aliceWs = await connect(alice, { keepAlive: true });
    const before = (await call("GET", "/dev/gateway")).body as {
      connectionsApi: { throttled: number };
    };

    // Act: alice comes online and moves twice: 6 pushes each time, over the 4 a second allowed.
    await aliceWs.request({ action: "init", ...at(500) });
    for (const m of [1000, 1500]) {
      await new Promise((r) => setTimeout(r, 1500));
      aliceWs.send({ action: "location", ...at(m) });
    }

    // Assess: every friend ends up shown alice's last position; the throttle did refuse calls.
    for (const s of friendWs) {
      await s.next(() => updatesAbout(s, alice.userId).at(-1)?.lat === at(1500).lat, 15_000);
    }
    const after = (await call("GET", "/dev/gateway")).body as typeof before;
    expect(after.connectionsApi.throttled).toBeGreaterThan(before.connectionsApi.throttled);
    for (const s of [aliceWs, ...friendWs]) expect(errors(s)).toEqual([]);
  });
});
