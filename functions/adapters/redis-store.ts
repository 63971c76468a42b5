// Redis adapter: positions (hash + TTL, movement filter in one script), the GEO cell index,
// connections, and each user's audience: `subs:{userId}`, a hash of the connections following
// the user with, per connection, whether the user is currently reported nearby to it. Multi-key
// operations are issued together so that ioredis auto-pipelining sends them in one round trip
// (per node in cluster mode).
import type { Result } from "ioredis";
import type { MoverState, Subscriber } from "../domain/fanout-plan.ts";
import { normalizeSettings, type Settings } from "../domain/settings.ts";
import type { RedisClient } from "./redis-client.ts";
import { CONNECTION_TTL_S, keys, SETTINGS_TTL_S } from "./redis-keys.ts";

/**
 * Store a position and decide whether to publish it, atomically over the user's own key.
 * KEYS[1] loc:{userId}; ARGV lat lon at acc cell ttlS minMoveM heartbeatMs clientTs connectionId.
 * Returns {prevCell, publish, at, prevPubLat, prevPubLon, prevPubAt, stale}. `at` is made strictly
 * greater than the stored one so that a user's positions never go backwards in time. A frame of
 * the same connection with an older device time than the stored one (by at most 30 s: more is a
 * clock change, not reordering) arrived out of order: it only refreshes the presence.
 */
const WRITE_LOCATION_LUA = `
local key = KEYS[1]
local lat = tonumber(ARGV[1])
local lon = tonumber(ARGV[2])
local at = tonumber(ARGV[3])
local prev = redis.call('HMGET', key, 'cell', 'pubLat', 'pubLon', 'pubAt', 'at', 'ts', 'tsCx')
local prevAt = tonumber(prev[5])
local ts = tonumber(ARGV[9])
local prevTs = tonumber(prev[6])
if ts and prevTs and ARGV[10] ~= '' and prev[7] == ARGV[10] and ts < prevTs and prevTs - ts <= 30000 then
  redis.call('EXPIRE', key, tonumber(ARGV[6]))
  return {prev[1] or '', 0, prev[5], '', '', '', 1}
end
if prevAt and at <= prevAt then at = prevAt + 1 end
local atStr = string.format('%.0f', at)
local publish = 0
local pubAt = tonumber(prev[4])
if not pubAt then
  publish = 1
elseif at - pubAt >= tonumber(ARGV[8]) then
  publish = 1
else
  local rad = math.pi / 180
  local plat = tonumber(prev[2])
  local plon = tonumber(prev[3])
  local dlat = (lat - plat) * rad
  local dlon = (lon - plon) * rad
  local h = math.sin(dlat / 2) ^ 2 + math.cos(plat * rad) * math.cos(lat * rad) * math.sin(dlon / 2) ^ 2
  local d = 2 * 6371008.8 * math.asin(math.min(1, math.sqrt(h)))
  if d >= tonumber(ARGV[7]) then publish = 1 end
end
redis.call('HSET', key, 'lat', ARGV[1], 'lon', ARGV[2], 'at', atStr, 'cell', ARGV[5])
if ARGV[4] ~= '' then redis.call('HSET', key, 'acc', ARGV[4]) else redis.call('HDEL', key, 'acc') end
if ts and ARGV[10] ~= '' then redis.call('HSET', key, 'ts', ARGV[9], 'tsCx', ARGV[10]) else redis.call('HDEL', key, 'ts', 'tsCx') end
if publish == 1 then redis.call('HSET', key, 'pubLat', ARGV[1], 'pubLon', ARGV[2], 'pubAt', atStr) end
redis.call('EXPIRE', key, tonumber(ARGV[6]))
return {prev[1] or '', publish, atStr, prev[2] or '', prev[3] or '', prev[4] or '', 0}
`;

