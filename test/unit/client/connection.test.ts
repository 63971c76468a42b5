// The SDK's WebSocket session against a fake socket and a fake clock: reconnect and backoff
// timing, init after every (re)connect, keepalive, the 2-hour replacement, pacing, retries.
import { describe, expect, it, vi } from "vitest";
import {
  ClosedError,
  type ConnectionState,
  type ConnectOptions,
  connect,
  NearbyFriendsError,
  TimeoutError,
} from "../../../client/index.ts";
import { FakeClock, FakeNet, friend, settle } from "./fakes.ts";

const HERE = { lat: 37.5665, lon: 126.978 };
const there = (m: number) => ({ lat: HERE.lat + m / 111_195, lon: HERE.lon });

function start(options: Partial<ConnectOptions> = {}) {
  const clock = new FakeClock();
  const net = new FakeNet(clock);
  const client = connect({
    url: "ws://nf.test/",
    token: "tok",
    WebSocket: net.WebSocket,
    clock,
    random: () => 0, // no jitter: delays are the base delays
    ...options,
  });
  const states: ConnectionState[] = [];
  client.on("state", (s) => states.push(s));
  return { clock, net, client, states };
}

/** A session with an open connection and an applied init snapshot. */
async function started(options: Partial<ConnectOptions> = {}) {
  const t = start({ position: HERE, ...options });
  await settle();
  t.net.last.accept();
  await t.clock.advance(0);
  t.net.last.replyInit();
  await t.clock.advance(0);
  return t;
}

/** The most frames any one-second window holds. */
function maxPerSecond(times: number[]): number {
  let max = 0;
  for (const t0 of times) max = Math.max(max, times.filter((t) => t >= t0 && t < t0 + 1000).length);
  return max;
}

describe("connecting", () => {
  it("opens with the token in the URL and sends init with the position", async () => {
    const { clock, net, client } = start({ position: { ...HERE, accuracyM: 5 } });
    await settle();

    expect(net.last.url).toBe("ws://nf.test/?token=tok");
    expect(client.state).toBe("connecting");
    const ts = clock.now();
    net.last.accept();
    await clock.advance(0);

    expect(client.state).toBe("open");
    expect(net.last.frames()).toEqual([
      { action: "init", requestId: expect.any(String), ...HERE, accuracyM: 5, ts, limit: 100 },
    ]);
  });

  it("without a position, sends nothing until the first updateLocation, which goes as init", async () => {
    const { clock, net, client } = start();
    await settle();
    net.last.accept();
    await clock.advance(60_000);
    expect(net.last.frames()).toEqual([]);

    client.updateLocation({ ...HERE, ts: 5 });
    await clock.advance(0);

    expect(net.last.frames().map((f) => f.action)).toEqual(["init"]);
    expect(net.last.last("init")).toMatchObject({ ...HERE, ts: 5 });
  });

  it("emits init with the session once the snapshot is applied", async () => {
    const { clock, net, client } = start({ position: HERE });
    const inits: unknown[] = [];
    client.on("init", (info) => inits.push(info));
    await settle();
    net.last.accept();
    await clock.advance(0);

    net.last.replyInit([friend("bob", 10)], null, 5000);
    await clock.advance(0);

    expect(inits).toEqual([
      { self: { ...HERE, at: clock.now() }, radiusM: 5000, serverTime: clock.now() },
    ]);
    expect(client.session?.radiusM).toBe(5000);
    expect([...client.friends.keys()]).toEqual(["bob"]);
  });

  it("gives up on a handshake that neither opens nor fails, and tries again", async () => {
    const { clock, net } = start({ connectTimeoutMs: 5000 });
    await settle();

    await clock.advance(5000);
    expect(net.sockets[0]?.closedWith).not.toBeNull();
    await clock.advance(500);

    expect(net.sockets).toHaveLength(2);
  });
});

