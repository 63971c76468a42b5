// Fault injection (local stack only): Redis is killed and an empty one started on the same port
// mid-session, as in an ElastiCache failover or node replacement. While it is down, requests get
// `unavailable` within the command timeout, a handshake is refused with 503 and /health says so;
// after it, every client is told `init_required` on its next frame and, once it sent `init`,
// receives pushes again.
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import {
  at,
  friendsOnline,
  http,
  isPushAbout,
  newUser,
  Sessions,
  sleep,
  updateAbout,
  wsUrl,
} from "./client.ts";

const sessions = new Sessions();
afterEach(() => sessions.closeAll());

/** The HTTP status a WebSocket handshake gets (101 when it is accepted). */
function handshakeStatus(token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const url = new URL(wsUrl());
    url.searchParams.set("token", token);
    const ws = new WebSocket(url.toString());
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", reject);
  });
}

describe("Redis restart", () => {
  it("refuses clearly while Redis is down, then every client recovers through init", async () => {
    // Prepare: two friends online, each shown to the other.
    const { alice, bob, aliceWs, bobWs } = await friendsOnline(sessions, 0, 500);
    const carol = await newUser("carol");

    // Act 1: Redis dies and stays down for 4 s.
    const restarting = http("POST", "/dev/redis/restart?downMs=4000");
    await sleep(300);

    // Assess 1: health, a frame and a handshake during the outage.
    const health = await http("GET", "/health");
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: "degraded", components: { redis: "down" } });
    const started = Date.now();
    const during = await aliceWs.request({ action: "location", ...at(100) }, 8000);
    expect(during).toMatchObject({ type: "error", code: "unavailable" });
    expect(Date.now() - started).toBeLessThan(3500);
    expect(await handshakeStatus(carol.token)).toBe(503);
    expect((await restarting).status).toBe(200);
    expect((await http("GET", "/health")).status).toBe(200);

    // Act 2: the clients' next frames after the restart.
    const aliceAfter = await aliceWs.request({ action: "location", ...at(150) });
    const bobAfter = await bobWs.request({ action: "ping" });

    // Assess 2: both are told to send init, with nothing lost silently.
    expect(aliceAfter).toMatchObject({ type: "error", code: "init_required" });
    expect(bobAfter).toMatchObject({ type: "error", code: "init_required" });

    // Act 3: both send init again, as the protocol tells them; then alice moves.
    const bobInit = await bobWs.request({ action: "init", ...at(500) });
    const aliceInit = await aliceWs.request({ action: "init", ...at(200) });
    expect(bobInit.type).toBe("init");
    expect(aliceInit.type).toBe("init");
    expect((aliceInit.friends as { userId: string }[]).map((f) => f.userId)).toEqual([bob.userId]);
    const mark = bobWs.frames.length;
    aliceWs.send({ action: "location", ...at(300) });

    // Assess 3: bob receives alice's new position within 5 s, and a new handshake works.
    // (alice's init position may be pushed first: latest wins only among what is published yet.)
    const moved = at(300);
    const push = await bobWs.next(
      (f) => isPushAbout(alice.userId)(f) && updateAbout(f, alice.userId)?.lat === moved.lat,
      5000,
      mark,
    );
    expect(updateAbout(push, alice.userId)).toMatchObject({ state: "nearby", ...moved });
    expect(await handshakeStatus(carol.token)).toBe(101);
  });
});
