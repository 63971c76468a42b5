// End to end through the stack: HTTP friends API, WebSocket sessions, the stream, fan-out, history.
import { afterEach, describe, expect, it } from "vitest";
import {
  http,
  isPushAbout,
  makeFriends,
  newUser,
  north,
  Session,
  sleep,
  updateAbout,
  updatesAbout,
} from "./client.ts";

const SEOUL = { lat: 37.5665, lon: 126.978 };
const open: Session[] = [];
const session = async (token: string | null) => {
  const s = await Session.open(token);
  open.push(s);
  return s;
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

describe("authentication and ping", () => {
  it("refuses a WebSocket handshake without a valid token", async () => {
    const alice = await newUser("alice");
    const [header, payload, signature = ""] = alice.token.split(".");
    const tampered = `${header}.${payload}.${signature.slice(0, -4)}AAAA`;
    await expect(Session.open(null)).rejects.toThrow(/handshake refused: 401/);
    await expect(Session.open("not-a-jwt")).rejects.toThrow(/handshake refused: 401/);
    await expect(Session.open(tampered)).rejects.toThrow(/handshake refused: 401/);
  });

  it("refuses HTTP calls without a valid token", async () => {
    const res = await http("GET", "/me");
    expect(res.status).toBe(401);
    // API Gateway's JWT authorizer answers with its own body (the local stack too).
    expect(res.body).toEqual({ message: "Unauthorized" });
    const bad = await http("GET", "/friends", "garbage");
    expect(bad.status).toBe(401);
  });

  it("answers ping with pong and the server time", async () => {
    const alice = await newUser("alice");
    const s = await session(alice.token);
    const before = Date.now();
    const pong = await s.request({ action: "ping" });
    expect(pong.type).toBe("pong");
    expect(pong.serverTime).toBeGreaterThanOrEqual(before - 1000);
  });
});

describe("profile and friends API", () => {
  it("reads and updates the profile", async () => {
    const alice = await newUser("alice");
    expect((await http("GET", "/me", alice.token)).body).toEqual({
      userId: alice.userId,
      displayName: "alice",
    });
    const put = await http("PUT", "/me", alice.token, { displayName: "Alice A." });
    expect(put).toEqual({ status: 200, body: { userId: alice.userId, displayName: "Alice A." } });
    const bad = await http("PUT", "/me", alice.token, { displayName: "" });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({
      error: { code: "invalid_request", message: expect.stringContaining("displayName") },
    });
  });

  it("keeps the sharing settings when the profile changes", async () => {
    const alice = await newUser("alice");
    const ghost = {
      sharing: "off",
      ghostUntil: null,
      friends: { bob: "hidden" },
      discoverable: false,
    };
    expect((await http("PUT", "/me/settings", alice.token, ghost)).status).toBe(200);
    expect((await http("PUT", "/me", alice.token, { displayName: "Al" })).status).toBe(200);
    expect((await http("GET", "/me/settings", alice.token)).body).toEqual(ghost);
    expect((await http("GET", "/me", alice.token)).body).toEqual({
      userId: alice.userId,
      displayName: "Al",
    });
  });

  it("runs the friend request life cycle", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    expect(
      await http("POST", "/friends/requests", alice.token, { userId: alice.userId }),
    ).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request" } },
    });
    expect(
      (await http("POST", "/friends/requests", alice.token, { userId: "nobody-xyz-404" })).status,
    ).toBe(404);
    expect(
      (await http("POST", "/friends/requests", alice.token, { userId: "bad id!" })).status,
    ).toBe(400);

    expect(await http("POST", "/friends/requests", alice.token, { userId: bob.userId })).toEqual({
      status: 201,
      body: { status: "pending" },
    });
    const bobRequests = (await http("GET", "/friends/requests", bob.token)).body as {
      incoming: { userId: string; at: number }[];
      outgoing: unknown[];
    };
    expect(bobRequests.incoming.map((r) => r.userId)).toEqual([alice.userId]);
    expect(bobRequests.outgoing).toEqual([]);
    const aliceRequests = (await http("GET", "/friends/requests", alice.token)).body as {
      outgoing: { userId: string }[];
    };
    expect(aliceRequests.outgoing.map((r) => r.userId)).toEqual([bob.userId]);

    expect((await http("POST", `/friends/requests/${bob.userId}/accept`, alice.token)).status).toBe(
      404,
    );
    expect(await http("POST", `/friends/requests/${alice.userId}/accept`, bob.token)).toEqual({
      status: 200,
      body: { status: "friends" },
    });
    const friends = (await http("GET", "/friends", alice.token)).body as {
      friends: { userId: string; displayName: string; since: number }[];
    };
    expect(friends.friends).toEqual([
      { userId: bob.userId, displayName: "bob", since: expect.any(Number) },
    ]);
    expect(
      (await http("POST", "/friends/requests", bob.token, { userId: alice.userId })).status,
    ).toBe(409);

    expect((await http("DELETE", `/friends/${bob.userId}`, alice.token)).status).toBe(204);
    expect((await http("GET", "/friends", bob.token)).body).toEqual({ friends: [] });
    expect((await http("DELETE", `/friends/${bob.userId}`, alice.token)).status).toBe(404);
  });

  it("makes two users friends when both asked, and lets a request be declined", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const carol = await newUser("carol");
    await http("POST", "/friends/requests", alice.token, { userId: bob.userId });
    expect(await http("POST", "/friends/requests", bob.token, { userId: alice.userId })).toEqual({
      status: 200,
      body: { status: "friends" },
    });
    await http("POST", "/friends/requests", carol.token, { userId: alice.userId });
    expect((await http("DELETE", `/friends/requests/${carol.userId}`, alice.token)).status).toBe(
      204,
    );
    expect((await http("GET", "/friends/requests", carol.token)).body).toEqual({
      incoming: [],
      outgoing: [],
    });
  });
});

