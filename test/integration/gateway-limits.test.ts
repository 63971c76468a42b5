// What API Gateway itself does before or around the handlers, as a client sees it (PROTOCOL.md
// §1, §2.9, §3, §5), against the local stack or a deployed one: WebSocket frame and message size
// limits, binary frames, frames of one connection run concurrently, and the HTTP API's own replies
// (the JWT authorizer's 401, a path with no route).
import { afterEach, describe, expect, it } from "vitest";
import {
  at,
  type Frame,
  http,
  httpUrl,
  isPushAbout,
  makeFriends,
  newUser,
  type Session,
  Sessions,
  updateAbout,
} from "./client.ts";

const KB = 1024;
const sessions = new Sessions();
afterEach(() => sessions.closeAll());

const closeOf = (s: Session) =>
  new Promise<number>((resolve) => s.ws.once("close", (code) => resolve(code)));

/** Frames that are errors: ours (`type: error`) or API Gateway's ("Internal server error"). */
const errors = (s: Session) =>
  s.frames.filter((f) => f.type === "error" || (f.type === undefined && "message" in f));

describe("WebSocket frames", () => {
  it("closes the connection with 1009 on a single frame over 32 KB", async () => {
    const alice = await newUser("alice");
    const s = await sessions.connect(alice.token);
    const closed = closeOf(s);

    s.send({ action: "ping", requestId: "big", pad: "x".repeat(33 * KB) });

    expect(await closed).toBe(1009);
    expect(s.frames).toEqual([]);
  });

  it("passes a message over 32 KB sent in frames of 32 KB or less to the handlers, which refuse it", async () => {
    const alice = await newUser("alice");
    const s = await sessions.connect(alice.token);
    const text = JSON.stringify({ action: "ping", requestId: "r1", pad: "y".repeat(90 * KB) });
    const parts = Math.ceil(Buffer.byteLength(text) / (30 * KB));

    for (let i = 0; i < parts; i++)
      s.ws.send(text.slice(i * 30 * KB, (i + 1) * 30 * KB), { fin: i === parts - 1 });

    const reply = await s.next((f) => f.type === "error");
    expect(reply).toMatchObject({ type: "error", code: "payload_too_large" });
    expect((await s.request({ action: "ping" })).type).toBe("pong");
  });

  it("closes the connection with 1003 on a binary frame", async () => {
    const alice = await newUser("alice");
    const s = await sessions.connect(alice.token);
    const closed = closeOf(s);

    s.ws.send(Buffer.from(JSON.stringify({ action: "ping", requestId: "b" })), { binary: true });

    expect(await closed).toBe(1003);
    expect(s.frames).toEqual([]);
  });
});

describe("frames of one connection, run concurrently", () => {
  it("leave init, subscribe and location sent back-to-back in a state the protocol allows", async () => {
    for (let round = 0; round < 3; round++) {
      // Prepare: bob online at HOME.
      const alice = await newUser("alice");
      const bob = await newUser("bob");
      await makeFriends(alice, bob);
      const bobWs = await sessions.connect(bob.token);
      await bobWs.request({ action: "init", ...at(0) });
      const aliceWs = await sessions.connect(alice.token);
      const ts = Date.now();

      // Act: the three frames at once; the location is the newer position (ts).
      const initReply = aliceWs.request({ action: "init", ...at(100), ts });
      const subscribeReply = aliceWs.request({ action: "subscribe", friendId: bob.userId });
      aliceWs.send({ action: "location", ...at(600), ts: ts + 1000 });
      const [init, subscribed] = await Promise.all([initReply, subscribeReply]);

      // Assess: each reply is one the protocol allows for some order of the three.
      expect(init).toMatchObject({ type: "init", cursor: null });
      const self = init.self as { lat: number };
      expect([at(100).lat, at(600).lat]).toContain(self.lat);
      const friends = init.friends as { userId: string; lat: number }[];
      expect(friends.map((f) => f.userId)).toEqual([bob.userId]);
      expect(subscribed).toMatchObject({ type: "subscribed", friendId: bob.userId });
      if (subscribed.friend !== null)
        expect(subscribed.friend).toMatchObject({ userId: bob.userId, lat: at(0).lat });
      // bob ends up shown alice's newest position, and it is the one stored.
      await bobWs.next(
        (f) => isPushAbout(alice.userId)(f) && updateAbout(f, alice.userId)?.lat === at(600).lat,
        8000,
      );
      const again = await bobWs.request({ action: "init", ...at(0) });
      expect(again.friends).toMatchObject([{ userId: alice.userId, lat: at(600).lat }]);
      // alice follows bob: his next move reaches her.
      const mark = aliceWs.frames.length;
      bobWs.send({ action: "location", ...at(-300) });
      const push = await aliceWs.next(isPushAbout(bob.userId), 8000, mark);
      expect(updateAbout(push, bob.userId)).toMatchObject({ state: "nearby", lat: at(-300).lat });
      expect(errors(aliceWs)).toEqual([]);
      expect(errors(bobWs)).toEqual([]);
      await sessions.closeAll();
    }
  });
});

describe("the HTTP API's JWT authorizer and routes", () => {
  const raw = async (method: string, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${httpUrl()}${path}`, { method, headers });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text ? (JSON.parse(text) as Frame) : null,
    };
  };

  it("answers 401 with its own body without a valid token", async () => {
    for (const authorization of [undefined, "Bearer not-a-jwt", "not-a-jwt"]) {
      const res = await raw("GET", "/me", authorization ? { authorization } : {});
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ message: "Unauthorized" });
    }
  });

  it("takes the token with or without the Bearer prefix", async () => {
    const alice = await newUser("alice");
    for (const authorization of [`Bearer ${alice.token}`, alice.token]) {
      const res = await raw("GET", "/me", { authorization });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ userId: alice.userId });
    }
  });

  it("answers 404 with its own body on a path with no route, token or not", async () => {
    const alice = await newUser("alice");
    expect(await http("GET", "/no/such/route", alice.token)).toEqual({
      status: 404,
      body: { message: "Not Found" },
    });
    expect(await http("PATCH", "/me", alice.token)).toEqual({
      status: 404,
      body: { message: "Not Found" },
    });
  });
});
