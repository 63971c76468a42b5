// Live share links end to end through the local stack: the owner's routes, a viewer's handshake
// with ?share=, the `shared` frames (live, approximate, hidden), and the end of a link (revoked,
// expired) within a second, after which its token no longer opens a connection.
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { snapToCellCentre } from "../../functions/domain/geo.ts";
import {
  at,
  type Frame,
  http,
  newUser,
  Session,
  Sessions,
  sleep,
  type TestUser,
  wsUrl,
} from "./client.ts";

const sessions = new Sessions();
const viewers: Session[] = [];
afterEach(async () => {
  await Promise.all([sessions.closeAll(), ...viewers.splice(0).map((v) => v.close())]);
});

interface Created {
  id: string;
  token: string;
  url: string;
  expiresAt: number;
}

async function createLink(
  owner: TestUser,
  body: object = { expiresInS: 3600, precision: "precise" },
): Promise<Created> {
  const res = await http("POST", "/share-links", owner.token, body);
  expect(res.status).toBe(201);
  return res.body as Created;
}

function viewerUrl(token: string): string {
  const url = new URL(wsUrl());
  url.searchParams.set("share", token);
  return url.toString();
}

/** A viewer's connection, closed after the test. */
async function watch(token: string): Promise<Session> {
  const s = await Session.watch(token);
  viewers.push(s);
  return s;
}

/** The handshake status of a viewer with this token, or of a URL (101 when it opened). */
function handshakeStatus(token: string, url = viewerUrl(token)): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => {
      ws.close();
      resolve(101);
    });
    ws.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
    ws.once("error", reject);
  });
}

const isShared = (state: string) => (f: Frame) => f.type === "shared" && f.state === state;

async function ownerOnline(owner: TestUser, m: number): Promise<Session> {
  const ws = await sessions.connect(owner.token);
  await ws.request({ action: "init", ...at(m) });
  return ws;
}

describe("share-links routes", () => {
  it("creates a link with a token shown once, lists it without the token, and validates", async () => {
    const alice = await newUser("alice");
    const link = await createLink(alice, { expiresInS: 120, precision: "approximate" });
    expect(link.id).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(link.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new URL(link.url).searchParams.get("share")).toBe(link.token);
    expect(new URL(link.url).pathname).toBe("/map");
    expect(link.expiresAt).toBeGreaterThan(Date.now() + 100_000);

    const list = await http("GET", "/share-links", alice.token);
    expect(list).toEqual({
      status: 200,
      body: {
        links: [
          {
            id: link.id,
            precision: "approximate",
            createdAt: expect.any(Number),
            expiresAt: link.expiresAt,
          },
        ],
      },
    });
    expect(JSON.stringify(list.body)).not.toContain(link.token);
    // Another user sees none of them, and cannot revoke them.
    const bob = await newUser("bob");
    expect((await http("GET", "/share-links", bob.token)).body).toEqual({ links: [] });
    expect((await http("DELETE", `/share-links/${link.id}`, bob.token)).status).toBe(404);

    for (const [body, field] of [
      [{ expiresInS: 0, precision: "precise" }, "expiresInS"],
      [{ expiresInS: 604_801, precision: "precise" }, "expiresInS"],
      [{ expiresInS: 1.5, precision: "precise" }, "expiresInS"],
      [{ expiresInS: 60, precision: "blurry" }, "precision"],
      [{ expiresInS: 60 }, "precision"],
      [{ expiresInS: 60, precision: "precise", colour: "red" }, "colour"],
    ] as const) {
      const res = await http("POST", "/share-links", alice.token, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error: { code: "invalid_request", message: expect.stringContaining(field) },
      });
    }
    expect((await http("POST", "/share-links")).status).toBe(401);
  });

  it("allows at most 10 active links per user (409 conflict), and a revoked one frees a place", async () => {
    const alice = await newUser("alice");
    const links: Created[] = [];
    for (let i = 0; i < 10; i++) links.push(await createLink(alice));
    const over = await http("POST", "/share-links", alice.token, {
      expiresInS: 60,
      precision: "precise",
    });
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ error: { code: "conflict" } });
    const first = links[0];
    if (!first) throw new Error("no link");
    expect((await http("DELETE", `/share-links/${first.id}`, alice.token)).status).toBe(204);
    expect((await http("DELETE", `/share-links/${first.id}`, alice.token)).status).toBe(404);
    await createLink(alice);
    expect(
      ((await http("GET", "/share-links", alice.token)).body as { links: [] }).links,
    ).toHaveLength(10);
  });
});