describe("bad frames", () => {
  it("answers each bad frame with its error code and keeps the connection working", async () => {
    const alice = await newUser("alice");
    const s = await session(alice.token);
    s.send("this is not json");
    expect(await s.next((f) => f.type === "error")).toMatchObject({ code: "invalid_json" });
    s.send("[1,2]");
    expect(await s.next((f) => f.type === "error", 5000, 1)).toMatchObject({
      code: "invalid_json",
    });
    expect(await s.request({ foo: 1 })).toMatchObject({ type: "error", code: "unknown_action" });
    expect(await s.request({ action: "fly" })).toMatchObject({
      type: "error",
      code: "unknown_action",
      message: expect.stringContaining("fly"),
    });
    expect(await s.request({ action: "init", lon: 1 })).toMatchObject({
      type: "error",
      code: "invalid_request",
      message: expect.stringContaining("lat"),
    });
    expect(await s.request({ action: "location", lat: 91, lon: 0 })).toMatchObject({
      code: "invalid_request",
      message: "lat must be a number between -90 and 90",
    });
    expect(await s.request({ action: "location", lat: 0, lon: "east" })).toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("lon"),
    });
    expect(await s.request({ action: "init", ...SEOUL, limit: 0 })).toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("limit"),
    });
    expect(await s.request({ action: "subscribe", friendId: "a b" })).toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("friendId"),
    });
    // Ten frames so far: the rate limit counts every frame, so the next ones wait for a new second.
    await sleep(1100);
    // Over 32 KB, sent as API Gateway requires: in frames of at most 32 KB (a bigger single frame
    // closes the connection, 1009).
    const big = JSON.stringify({ action: "ping", pad: "x".repeat(33 * 1024) });
    const mark = s.frames.length;
    s.ws.send(big.slice(0, 16 * 1024), { fin: false });
    s.ws.send(big.slice(16 * 1024), { fin: true });
    expect(await s.next((f) => f.type === "error", 5000, mark)).toMatchObject({
      code: "payload_too_large",
    });
    // Nothing was stored by the refused frames: the user has no position, so no history.
    const pong = await s.request({ action: "ping" });
    expect(pong.type).toBe("pong");
    expect(s.ws.readyState).toBe(s.ws.OPEN);
    expect((await http("GET", "/me/history", alice.token)).body).toEqual({
      items: [],
      cursor: null,
    });
  });
});

