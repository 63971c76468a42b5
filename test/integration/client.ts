// Test clients for the black-box integration tests: HTTP calls and WebSocket sessions.
import { randomUUID } from "node:crypto";
import { inject } from "vitest";
import WebSocket from "ws";
import { cognitoUser } from "./cognito-users.ts";

export const httpUrl = () => inject("httpUrl");
export const wsUrl = () => inject("wsUrl");

export interface HttpReply {
  status: number;
  body: unknown;
}

export async function http(
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<HttpReply> {
  const res = await fetch(`${httpUrl()}${path}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as unknown) : null };
}

export interface TestUser {
  userId: string;
  token: string;
}

/** Set when the tests run against a deployed stack (npm run test:remote). */
const remotePool =
  process.env.NF_USER_POOL_ID && process.env.NF_USER_POOL_CLIENT_ID
    ? {
        region: process.env.NF_REGION ?? process.env.AWS_REGION ?? "us-east-1",
        userPoolId: process.env.NF_USER_POOL_ID,
        clientId: process.env.NF_USER_POOL_CLIENT_ID,
      }
    : null;
export const isRemote = remotePool !== null;

/** A new user with a unique id (tests never share users): Cognito on a deployed stack, /dev/token locally. */
export async function newUser(name: string): Promise<TestUser> {
  if (remotePool) return cognitoUser(remotePool, name);
  const userId = `${name}-${randomUUID().slice(0, 8)}`;
  const res = await http("POST", "/dev/token", undefined, { userId, displayName: name });
  if (res.status !== 200) throw new Error(`POST /dev/token answered ${res.status}`);
  return { userId, token: (res.body as { token: string }).token };
}

export async function makeFriends(a: TestUser, b: TestUser): Promise<void> {
  const asked = await http("POST", "/friends/requests", a.token, { userId: b.userId });
  if (asked.status !== 201) throw new Error(`friend request answered ${asked.status}`);
  const accepted = await http("POST", `/friends/requests/${a.userId}/accept`, b.token);
  if (accepted.status !== 200) throw new Error(`accept answered ${accepted.status}`);
}

export type Frame = Record<string, unknown> & { type?: string };

/** A WebSocket session that records every frame it receives. */
export class Session {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** A session with the stack under test, or with the WebSocket API at `base`. */
  static open(token: string | null, base = wsUrl()): Promise<Session> {
    const url = new URL(base);
    if (token !== null) url.searchParams.set("token", token);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url.toString());
      ws.once("open", () => resolve(new Session(ws)));
      ws.once("unexpected-response", (_req, res) =>
        reject(new Error(`handshake refused: ${res.statusCode}`)),
      );
      ws.once("error", reject);
    });
  }

  /** A share-link viewer's session: the link's token in `share` instead of `token`. */
  static watch(shareToken: string, base = wsUrl()): Promise<Session> {
    const url = new URL(base);
    url.searchParams.set("share", shareToken);
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url.toString());
      ws.once("open", () => resolve(new Session(ws)));
      ws.once("unexpected-response", (_req, res) =>
        reject(new Error(`handshake refused: ${res.statusCode}`)),
      );
      ws.once("error", reject);
    });
  }

  send(frame: object | string): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** Wait for the first received frame (from `from` on) that matches. */
  async next(match: (f: Frame) => boolean, timeoutMs = 5000, from = 0): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.slice(from).find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`,
        );
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Send a frame with a fresh requestId and wait for the reply that echoes it. */
  async request(frame: Record<string, unknown>, timeoutMs = 5000): Promise<Frame> {
    const requestId = randomUUID().slice(0, 12);
    this.send({ ...frame, requestId });
    return this.next((f) => f.requestId === requestId, timeoutMs);
  }

  pushes(): Frame[] {
    return this.frames.filter((f) => f.type === "friends");
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once("close", () => resolve());
      this.ws.close();
    });
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A point `metres` north of (lat, lon). */
export const north = (lat: number, lon: number, metres: number) => ({
  lat: lat + metres / 111_195,
  lon,
});

export interface Update {
  userId: string;
  state: "nearby" | "away";
  lat?: number;
  lon?: number;
  distanceM?: number;
  at?: number;
  precision?: string;
}

/** Matches a `friends` push that carries an update of `state` about `userId`. */
export const isPushAbout =
  (userId: string, state: "nearby" | "away" = "nearby") =>
  (f: Frame) =>
    f.type === "friends" &&
    Array.isArray(f.updates) &&
    (f.updates as Update[]).some((u) => u.userId === userId && u.state === state);

export const updateAbout = (f: Frame, userId: string): Update | undefined =>
  (f.updates as Update[] | undefined)?.find((u) => u.userId === userId);

/** Every update about `userId` received by a session, in order. */
export const updatesAbout = (s: Session, userId: string, from = 0): Update[] =>
  s.frames
    .slice(from)
    .flatMap((f) => (f.type === "friends" ? (f.updates as Update[]) : []))
    .filter((u) => u.userId === userId);

/** Sessions opened by a test, closed after it. */
export class Sessions {
  private readonly open: Session[] = [];
  async connect(token: string | null): Promise<Session> {
    const s = await Session.open(token);
    this.open.push(s);
    return s;
  }
  async closeAll(): Promise<void> {
    await Promise.all(this.open.splice(0).map((s) => s.close()));
  }
}

/** The place the tests gather around, and a point `m` metres north of it. */
export const HOME = { lat: 37.5665, lon: 126.978 };
export const at = (m: number) => north(HOME.lat, HOME.lon, m);

/**
 * Two new friends online: bob announces himself `bobAtM` metres north of HOME, then alice
 * `aliceAtM`; returns once bob has been told that alice is nearby.
 */
export async function friendsOnline(sessions: Sessions, bobAtM: number, aliceAtM: number) {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  await makeFriends(alice, bob);
  const bobWs = await sessions.connect(bob.token);
  await bobWs.request({ action: "init", ...at(bobAtM) });
  const aliceWs = await sessions.connect(alice.token);
  await aliceWs.request({ action: "init", ...at(aliceAtM) });
  await bobWs.next(isPushAbout(alice.userId));
  return { alice, bob, aliceWs, bobWs };
}