/** Compare-and-reset of the published marker: undo a publish whose PutRecord failed. */
const ROLLBACK_PUBLISH_LUA = `
if redis.call('HGET', KEYS[1], 'pubAt') ~= ARGV[1] then return 0 end
if ARGV[4] == '' then
  redis.call('HDEL', KEYS[1], 'pubLat', 'pubLon', 'pubAt')
else
  redis.call('HSET', KEYS[1], 'pubLat', ARGV[2], 'pubLon', ARGV[3], 'pubAt', ARGV[4])
end
return 1
`;

/**
 * Remove a connection from its user's set; when it was the last one, delete the user's position
 * (the user is offline). KEYS[1] conn:{userId}, KEYS[2] loc:{userId}; ARGV connectionId.
 * Returns {remaining, cellOfDeletedPosition}.
 */
const REMOVE_CONNECTION_LUA = `
redis.call('SREM', KEYS[1], ARGV[1])
local remaining = redis.call('SCARD', KEYS[1])
if remaining > 0 then return {remaining, ''} end
local cell = redis.call('HGET', KEYS[2], 'cell')
redis.call('DEL', KEYS[2])
return {0, cell or ''}
`;

/**
 * Set "nearby" flags of a user's subscribers, only where the subscription still exists, so that a
 * fan-out racing with an unsubscribe or an unfriend never brings the subscription back.
 * KEYS[1] subs:{userId}; ARGV member flag member flag ...
 */
const SET_FLAGS_LUA = `
local n = 0
for i = 1, #ARGV, 2 do
  if redis.call('HEXISTS', KEYS[1], ARGV[i]) == 1 then
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    n = n + 1
  end
end
return n
`;

/**
 * Everything the fan-out needs about one mover, in one command (the keys share the user's slot):
 * KEYS[1] subs:{userId}, KEYS[2] loc:{userId}, KEYS[3] settings:{userId}.
 * Returns {flat subs hash, pubAt or '', settings JSON or ''}.
 */
const MOVER_STATE_LUA = `
return {
  redis.call('HGETALL', KEYS[1]),
  redis.call('HGET', KEYS[2], 'pubAt') or '',
  redis.call('GET', KEYS[3]) or ''
}
`;

export interface StoredPosition {
  lat: number;
  lon: number;
  at: number;
  accuracyM?: number;
}

export interface LocationWrite {
  userId: string;
  lat: number;
  lon: number;
  at: number;
  accuracyM?: number;
  cell: string;
  /** The device's time and the connection that sent it, to detect frames arriving out of order. */
  clientTs?: number;
  connectionId?: string;
}

export interface MovementPolicy {
  ttlS: number;
  minMoveM: number;
  heartbeatMs: number;
}

export interface PublishedMarker {
  lat: string;
  lon: string;
  at: string;
}

export interface WriteOutcome {
  /** The frame arrived after a newer one of the same connection: nothing but presence was stored. */
  stale: boolean;
  /** The stored (server) time of the position, strictly increasing per user. */
  at: number;
  publish: boolean;
  prevCell: string | null;
  /** The published marker before this write (null when there was none), for a rollback. */
  previousPublished: PublishedMarker | null;
}

type ScriptResult = [string, number, string, string, string, string, number];

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfWriteLocation(key: string, ...args: string[]): Result<ScriptResult, Context>;
    nfRollbackPublish(key: string, ...args: string[]): Result<number, Context>;
    nfSetFlags(key: string, ...args: string[]): Result<number, Context>;
    nfMoverState(
      subs: string,
      loc: string,
      settings: string,
    ): Result<[string[], string, string], Context>;
    nfRemoveConnection(
      connKey: string,
      locKey: string,
      connectionId: string,
    ): Result<[number, string], Context>;
  }
}

function defineScripts(redis: RedisClient): void {
  redis.defineCommand("nfWriteLocation", { numberOfKeys: 1, lua: WRITE_LOCATION_LUA });
  redis.defineCommand("nfRollbackPublish", { numberOfKeys: 1, lua: ROLLBACK_PUBLISH_LUA });
  redis.defineCommand("nfRemoveConnection", { numberOfKeys: 2, lua: REMOVE_CONNECTION_LUA });
  redis.defineCommand("nfSetFlags", { numberOfKeys: 1, lua: SET_FLAGS_LUA });
  redis.defineCommand("nfMoverState", { numberOfKeys: 3, lua: MOVER_STATE_LUA });
}