describe("rate limit", () => {
  it("refuses frames over 10 a second with rate_limited, changing nothing, and recovers", async () => {
    const alice = await newUser("alice");
    const s = await session(alice.token);
    const points = Array.from({ length: 15 }, (_, i) => north(SEOUL.lat, SEOUL.lon, 200 + i * 100));
    for (const [i, p] of points.entries()) s.send({ action: "location", ...p, requestId: `f${i}` });
    // Every refused frame has its reply by then, even on a busy machine.
    await sleep(1500);
    const limited = s.frames.filter((f) => f.type === "error");
    expect(limited.length).toBeGreaterThanOrEqual(1);
    expect(limited.length).toBeLessThanOrEqual(5);
    expect(
      limited.every((f) => f.code === "rate_limited" && /^f\d+$/.test(String(f.requestId))),
    ).toBe(true);
    // Only the accepted frames were stored and published (each moved 100 m: all are in history).
    const refused = new Set(limited.map((f) => f.requestId));
    const accepted = points.filter((_, i) => !refused.has(`f${i}`)).map((p) => p.lat);
    let items: { lat: number }[] = [];
    // History is written from the stream behind a 5 s batching window (lib/stream-consumers.ts).
    for (let i = 0; i < 150 && items.length < accepted.length; i++) {
      await sleep(100);
      items = (
        (await http("GET", "/me/history?limit=500", alice.token)).body as {
          items: { lat: number }[];
        }
      ).items;
    }
    const byValue = (a: number, b: number) => a - b;
    expect(items.map((i) => i.lat).sort(byValue)).toEqual([...accepted].sort(byValue));
    await sleep(500);
    const init = await s.request({ action: "init", ...SEOUL });
    expect(init.type).toBe("init");
  });

  it("counts every frame: a flood of pings and garbage gets rate_limited too", async () => {
    const alice = await newUser("alice");
    const s = await session(alice.token);
    for (let i = 0; i < 15; i++) s.send({ action: "ping", requestId: `p${i}` });
    for (let i = 0; i < 5; i++) s.send("not json at all");
    await sleep(500);
    const pongs = s.frames.filter((f) => f.type === "pong");
    const limited = s.frames.filter((f) => f.type === "error" && f.code === "rate_limited");
    // Frames run concurrently (as in AWS): garbage may be counted among the first ten and get
    // invalid_json.
    const garbage = s.frames.filter((f) => f.type === "error" && f.code === "invalid_json");
    expect(pongs.length + garbage.length).toBeLessThanOrEqual(10);
    expect(pongs.length + limited.length + garbage.length).toBe(
      s.frames.filter((f) => f.type === "pong" || f.type === "error").length,
    );
    // 20 frames in well under a second: at least 10 are refused, garbage included, and the refused
    // pings still echo their requestId.
    expect(limited.length).toBeGreaterThanOrEqual(10);
    expect(limited.filter((f) => f.requestId === undefined).length + garbage.length).toBe(5);
    expect(
      limited
        .filter((f) => f.requestId !== undefined)
        .every((f) => /^p\d+$/.test(String(f.requestId))),
    ).toBe(true);
    await sleep(1000);
    expect((await s.request({ action: "ping" })).type).toBe("pong");
  });
});