describe("reconnecting", () => {
  it("waits longer after each failed attempt, up to the cap", async () => {
    // Prepare: every handshake is refused (at once: no connect timeout in between).
    const { clock, net, client } = start({ connectTimeoutMs: 600_000 });
    await settle();

    // Act
    const delays: number[] = [];
    for (let i = 0; i < 9; i++) {
      const refusedAt = clock.now();
      net.last.refuse();
      await clock.advance(30_000);
      delays.push(net.last.createdAt - refusedAt);
    }

    // Assess
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000]);
    expect(client.state).toBe("connecting");
  });

  it("jitters each delay within [base / 2, base]", async () => {
    const randoms = [0.99, 0.5, 0.1, 0.7, 0.3, 0.9];
    let i = 0;
    const { clock, net } = start({
      random: () => randoms[i++ % randoms.length] ?? 0,
      connectTimeoutMs: 600_000,
    });
    await settle();

    const delays: number[] = [];
    for (let n = 0; n < 6; n++) {
      const refusedAt = clock.now();
      net.last.refuse();
      await clock.advance(30_000);
      delays.push(net.last.createdAt - refusedAt);
    }

    const bases = [500, 1000, 2000, 4000, 8000, 16_000];
    delays.forEach((d, n) => {
      const base = bases[n] ?? 0;
      expect(d).toBeGreaterThanOrEqual(base / 2);
      expect(d).toBeLessThanOrEqual(base);
      expect(d).toBe(Math.round(base * (1 - 0.5 * (randoms[n] ?? 0))));
    });
  });

  it("starts the backoff over after a connection that worked", async () => {
    // Prepare: a failed attempt first, so that the backoff has grown.
    const { clock, net } = start({ position: HERE });
    await settle();
    net.last.refuse();
    await clock.advance(500);
    net.last.accept();
    await clock.advance(0);
    net.last.replyInit();
    await clock.advance(0);

    // Act: the connection that worked drops.
    net.last.drop();
    const dropped = clock.now();
    await clock.advance(500);

    expect(net.sockets).toHaveLength(3);
    expect(net.last.createdAt - dropped).toBe(500);
  });

  it("asks the token provider again for every connection", async () => {
    let n = 0;
    const token = vi.fn(async () => `tok${++n}`);
    const { clock, net } = await started({ token });

    net.last.drop();
    await clock.advance(500);

    expect(token).toHaveBeenCalledTimes(2);
    expect(net.sockets.map((s) => s.url)).toEqual([
      "ws://nf.test/?token=tok1",
      "ws://nf.test/?token=tok2",
    ]);
  });

  it("retries with backoff when the token provider fails, and reports it", async () => {
    let fail = true;
    const errors: Error[] = [];
    const { clock, net, client } = start({
      token: async () => {
        if (fail) throw new Error("offline");
        return "tok";
      },
    });
    client.on("error", (e) => errors.push(e));
    await settle();
    expect(net.sockets).toHaveLength(0);
    fail = false;

    await clock.advance(500);

    expect(errors).toHaveLength(1);
    expect(net.sockets).toHaveLength(1);
  });

  it("sends init again after a reconnect, with the last known position", async () => {
    const { clock, net, client, states } = await started();
    client.updateLocation(there(200));
    await clock.advance(200);

    net.last.drop();
    await clock.advance(500);
    net.last.accept();
    await clock.advance(0);

    expect(net.sockets).toHaveLength(2);
    expect(net.last.frames()).toEqual([expect.objectContaining({ action: "init", ...there(200) })]);
    expect(states).toEqual(["open", "reconnecting", "open"]);
  });

  it("keeps friends across a reconnect and replaces them with the new snapshot", async () => {
    const { clock, net, client } = start({ position: HERE });
    const aways: string[] = [];
    client.on("away", (f, reason) => aways.push(`${f.userId}:${reason}`));
    await settle();
    net.last.accept();
    await clock.advance(0);
    net.last.replyInit([friend("bob", 10), friend("carol", 10)]);
    await clock.advance(0);

    net.last.drop();
    await clock.advance(500);
    expect(client.friends.size).toBe(2);
    net.last.accept();
    await clock.advance(0);
    net.last.replyInit([friend("carol", 12)]);
    await clock.advance(0);

    expect(aways).toEqual(["bob:snapshot"]);
    expect(client.friends.get("carol")?.at).toBe(12);
  });

  it("sends again on the new connection a request whose reply was lost", async () => {
    const { clock, net, client } = await started();
    const subscribed = client.subscribe("carol");
    await clock.advance(200);
    expect(net.last.frames("subscribe")).toHaveLength(1);

    net.last.drop();
    await clock.advance(500);
    net.last.accept();
    await clock.advance(0);
    net.last.replyInit();
    await clock.advance(200);
    net.last.replyTo("subscribe", { type: "subscribed", friendId: "carol", friend: null });

    await expect(subscribed).resolves.toBeNull();
  });

  it("repeats unsubscribes after every init", async () => {
    const { clock, net, client } = await started();
    const done = client.unsubscribe("carol");
    await clock.advance(200);
    net.last.replyTo("unsubscribe", { type: "unsubscribed", friendId: "carol" });
    await done;

    net.last.drop();
    await clock.advance(500);
    net.last.accept();
    await clock.advance(0);
    net.last.replyInit([friend("carol", 10)]);
    await clock.advance(200);

    expect(net.last.frames().map((f) => f.action)).toEqual(["init", "unsubscribe"]);
    expect(client.friends.has("carol")).toBe(false);
  });
});