const num = (v: string | null | undefined): number | undefined => {
  if (v === null || v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

function toPosition(fields: (string | null)[] | undefined): StoredPosition | null {
  if (!fields || fields[0] === null || fields[0] === undefined) return null;
  const lat = num(fields[0]);
  const lon = num(fields[1]);
  const at = num(fields[2]);
  if (lat === undefined || lon === undefined || at === undefined) return null;
  const acc = num(fields[3]);
  return acc === undefined ? { lat, lon, at } : { lat, lon, at, accuracyM: acc };
}

/**
 * A field of `subs:{userId}` names the connection and its user, so that the fan-out learns both,
 * and whether the user is nearby on it, with one read per mover. Neither part holds a space.
 */
const subscriberField = (s: Pick<Subscriber, "connectionId" | "userId">): string =>
  `${s.connectionId} ${s.userId}`;

function parseSubscriber(field: string, flag: string): Subscriber | null {
  const space = field.indexOf(" ");
  if (space <= 0) return null;
  return {
    connectionId: field.slice(0, space),
    userId: field.slice(space + 1),
    nearby: flag === "1",
  };
}

/** A cached settings entry; undefined for a miss (or an unreadable entry, read again and replaced). */
function parseSettings(raw: string): Settings | undefined {
  if (raw === "") return undefined;
  try {
    return normalizeSettings(JSON.parse(raw));
  } catch {
    return undefined;
  }
}

/** A change of the "nearby" flag of one subscription: [the followed user, the subscriber, nearby]. */
export type FlagChange = readonly [string, Pick<Subscriber, "connectionId" | "userId">, boolean];

export class RedisStore {
  constructor(readonly redis: RedisClient) {
    defineScripts(redis);
  }

  async writeLocation(w: LocationWrite, policy: MovementPolicy): Promise<WriteOutcome> {
    const [prevCell, publish, at, pLat, pLon, pAt, stale] = await this.redis.nfWriteLocation(
      keys.location(w.userId),
      String(w.lat),
      String(w.lon),
      String(w.at),
      w.accuracyM === undefined ? "" : String(w.accuracyM),
      w.cell,
      String(policy.ttlS),
      String(policy.minMoveM),
      String(policy.heartbeatMs),
      w.clientTs === undefined ? "" : String(w.clientTs),
      w.connectionId ?? "",
    );
    return {
      stale: stale === 1,
      at: Number(at),
      publish: publish === 1,
      prevCell: prevCell === "" ? null : prevCell,
      previousPublished: pAt === "" ? null : { lat: pLat, lon: pLon, at: pAt },
    };
  }

  /**
   * Keep the coarse GEO cell index in step with a write. It lives in other hash slots than the
   * user's key (cluster mode), so it is updated right after the script, idempotently.
   */
  async indexCell(
    userId: string,
    w: { lat: number; lon: number; cell: string },
    prevCell: string | null,
  ) {
    const ops: Promise<unknown>[] = [this.redis.geoadd(keys.geoCell(w.cell), w.lon, w.lat, userId)];
    if (prevCell !== null && prevCell !== w.cell)
      ops.push(this.redis.zrem(keys.geoCell(prevCell), userId));
    await Promise.all(ops);
  }

  /** Undo the published marker of a write whose publication failed, unless a newer write replaced it. */
  async rollbackPublish(userId: string, outcome: WriteOutcome): Promise<boolean> {
    const p = outcome.previousPublished;
    const done = await this.redis.nfRollbackPublish(
      keys.location(userId),
      String(outcome.at),
      p?.lat ?? "",
      p?.lon ?? "",
      p?.at ?? "",
    );
    return done === 1;
  }

  /** Current positions (absent when expired, i.e. offline) of many users, in one round trip. */
  async positions(userIds: readonly string[]): Promise<Map<string, StoredPosition>> {
    const unique = [...new Set(userIds)];
    const rows = await Promise.all(
      unique.map((u) => this.redis.hmget(keys.location(u), "lat", "lon", "at", "acc")),
    );
    const out = new Map<string, StoredPosition>();
    unique.forEach((u, i) => {
      const p = toPosition(rows[i]);
      if (p) out.set(u, p);
    });
    return out;
  }

  async addConnection(userId: string, connectionId: string, connectedAt: number): Promise<void> {
    const cx = keys.connection(connectionId);
    await Promise.all([
      this.redis.sadd(keys.userConnections(userId), connectionId),
      // Every member is a connection that lives at most 2 h: the set need not outlive the newest.
      this.redis.expire(keys.userConnections(userId), CONNECTION_TTL_S),
      this.redis.hset(cx, "userId", userId, "connectedAt", String(connectedAt)),
      this.redis.expire(cx, CONNECTION_TTL_S),
    ]);
  }

  /**
   * Forget a connection: its subscriptions (through the `follows:` index) and its keys. Returns
   * whether it was the user's last one (the user went offline, and their position was removed).
   */
  async removeConnection(userId: string, connectionId: string): Promise<{ offline: boolean }> {
    const follows = keys.follows(connectionId);
    const [[remaining, cell], followed] = await Promise.all([
      this.redis.nfRemoveConnection(
        keys.userConnections(userId),
        keys.location(userId),
        connectionId,
      ),
      this.redis.smembers(follows),
    ]);
    const field = subscriberField({ connectionId, userId });
    await Promise.all([
      ...followed.map((f) => this.redis.hdel(keys.subscribers(f), field)),
      this.redis.del(keys.connection(connectionId), follows),
      ...(remaining === 0 && cell !== "" ? [this.redis.zrem(keys.geoCell(cell), userId)] : []),
    ]);
    return { offline: remaining === 0 };
  }

  /** Delete a user's current position and its index entry (the user erased their data). */
  async erasePosition(userId: string): Promise<void> {
    const cell = await this.redis.hget(keys.location(userId), "cell");
    await Promise.all([
      this.redis.del(keys.location(userId)),
      ...(cell ? [this.redis.zrem(keys.geoCell(cell), userId)] : []),
    ]);
  }

  /** The user that holds a connection, or null when the connection is gone. */
  async connectionUser(connectionId: string): Promise<string | null> {
    return this.redis.hget(keys.connection(connectionId), "userId");
  }

  /** Subscribe a viewer's connection to the updates of each of these users (not nearby yet). */
  async subscribe(
    viewerId: string,
    connectionId: string,
    userIds: readonly string[],
  ): Promise<void> {
    if (userIds.length === 0) return;
    const field = subscriberField({ connectionId, userId: viewerId });
    const follows = keys.follows(connectionId);
    await Promise.all([
      // Every member of a subs: hash belongs to a connection that lives at most 2 h: a hash nobody
      // subscribed to for longer than the connection TTL holds only dead members.
      ...userIds.flatMap((u) => [
        this.redis.hset(keys.subscribers(u), field, "0"),
        this.redis.expire(keys.subscribers(u), CONNECTION_TTL_S),
      ]),
      this.redis.sadd(follows, ...userIds),
      this.redis.expire(follows, CONNECTION_TTL_S),
    ]);
  }

  async unsubscribe(viewerId: string, connectionId: string, userId: string): Promise<void> {
    await Promise.all([
      this.redis.hdel(
        keys.subscribers(userId),
        subscriberField({ connectionId, userId: viewerId }),
      ),
      this.redis.srem(keys.follows(connectionId), userId),
    ]);
  }

  /** Record which followed users are reported nearby to which connections (existing subscriptions only). */
  async setNearbyFlags(changes: readonly FlagChange[]): Promise<void> {
    const byUser = new Map<string, string[]>();
    for (const [user, sub, nearby] of changes) {
      const args = byUser.get(user) ?? [];
      args.push(subscriberField(sub), nearby ? "1" : "0");
      byUser.set(user, args);
    }
    await Promise.all(
      [...byUser].map(([user, args]) => this.redis.nfSetFlags(keys.subscribers(user), ...args)),
    );
  }

  /** Cached settings of many users, in one round trip; absent where the cache has none. */
  async cachedSettings(userIds: readonly string[]): Promise<Map<string, Settings>> {
    const unique = [...new Set(userIds)];
    const rows = await Promise.all(unique.map((u) => this.redis.get(keys.settings(u))));
    const out = new Map<string, Settings>();
    unique.forEach((u, i) => {
      const cachedSettings = parseSettings(rows[i] ?? "");
      if (cachedSettings) out.set(u, cachedSettings);
    });
    return out;
  }

  async cacheSettings(entries: ReadonlyMap<string, Settings>): Promise<void> {
    await Promise.all(
      [...entries].map(([u, settings]) =>
        this.redis.set(keys.settings(u), JSON.stringify(settings), "EX", SETTINGS_TTL_S),
      ),
    );
  }

  /**
   * Stop every connection of `viewer` from following `friend` (they are no longer friends).
   * Returns the connections that had `friend` reported nearby: they are owed an `away`.
   */
  async unlink(viewer: string, friend: string): Promise<string[]> {
    const conns = await this.redis.smembers(keys.userConnections(viewer));
    const rows = await Promise.all(
      conns.map((c) => {
        const field = subscriberField({ connectionId: c, userId: viewer });
        return Promise.all([
          this.redis.hget(keys.subscribers(friend), field),
          this.redis.hdel(keys.subscribers(friend), field),
          this.redis.srem(keys.follows(c), friend),
        ]);
      }),
    );
    return conns.filter((_, i) => rows[i]?.[0] === "1");
  }

  /**
   * Fan-out round 1: each mover's subscribers (with their nearby flags), last published time and
   * cached settings (absent on a cache miss), one command per mover.
   */
  async moverStates(
    userIds: readonly string[],
  ): Promise<Map<string, MoverState & { settings?: Settings }>> {
    const rows = await Promise.all(
      userIds.map((u) =>
        this.redis.nfMoverState(keys.subscribers(u), keys.location(u), keys.settings(u)),
      ),
    );
    const out = new Map<string, MoverState & { settings?: Settings }>();
    userIds.forEach((u, i) => {
      const [flat = [], pubAt = "", settings = ""] = rows[i] ?? [];
      const subscribers: Subscriber[] = [];
      for (let j = 0; j + 1 < flat.length; j += 2) {
        const sub = parseSubscriber(flat[j] ?? "", flat[j + 1] ?? "0");
        if (sub) subscribers.push(sub);
      }
      const cached = parseSettings(settings);
      out.set(u, { subscribers, publishedAt: num(pubAt), ...(cached ? { settings: cached } : {}) });
    });
    return out;
  }

  /** Remove subscriptions whose connection is gone: [followed user, subscriber]. */
  async removeSubscriptions(
    pairs: readonly (readonly [string, Pick<Subscriber, "connectionId" | "userId">])[],
  ): Promise<void> {
    await Promise.all(
      pairs.map(([user, sub]) => this.redis.hdel(keys.subscribers(user), subscriberField(sub))),
    );
  }

  /** Forget a connection that the Management API reported gone (closed without $disconnect). */
  async forgetDeadConnection(
    connectionId: string,
  ): Promise<{ userId: string | null; offline: boolean }> {
    const userId = await this.connectionUser(connectionId);
    if (userId === null) {
      await this.redis.del(keys.follows(connectionId));
      return { userId, offline: false };
    }
    const { offline } = await this.removeConnection(userId, connectionId);
    return { userId, offline };
  }
}
