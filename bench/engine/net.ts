// The network side of the load tool and the simulator: HTTP calls with retries, bounded concurrency, WebSocket
// handshakes, and the decoding of server frames (network data is checked, never trusted).
import WebSocket from "ws";

export interface HttpReply {
  status: number;
  body: unknown;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One HTTP call as a client makes it; a 5xx or a network error is retried with backoff (every
 * request of the protocol may be sent again), the last reply or error is returned / thrown.
 */
export async function http(
  baseUrl: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<HttpReply> {
  const attempts = 4;
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${baseUrl}${path}`, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await res.text();
      let parsed: unknown = null;
      try {
        parsed = text ? (JSON.parse(text) as unknown) : null;
      } catch {
        parsed = text;
      }
      if (res.status < 500 || attempt >= attempts) return { status: res.status, body: parsed };
    } catch (err) {
      if (attempt >= attempts) throw err;
    }
    await sleep(100 * 2 ** attempt);
  }
}

/** Run `fn` over `items` with at most `limit` calls in flight; stops starting new ones on `stop()`. */
export async function pool<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<void>,
  stopped: () => boolean = () => false,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (!stopped()) {
      const i = next++;
      const item = items[i];
      if (item === undefined) return;
      await fn(item, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Open a WebSocket; rejects on a refused handshake, an error or after `timeoutMs`. */
export function openSocket(url: string, timeoutMs: number): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
    ws.once("open", () => resolve(ws));
    ws.once("unexpected-response", (_req, res) => {
      ws.terminate();
      reject(new Error(`handshake refused: ${res.statusCode ?? "?"}`));
    });
    ws.once("error", reject);
  });
}

// --- Server frames -------------------------------------------------------------------------------

export interface NearbyUpdate {
  userId: string;
  state: "nearby";
  lat: number;
  lon: number;
  at: number;
}
export interface AwayUpdate {
  userId: string;
  state: "away";
}
export type Update = NearbyUpdate | AwayUpdate;

export interface FriendPosition {
  userId: string;
  lat: number;
  lon: number;
  at: number;
}

export type ServerFrame =
  | { type: "init"; requestId: string | null; radiusM: number | null; friends: FriendPosition[] }
  | { type: "friends"; updates: Update[]; malformed: number }
  | { type: "error"; requestId: string | null; code: string }
  /** API Gateway's (and the local gateway's) frame for a crashed route: no `type`. */
  | { type: "gateway-error"; requestId: null }
  | { type: "other"; name: string }
  | { type: "unparsable" };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);

function friendPosition(v: unknown): FriendPosition | null {
  if (!isObj(v)) return null;
  const userId = str(v.userId);
  const lat = num(v.lat);
  const lon = num(v.lon);
  const at = num(v.at);
  if (userId === null || lat === null || lon === null || at === null) return null;
  return { userId, lat, lon, at };
}

function update(v: unknown): Update | null {
  if (!isObj(v)) return null;
  const userId = str(v.userId);
  if (userId === null) return null;
  if (v.state === "away") return { userId, state: "away" };
  if (v.state !== "nearby") return null;
  const position = friendPosition(v);
  return position === null ? null : { ...position, state: "nearby" };
}

export function decodeFrame(text: string): ServerFrame {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { type: "unparsable" };
  }
  if (!isObj(value)) return { type: "unparsable" };
  const requestId = str(value.requestId);
  switch (value.type) {
    case "init": {
      const raw = Array.isArray(value.friends) ? value.friends : [];
      const friends = raw.map(friendPosition).filter((f): f is FriendPosition => f !== null);
      return { type: "init", requestId, radiusM: num(value.radiusM), friends };
    }
    case "friends": {
      const raw: unknown[] = Array.isArray(value.updates) ? value.updates : [];
      const updates = raw.map(update).filter((u): u is Update => u !== null);
      return { type: "friends", updates, malformed: raw.length - updates.length };
    }
    case "error":
      return { type: "error", requestId, code: str(value.code) ?? "(no code)" };
    case undefined:
      return typeof value.message === "string"
        ? { type: "gateway-error", requestId: null }
        : { type: "unparsable" };
    default:
      return { type: "other", name: String(value.type) };
  }
}