describe("keepalive", () => {
  it("pings after 5 minutes without a frame, and reconnects when the pong does not come", async () => {
    const { clock, net } = start();
    await settle();
    net.last.accept();

    await clock.advance(299_999);
    expect(net.last.frames()).toEqual([]);
    await clock.advance(1);
    expect(net.last.frames().map((f) => f.action)).toEqual(["ping"]);

    net.last.replyTo("ping", { type: "pong", serverTime: clock.now() });
    await clock.advance(300_000);
    expect(net.last.frames("ping")).toHaveLength(2);

    await clock.advance(10_000); // no pong
    expect(net.sockets[0]?.closedWith?.code).toBe(4000);
    await clock.advance(500);
    expect(net.sockets).toHaveLength(2);
  });

  it("sends the latest position again every heartbeat while the device is still", async () => {
    const { clock, net } = await started();

    await clock.advance(55_000 * 3);

    const locations = net.last.sent.filter((s) => s.frame.action === "location");
    const initAt = net.last.sent[0]?.at ?? 0;
    expect(locations.map((s) => s.at - initAt)).toEqual([55_000, 110_000, 165_000]);
    expect(locations.every((s) => s.frame.lat === HERE.lat)).toBe(true);
    expect(net.last.frames("ping")).toEqual([]);
  });

  it("replaces the connection before the 2-hour cap without a gap", async () => {
    // Prepare
    const { clock, net, client, states } = await started();
    const old = net.last;

    // Act 1: 1 h 55 min later a second connection opens.
    await clock.advance(115 * 60_000);
    expect(net.sockets).toHaveLength(2);
    const fresh = net.last;
    fresh.accept();
    await clock.advance(0);

    // Assess 1: it sends init; the old one stays until the snapshot arrives.
    expect(fresh.frames().map((f) => f.action)).toEqual(["init"]);
    expect(old.closedWith).toBeNull();

    // Act 2
    const oldFrames = old.sent.length;
    fresh.replyInit([friend("bob", 10)]);
    await clock.advance(0);

    // Assess 2: the old connection is closed normally, the state never left "open".
    expect(old.closedWith?.code).toBe(1000);
    expect(old.sent.length).toBe(oldFrames);
    expect(states).toEqual(["open"]);
    expect(client.state).toBe("open");
    expect(client.friends.has("bob")).toBe(true);
  });
  it("keeps the old connection when its replacement fails, and tries the replacement again", async () => {
    // (the heartbeat keeps the old connection busy, so no ping goes unanswered)
    const { clock, net, client, states } = await started();
    const old = net.last;

    await clock.advance(115 * 60_000);
    net.last.refuse();
    await clock.advance(500);

    expect(net.sockets).toHaveLength(3);
    expect(old.closedWith).toBeNull();
    expect(client.state).toBe("open");
    net.last.accept();
    await clock.advance(0);
    net.last.replyInit();
    await clock.advance(0);
    expect(old.closedWith?.code).toBe(1000);
    expect(states).toEqual(["open"]);
  });
});