describe("a viewer of a share link", () => {
  it("is refused at the handshake with an unknown token, or with a user's token beside it", async () => {
    expect(await handshakeStatus("x".repeat(43))).toBe(401);
    expect(await handshakeStatus("not-a-token")).toBe(401);
    const alice = await newUser("alice");
    const link = await createLink(alice);
    const both = new URL(viewerUrl(link.token));
    both.searchParams.set("token", alice.token);
    const status = await handshakeStatus(link.token, both.toString());
    expect(status).toBe(401);
    expect(await handshakeStatus(link.token)).toBe(101);
  });

  it("gets the user's live position at once and on every published move; may only ping", async () => {
    const alice = await newUser("alice");
    const aliceWs = await ownerOnline(alice, 0);
    const link = await createLink(alice);

    const viewer = await watch(link.token);
    const first = await viewer.next(isShared("live"));
    expect(first).toEqual({
      type: "shared",
      userId: alice.userId,
      displayName: "alice",
      ...at(0),
      at: expect.any(Number),
      precision: "precise",
      state: "live",
    });

    const mark = viewer.frames.length;
    aliceWs.send({ action: "location", ...at(500) });
    const moved = await viewer.next(isShared("live"), 5000, mark);
    expect(moved).toMatchObject({ ...at(500), precision: "precise" });
    expect(moved.at as number).toBeGreaterThan(first.at as number);

    expect(await viewer.request({ action: "location", ...at(9000) })).toMatchObject({
      type: "error",
      code: "unknown_action",
    });
    expect(await viewer.request({ action: "init", ...at(9000) })).toMatchObject({
      type: "error",
      code: "unknown_action",
    });
    expect(await viewer.request({ action: "ping" })).toMatchObject({ type: "pong" });
  });

  it("of an approximate link gets only cell centres", async () => {
    const alice = await newUser("alice");
    const aliceWs = await ownerOnline(alice, 0);
    const link = await createLink(alice, { expiresInS: 600, precision: "approximate" });
    const viewer = await watch(link.token);
    const first = await viewer.next(isShared("live"));
    expect(first).toMatchObject({ ...snapToCellCentre(at(0), 6), precision: "approximate" });

    const mark = viewer.frames.length;
    aliceWs.send({ action: "location", ...at(2500) });
    const moved = await viewer.next(isShared("live"), 5000, mark);
    expect(moved).toMatchObject({ ...snapToCellCentre(at(2500), 6), precision: "approximate" });
    for (const f of viewer.frames.filter(isShared("live"))) {
      expect([at(0).lat, at(2500).lat]).not.toContain(f.lat);
    }
  });

  it("sees the user hidden in ghost mode, live again when it ends, and offline without a position", async () => {
    const alice = await newUser("alice");
    const link = await createLink(alice);
    const viewer = await watch(link.token);
    expect(await viewer.next(isShared("offline"))).toEqual({
      type: "shared",
      userId: alice.userId,
      displayName: "alice",
      state: "offline",
    });

    await ownerOnline(alice, 0);
    await viewer.next(isShared("live"));
    let mark = viewer.frames.length;
    await http("PUT", "/me/settings", alice.token, { sharing: "off" });
    expect(await viewer.next(isShared("hidden"), 5000, mark)).toEqual({
      type: "shared",
      userId: alice.userId,
      state: "hidden",
    });
    // A new viewer meanwhile is told hidden too, and no coordinates.
    const late = await watch(link.token);
    expect(await late.next(isShared("hidden"))).not.toHaveProperty("lat");

    mark = viewer.frames.length;
    await http("PUT", "/me/settings", alice.token, { sharing: "on" });
    expect(await viewer.next(isShared("live"), 5000, mark)).toMatchObject(at(0));
  });

  it("of a revoked link gets shareEnded within 1 s, is closed, and cannot reconnect", async () => {
    const alice = await newUser("alice");
    await ownerOnline(alice, 0);
    const link = await createLink(alice);
    const viewer = await watch(link.token);
    await viewer.next(isShared("live"));
    const closed = new Promise<number>((resolve) =>
      viewer.ws.once("close", (code) => resolve(code)),
    );

    const t0 = Date.now();
    expect((await http("DELETE", `/share-links/${link.id}`, alice.token)).status).toBe(204);
    await viewer.next((f) => f.type === "shareEnded", 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    await closed;
    expect(await handshakeStatus(link.token)).toBe(401);
    expect((await http("GET", "/share-links", alice.token)).body).toEqual({ links: [] });
  });

  it("of an expired link gets shareEnded within 1 s of the expiry, and cannot reconnect", async () => {
    const alice = await newUser("alice");
    await ownerOnline(alice, 0);
    const link = await createLink(alice, { expiresInS: 2, precision: "precise" });
    const viewer = await watch(link.token);
    await viewer.next(isShared("live"));
    const closed = new Promise<void>((resolve) => viewer.ws.once("close", () => resolve()));

    const ended = await viewer.next((f) => f.type === "shareEnded", 4000);
    expect(ended).toEqual({ type: "shareEnded" });
    expect(Date.now()).toBeLessThan(link.expiresAt + 1000);
    await closed;
    expect(await handshakeStatus(link.token)).toBe(401);
    expect((await http("GET", "/share-links", alice.token)).body).toEqual({ links: [] });
  });

  it("is one of at most 20 connections per link: the 21st handshake is refused with 429", async () => {
    const alice = await newUser("alice");
    const link = await createLink(alice);
    for (let i = 0; i < 20; i++) await watch(link.token);
    expect(await handshakeStatus(link.token)).toBe(429);
    // Another link of the same user has its own 20.
    const other = await createLink(alice);
    expect(await handshakeStatus(other.token)).toBe(101);
    // A viewer leaving frees a place.
    const gone = viewers.pop();
    await gone?.close();
    await sleep(300);
    await watch(link.token);
  });
});