describe("locations, fan-out and history", () => {
  it("pushes a friend's move with the right distance, and nothing to a stranger", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const carol = await newUser("carol");
    await makeFriends(alice, bob);

    const bobWs = await session(bob.token);
    const carolWs = await session(carol.token);
    const bobInit = await bobWs.request({ action: "init", ...SEOUL });
    expect(bobInit).toMatchObject({ type: "init", radiusM: 8047, friends: [], cursor: null });
    await carolWs.request({ action: "init", ...SEOUL });

    const aliceWs = await session(alice.token);
    const start = north(SEOUL.lat, SEOUL.lon, 1000);
    const aliceInit = await aliceWs.request({ action: "init", ...start, accuracyM: 10 });
    expect(aliceInit).toMatchObject({
      type: "init",
      self: { lat: start.lat, lon: start.lon, at: expect.any(Number) },
      friends: [{ userId: bob.userId, lat: SEOUL.lat, lon: SEOUL.lon, precision: "precise" }],
      cursor: null,
    });
    const [bobSeen] = aliceInit.friends as { distanceM: number }[];
    expect(Math.abs((bobSeen?.distanceM ?? 0) - 1000)).toBeLessThanOrEqual(2);

    // bob learns that alice came online, then that she moved 300 m further away.
    const first = await bobWs.next(isPushAbout(alice.userId));
    expect(Math.abs((updateAbout(first, alice.userId)?.distanceM ?? 0) - 1000)).toBeLessThanOrEqual(
      2,
    );
    const moved = north(SEOUL.lat, SEOUL.lon, 1300);
    const mark = bobWs.frames.length;
    aliceWs.send({ action: "location", ...moved, accuracyM: 8, ts: Date.now() });
    const push = await bobWs.next(isPushAbout(alice.userId), 5000, mark);
    expect(updateAbout(push, alice.userId)).toMatchObject({
      userId: alice.userId,
      state: "nearby",
      lat: moved.lat,
      lon: moved.lon,
      precision: "precise",
    });
    expect(Math.abs((updateAbout(push, alice.userId)?.distanceM ?? 0) - 1300)).toBeLessThanOrEqual(
      2,
    );

    await sleep(500);
    expect(carolWs.pushes()).toEqual([]);
    expect(aliceWs.frames.filter((f) => f.type === "error")).toEqual([]);
  });

  it("does not push a move under the minimum distance, and reports a disconnecting friend away", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    await makeFriends(alice, bob);
    const bobWs = await session(bob.token);
    await bobWs.request({ action: "init", ...SEOUL });
    const aliceWs = await Session.open(alice.token);
    await aliceWs.request({ action: "init", ...north(SEOUL.lat, SEOUL.lon, 500) });
    await bobWs.next(isPushAbout(alice.userId));
    const mark = bobWs.frames.length;
    aliceWs.send({ action: "location", ...north(SEOUL.lat, SEOUL.lon, 510) });
    await sleep(800);
    expect(bobWs.frames.slice(mark)).toEqual([]);

    await aliceWs.close();
    const away = await bobWs.next(isPushAbout(alice.userId, "away"), 5000, mark);
    expect(updateAbout(away, alice.userId)).toEqual({
      userId: alice.userId,
      state: "away",
      at: expect.any(Number),
    });
  });

  it("subscribes to friends only", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const mallory = await newUser("mallory");
    await makeFriends(alice, bob);
    const bobWs = await session(bob.token);
    await bobWs.request({ action: "init", ...SEOUL });
    const aliceWs = await session(alice.token);
    await aliceWs.request({ action: "init", ...north(SEOUL.lat, SEOUL.lon, 200) });

    expect(await aliceWs.request({ action: "subscribe", friendId: mallory.userId })).toMatchObject({
      type: "error",
      code: "not_friends",
    });
    const sub = await aliceWs.request({ action: "subscribe", friendId: bob.userId });
    expect(sub).toMatchObject({
      type: "subscribed",
      friendId: bob.userId,
      friend: { userId: bob.userId, lat: SEOUL.lat, lon: SEOUL.lon, precision: "precise" },
    });
    expect(await aliceWs.request({ action: "unsubscribe", friendId: bob.userId })).toMatchObject({
      type: "unsubscribed",
      friendId: bob.userId,
    });
    const mark = aliceWs.frames.length;
    const moved = north(SEOUL.lat, SEOUL.lon, -300);
    bobWs.send({ action: "location", ...moved });
    await sleep(800);
    // (A late push of bob's first position may still arrive; his move after unsubscribing never does.)
    expect(updatesAbout(aliceWs, bob.userId, mark).filter((u) => u.lat === moved.lat)).toEqual([]);
  });

  it("records published positions in the history, newest first", async () => {
    const alice = await newUser("alice");
    const aliceWs = await session(alice.token);
    const p1 = north(SEOUL.lat, SEOUL.lon, 0);
    const p2 = north(SEOUL.lat, SEOUL.lon, 400);
    const p3 = north(SEOUL.lat, SEOUL.lon, 800);
    const ts = Date.now();
    await aliceWs.request({ action: "init", ...p1, accuracyM: 5, ts });
    // Paced: frames of one connection run concurrently (as in AWS), and the 5 m move must come
    // after p2 to be the one the movement filter drops.
    aliceWs.send({ action: "location", ...p2, accuracyM: 6, ts: ts + 1 });
    await sleep(200);
    aliceWs.send({ action: "location", ...north(SEOUL.lat, SEOUL.lon, 405) });
    await sleep(200);
    aliceWs.send({ action: "location", ...p3 });

    let items: {
      lat: number;
      lon: number;
      at: number;
      clientTs: number | null;
      accuracyM: number | null;
    }[] = [];
    // History is written from the stream behind a 5 s batching window (lib/stream-consumers.ts).
    for (let i = 0; i < 150 && items.length < 3; i++) {
      await sleep(100);
      items = ((await http("GET", "/me/history", alice.token)).body as { items: typeof items })
        .items;
    }
    expect(items.map((i) => i.lat)).toEqual([p3.lat, p2.lat, p1.lat]);
    expect(items[2]).toMatchObject({ lon: p1.lon, clientTs: ts, accuracyM: 5 });
    expect(items[0]).toMatchObject({ clientTs: null, accuracyM: null });
    const [newest, middle, oldest] = items.map((i) => i.at);
    expect(newest).toBeGreaterThan(middle ?? 0);
    expect(middle).toBeGreaterThan(oldest ?? 0);

    const page1 = (await http("GET", "/me/history?limit=2", alice.token)).body as {
      items: unknown[];
      cursor: string;
    };
    expect(page1.items).toHaveLength(2);
    const page2 = (await http("GET", `/me/history?limit=2&cursor=${page1.cursor}`, alice.token))
      .body as {
      items: { lat: number }[];
    };
    expect(page2.items.map((i) => i.lat)).toEqual([p1.lat]);
    const ranged = (await http("GET", `/me/history?from=${middle}&to=${middle}`, alice.token))
      .body as {
      items: { lat: number }[];
    };
    expect(ranged.items.map((i) => i.lat)).toEqual([p2.lat]);
    expect((await http("GET", "/me/history?limit=501", alice.token)).status).toBe(400);

    const bob = await newUser("bob");
    expect((await http("GET", "/me/history", bob.token)).body).toEqual({ items: [], cursor: null });
  });
});