describe("replacement edge cases", () => {
  it("falls back to the old connection when the replacement drops before its snapshot", async () => {
    const { clock, net, client, states } = await started();
    const old = net.last;
    await clock.advance(115 * 60_000);
    const fresh = net.last;
    fresh.accept();
    await clock.advance(0);

    fresh.drop();
    await clock.advance(0);
    const sub = client.subscribe("carol");
    await clock.advance(200);

    expect(old.closedWith).toBeNull();
    expect(old.frames("subscribe")).toHaveLength(1);
    old.replyTo("subscribe", { type: "subscribed", friendId: "carol", friend: null });
    await expect(sub).resolves.toBeNull();
    expect(states).toEqual(["open"]);
    await clock.advance(500);
    expect(net.sockets).toHaveLength(3); // the replacement is tried again
  });

  it("asks for a fresh token after a connection attempt that did not open", async () => {
    const asked: boolean[] = [];
    const { clock, net } = start({
      token: ({ forceRefresh }) => {
        asked.push(forceRefresh);
        return "tok";
      },
    });
    await settle();
    net.last.refuse();
    await clock.advance(500);
    net.last.accept();
    await clock.advance(0);
    net.last.drop();
    await clock.advance(1000); // no reply came on it: the backoff goes on growing

    expect(asked).toEqual([false, true, false]);
  });
});

describe("pacing", () => {
  it("sends at most 10 frames in any second, and only the latest of queued positions", async () => {
    // Prepare
    const { clock, net, client } = await started();

    // Act: a burst of 50 positions and 20 subscribes at once.
    for (let i = 1; i <= 50; i++) client.updateLocation(there(i));
    const subs = Array.from({ length: 20 }, (_, i) =>
      client.subscribe(`f${i}`).catch((e: unknown) => e),
    );
    await clock.advance(5000);

    // Assess
    const times = net.last.sent.map((s) => s.at);
    expect(maxPerSecond(times)).toBeLessThanOrEqual(10);
    times.slice(1).forEach((t, i) => {
      expect(t - (times[i] ?? 0)).toBeGreaterThanOrEqual(110);
    });
    expect(net.last.frames("location")).toEqual([expect.objectContaining({ ...there(50) })]);
    expect(net.last.frames("subscribe")).toHaveLength(20);
    await clock.advance(10_000);
    await Promise.all(subs);
  });

  it("coalesces a stream of positions to the latest at each sending slot", async () => {
    const { clock, net, client } = await started({ heartbeatMs: 0 });
    const latest: number[] = [];

    // A position every 20 ms for 2 s.
    for (let i = 1; i <= 100; i++) {
      client.updateLocation(there(i));
      latest.push(i);
      await clock.advance(20);
    }
    await clock.advance(500);

    const locations = net.last.sent.filter((s) => s.frame.action === "location");
    expect(locations.length).toBeLessThanOrEqual(2000 / 110 + 2);
    expect(maxPerSecond(net.last.sent.map((s) => s.at))).toBeLessThanOrEqual(10);
    expect(locations.at(-1)?.frame).toMatchObject(there(100));
  });
});

describe("refused frames", () => {
  it("resends the latest position after retryAfterMs when a location was shed", async () => {
    const { clock, net, client } = await started({ heartbeatMs: 0 });
    client.updateLocation(there(100));
    await clock.advance(200);
    const shed = net.last.last("location");

    net.last.receive({
      type: "error",
      code: "rate_limited",
      retryAfterMs: 1000,
      message: "busy",
      requestId: shed.requestId,
    });
    await clock.advance(999);
    expect(net.last.frames("location")).toHaveLength(1);
    await clock.advance(1);

    expect(net.last.frames("location")).toHaveLength(2);
    expect(net.last.last("location")).toMatchObject(there(100));
  });

  it("does not resend a shed position when a newer one went out meanwhile", async () => {
    const { clock, net, client } = await started({ heartbeatMs: 0 });
    client.updateLocation(there(100));
    await clock.advance(200);
    const shed = net.last.last("location");

    net.last.receive({
      type: "error",
      code: "rate_limited",
      retryAfterMs: 1000,
      message: "busy",
      requestId: shed.requestId,
    });
    client.updateLocation(there(150));
    await clock.advance(5000);

    expect(net.last.frames("location").map((f) => f.lat)).toEqual([there(100).lat, there(150).lat]);
  });

  it("waits a second after rate_limited without retryAfterMs, then resends the request", async () => {
    const { clock, net, client } = await started();
    const sub = client.subscribe("carol");
    await clock.advance(200);
    const first = net.last.last("subscribe");

    net.last.receive({
      type: "error",
      code: "rate_limited",
      message: "slow down",
      requestId: first.requestId,
    });
    await clock.advance(999);
    expect(net.last.frames("subscribe")).toHaveLength(1);
    await clock.advance(1);
    expect(net.last.frames("subscribe")).toHaveLength(2);
    net.last.replyTo("subscribe", {
      type: "subscribed",
      friendId: "carol",
      friend: friend("carol", 5),
    });

    await expect(sub).resolves.toMatchObject({ userId: "carol" });
    expect(client.friends.has("carol")).toBe(true);
  });

  it("retries unavailable with backoff, then fails with the server's error", async () => {
    const { clock, net, client } = await started({ maxRetries: 2, heartbeatMs: 0 });
    const failed = client.subscribe("carol").catch((e: unknown) => e);
    await clock.advance(200);

    const gaps: number[] = [];
    for (let i = 0; i < 3; i++) {
      const refusedAt = clock.now();
      net.last.replyTo("subscribe", { type: "error", code: "unavailable", message: "redis" });
      await clock.advance(2000);
      const resent = net.last.sent.filter((f) => f.frame.action === "subscribe")[i + 1];
      if (resent) gaps.push(resent.at - refusedAt);
    }

    expect(gaps).toEqual([500, 1000]);
    const error = await failed;
    expect(error).toBeInstanceOf(NearbyFriendsError);
    expect(error).toMatchObject({ code: "unavailable" });
    expect(net.last.frames("subscribe")).toHaveLength(3);
  });

  it("answers init_required with init (the latest position), then resends the request", async () => {
    const { clock, net, client } = await started();
    client.updateLocation(there(300));
    await clock.advance(200);
    const ping = client.ping();
    await clock.advance(200);

    net.last.replyTo("ping", { type: "error", code: "init_required", message: "session lost" });
    await clock.advance(0);
    net.last.replyInit();
    await clock.advance(200);
    net.last.replyTo("ping", { type: "pong", serverTime: 42 });

    await expect(ping).resolves.toEqual({ serverTime: 42 });
    expect(net.last.frames().map((f) => f.action)).toEqual([
      "init",
      "location",
      "ping",
      "init",
      "ping",
    ]);
    expect(net.last.last("init")).toMatchObject(there(300));
  });

  it("sends one init for several frames refused with init_required", async () => {
    const { clock, net, client } = await started({ heartbeatMs: 0 });
    client.updateLocation(there(10));
    await clock.advance(120);
    client.updateLocation(there(20));
    await clock.advance(120);
    const [a, b] = net.last.frames("location");

    net.last.receive({
      type: "error",
      code: "init_required",
      message: "x",
      requestId: a?.requestId,
    });
    await clock.advance(200);
    net.last.receive({
      type: "error",
      code: "init_required",
      message: "x",
      requestId: b?.requestId,
    });
    await clock.advance(1000);

    expect(net.last.frames("init")).toHaveLength(2);
    expect(net.last.last("init")).toMatchObject(there(20));
  });

  it("fails a request without a reply with TimeoutError", async () => {
    const { clock, client } = await started();
    const sub = client.subscribe("carol").catch((e: unknown) => e);

    await clock.advance(10_000);

    const error = await sub;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ action: "subscribe", timeoutMs: 10_000 });
  });

  it("rejects with the protocol's code", async () => {
    const { clock, net, client } = await started();
    const sub = client.subscribe("mallory").catch((e: unknown) => e);
    await clock.advance(200);

    net.last.replyTo("subscribe", {
      type: "error",
      code: "not_friends",
      message: "mallory is not your friend",
    });

    const error = await sub;
    expect(error).toBeInstanceOf(NearbyFriendsError);
    expect(error).toMatchObject({
      code: "not_friends",
      message: "mallory is not your friend",
      status: undefined,
    });
  });

  it("reports an error frame about no request of its own on the error event", async () => {
    const { clock, net, client } = await started();
    const errors: Error[] = [];
    client.on("error", (e) => errors.push(e));

    net.last.receive({ message: "Internal server error", connectionId: "c", requestId: "gw-1" });
    net.last.receive({ type: "error", code: "invalid_json", message: "bad" });
    await clock.advance(0);

    expect(errors.map((e) => (e as NearbyFriendsError).code)).toEqual(["internal", "invalid_json"]);
  });
});

describe("the friends model over the wire", () => {
  it("applies pushes and emits nearby, away and change", async () => {
    const { clock, net, client } = await started();
    const log: string[] = [];
    client.on("nearby", (f, prev) => log.push(`nearby ${f.userId} ${f.at} ${prev?.at ?? "-"}`));
    client.on("away", (f, reason) => log.push(`away ${f.userId} ${reason}`));
    client.on("change", (friends) => log.push(`change ${friends.size}`));

    net.last.receive({ type: "friends", updates: [{ state: "nearby", ...friend("bob", 10) }] });
    net.last.receive({ type: "friends", updates: [{ state: "nearby", ...friend("bob", 9) }] });
    net.last.receive({ type: "friends", updates: [{ state: "nearby", ...friend("bob", 12) }] });
    net.last.receive({ type: "friends", updates: [{ state: "away", userId: "bob" }] });
    await clock.advance(0);

    expect(log).toEqual([
      "nearby bob 10 -",
      "change 1",
      "nearby bob 12 10",
      "change 1",
      "away bob away",
      "change 0",
    ]);
  });

  it("fetches the remaining pages of the init snapshot before applying it", async () => {
    const { clock, net, client } = start({ position: HERE, pageSize: 2 });
    const changes: number[] = [];
    client.on("change", (friends) => changes.push(friends.size));
    await settle();
    net.last.accept();
    await clock.advance(0);

    net.last.replyInit([friend("a", 1), friend("b", 1)], "c1");
    await clock.advance(200);
    expect(net.last.last("nearbyFriends")).toMatchObject({ cursor: "c1", limit: 2 });
    net.last.replyTo("nearbyFriends", {
      type: "nearbyFriends",
      friends: [friend("c", 1)],
      cursor: null,
    });
    await clock.advance(0);

    expect([...client.friends.keys()]).toEqual(["a", "b", "c"]);
    expect(changes).toEqual([3]);
  });

  it("drops a snapshot whose pages were cut off by a lost connection, and takes the next one", async () => {
    const { clock, net, client } = start({ position: HERE, pageSize: 1 });
    const errors: Error[] = [];
    client.on("error", (e) => errors.push(e));
    await settle();
    net.last.accept();
    await clock.advance(0);
    net.last.replyInit([friend("a", 1)], "c1");
    await clock.advance(200);

    net.last.drop();
    await clock.advance(500);
    net.last.accept();
    await clock.advance(0);
    net.last.replyInit([friend("b", 1)]);
    await clock.advance(0);

    expect([...client.friends.keys()]).toEqual(["b"]);
    expect(errors).toEqual([]);
  });

  it("resync sends init again and resolves once the snapshot is applied", async () => {
    const { clock, net, client } = await started();
    const done = client.resync();
    await clock.advance(200);

    net.last.replyInit([friend("bob", 3)]);

    await expect(done).resolves.toBeUndefined();
    expect(net.last.frames("init")).toHaveLength(2);
  });

  it("validates positions before sending", () => {
    const { client } = start();
    expect(() => client.updateLocation({ lat: 91, lon: 0 })).toThrow(/lat must be/);
    expect(() => client.updateLocation({ lat: 0, lon: Number.NaN })).toThrow(/lon must be/);
    expect(() => client.updateLocation({ lat: 0, lon: 0, accuracyM: -1 })).toThrow(/accuracyM/);
    client.close();
  });
});

describe("close", () => {
  it("fails pending requests with ClosedError, empties friends and never reconnects", async () => {
    const { clock, net, client, states } = start({ position: HERE });
    await settle();
    net.last.accept();
    await clock.advance(0);
    net.last.replyInit([friend("bob", 1)]);
    const aways: string[] = [];
    client.on("away", (f, reason) => aways.push(`${f.userId}:${reason}`));
    const sub = client.subscribe("carol").catch((e: unknown) => e);
    await clock.advance(0);

    client.close();

    expect(await sub).toBeInstanceOf(ClosedError);
    expect(net.last.closedWith?.code).toBe(1000);
    expect(aways).toEqual(["bob:closed"]);
    expect(states).toEqual(["open", "closed"]);
    await clock.advance(600_000);
    expect(net.sockets).toHaveLength(1);
    expect(clock.pending()).toBe(0);
    expect(() => client.updateLocation(HERE)).toThrow(ClosedError);
  });
});

describe("reporting cadence (§2.10)", () => {
  /** A session whose init reply asked for `reportEveryS`, the device moving every second. */
  async function cadenced(reportEveryS: number, options: Partial<ConnectOptions> = {}) {
    const t = start({ position: HERE, ...options });
    const told: number[] = [];
    t.client.on("cadence", (s) => told.push(s));
    await settle();
    t.net.last.accept();
    await t.clock.advance(0);
    t.net.last.replyInit([], null, 8047, { reportEveryS });
    await t.clock.advance(0);
    const initAt = t.net.last.sent[0]?.at ?? 0;
    const moveFor = async (seconds: number, from = 0) => {
      for (let i = 1; i <= seconds; i++) {
        t.client.updateLocation(there((from + i) * 50));
        await t.clock.advance(1000);
      }
    };
    const locationsAt = () =>
      t.net.last.sent.filter((s) => s.frame.action === "location").map((s) => s.at - initAt);
    return { ...t, told, moveFor, locationsAt };
  }

  it("sends at most one location per reportEveryS while moving, the latest each time", async () => {
    const { client, net, told, moveFor, locationsAt } = await cadenced(10);

    await moveFor(35);

    expect(client.reportEveryS).toBe(10);
    expect(told).toEqual([10]);
    expect(locationsAt()).toEqual([10_000, 20_000, 30_000]);
    // The one sent at 30 s carries the latest position reported by then.
    expect(net.last.last("location")).toMatchObject(there(30 * 50));
  });

  it("on the slow cadence, sends the position again about every reportEveryS while still, and no ping", async () => {
    const { clock, net, locationsAt } = await cadenced(240);

    await clock.advance(720_000);

    expect(locationsAt()).toEqual([240_000, 480_000, 720_000]);
    expect(net.last.frames("ping")).toEqual([]);
  });

  it("on a cadence as slow as the keepalive, the position goes just before the ping would", async () => {
    const { clock, net, locationsAt } = await cadenced(300);

    await clock.advance(900_000);

    expect(locationsAt()).toEqual([299_000, 598_000, 897_000]);
    expect(net.last.frames("ping")).toEqual([]);
  });

  it("keeps the heartbeat on a fast cadence while the device is still", async () => {
    const { clock, locationsAt } = await cadenced(10);

    await clock.advance(120_000);

    expect(locationsAt()).toEqual([55_000, 110_000]);
  });

  it("follows a cadence push at once: a waiting position goes when the faster cadence allows", async () => {
    const { clock, net, client, told, locationsAt } = await cadenced(300);
    await clock.advance(20_000);
    client.updateLocation(there(500));
    await clock.advance(1000);
    expect(locationsAt()).toEqual([]);

    net.last.receive({ type: "cadence", reportEveryS: 10 });
    await clock.advance(0);

    expect(told).toEqual([300, 10]);
    expect(locationsAt()).toEqual([21_000]);
    expect(net.last.last("location")).toMatchObject(there(500));
  });

  it("resends a refused location after retryAfterMs, not after the cadence", async () => {
    const { clock, net, moveFor, locationsAt } = await cadenced(10);
    await moveFor(10);
    expect(locationsAt()).toEqual([10_000]);

    net.last.receive({
      type: "error",
      code: "rate_limited",
      retryAfterMs: 1000,
      message: "busy",
      requestId: net.last.last("location").requestId,
    });
    await clock.advance(1000);

    expect(locationsAt()).toEqual([10_000, 11_000]);
  });

  it("sends every position (paced) when told not to follow the cadence", async () => {
    const { moveFor, locationsAt } = await cadenced(10, { followCadence: false });

    await moveFor(5);

    // The first goes 110 ms after init (pacing), then one a second as reported.
    expect(locationsAt()).toEqual([110, 1000, 2000, 3000, 4000]);
  });
});
