// Redis adapter: positions (hash + TTL, movement filter in one script), the GEO cell index,
// connections, per-user subscriber sets and per-connection "nearby" sets. Multi-key reads are
// issued together so that ioredis auto-pipelining sends them in one round trip (per node).
import type { Result } from "ioredis";
import type { ConnectionState, MoverState, Subscriber } from "../domain/fanout-plan.ts";
import { normalizeSettings, type Settings } from "../domain/settings.ts";
import type { RedisClient } from "./redis-client.ts";
import { CONNECTION_TTL_S, keys, SETTINGS_TTL_S } from "./redis-keys.ts";

/**
 * Store a position and decide whether to publish it, atomically over the user's own key.
 * KEYS[1] loc:{userId}; ARGV lat lon at acc cell ttlS minMoveM heartbeatMs.
 * Returns {prevCell, publish, at, prevPubLat, prevPubLon, prevPubAt}. `at` is made strictly
 * greater than the stored one so that a user's positions never go backwards in time.
 */
const WRITE_LOCATION_LUA = `
local key = KEYS[1]
local lat = tonumber(ARGV[1])
local lon = tonumber(ARGV[2])
local at = tonumber(ARGV[3])
local prev = redis.call('HMGET', key, 'cell', 'pubLat', 'pubLon', 'pubAt', 'at')
local prevAt = tonumber(prev[5])
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
if publish == 1 then redis.call('HSET', key, 'pubLat', ARGV[1], 'pubLon', ARGV[2], 'pubAt', atStr) end
redis.call('EXPIRE', key, tonumber(ARGV[6]))
return {prev[1] or '', publish, atStr, prev[2] or '', prev[3] or '', prev[4] or ''}
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
  /** The stored (server) time of the position, strictly increasing per user. */
  at: number;
  publish: boolean;
  prevCell: string | null;
  /** The published marker before this write (null when there was none), for a rollback. */
  previousPublished: PublishedMarker | null;
}

type ScriptResult = [string, number, string, string, string, string];

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfWriteLocation(key: string, ...args: string[]): Result<ScriptResult, Context>;
    nfRollbackPublish(key: string, ...args: string[]): Result<number, Context>;
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
}

const num = (v: string | null | undefined): number | undefined => {
  if (v === null || v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

function toPosition(fields: (string | null)[]): StoredPosition | null {
  const [lat, lon, at, acc] = fields.map(num);
  if (lat === undefined || lon === undefined || at === undefined) return null;
  return acc === undefined ? { lat, lon, at } : { lat, lon, at, accuracyM: acc };
}

/**
 * A member of `subs:{userId}` names the connection and its user, so that the fan-out learns both
 * in its first round. Neither part can hold a space (user ids and connection ids exclude it).
 */
const subscriberMember = (s: Subscriber): string => `${s.connectionId} ${s.userId}`;

function parseSubscriber(member: string): Subscriber | null {
  const space = member.indexOf(" ");
  if (space <= 0) return null;
  return { connectionId: member.slice(0, space), userId: member.slice(space + 1) };
}

export class RedisStore {
  constructor(readonly redis: RedisClient) {
    defineScripts(redis);
  }

  async writeLocation(w: LocationWrite, policy: MovementPolicy): Promise<WriteOutcome> {
    const [prevCell, publish, at, pLat, pLon, pAt] = await this.redis.nfWriteLocation(
      keys.location(w.userId),
      String(w.lat),
      String(w.lon),
      String(w.at),
      w.accuracyM === undefined ? "" : String(w.accuracyM),
      w.cell,
      String(policy.ttlS),
      String(policy.minMoveM),
      String(policy.heartbeatMs),
    );
    return {
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
      const p = toPosition(rows[i] ?? []);
      if (p) out.set(u, p);
    });
    return out;
  }

  async addConnection(userId: string, connectionId: string, connectedAt: number): Promise<void> {
    const cx = keys.connection(connectionId);
    await Promise.all([
      this.redis.sadd(keys.userConnections(userId), connectionId),
      this.redis.hset(cx, "userId", userId, "connectedAt", String(connectedAt)),
      this.redis.expire(cx, CONNECTION_TTL_S),
    ]);
  }

  /**
   * Forget a connection. Returns whether it was the user's last one (the user went offline, and
   * their position has been removed). Subscriber sets that still name the connection are pruned
   * lazily by the fan-out, which finds its `cx:` key gone.
   */
  async removeConnection(userId: string, connectionId: string): Promise<{ offline: boolean }> {
    const [[remaining, cell]] = await Promise.all([
      this.redis.nfRemoveConnection(
        keys.userConnections(userId),
        keys.location(userId),
        connectionId,
      ),
      this.redis.del(keys.connection(connectionId), keys.nearby(connectionId)),
    ]);
    if (remaining > 0) return { offline: false };
    if (cell !== "") await this.redis.zrem(keys.geoCell(cell), userId);
    return { offline: true };
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

  /** Subscribe a viewer's connection to the updates of each of these users. */
  async subscribe(
    viewerId: string,
    connectionId: string,
    userIds: readonly string[],
  ): Promise<void> {
    const member = subscriberMember({ connectionId, userId: viewerId });
    await Promise.all(userIds.map((u) => this.redis.sadd(keys.subscribers(u), member)));
  }

  async unsubscribe(viewerId: string, connectionId: string, userId: string): Promise<void> {
    await Promise.all([
      this.redis.srem(
        keys.subscribers(userId),
        subscriberMember({ connectionId, userId: viewerId }),
      ),
      this.redis.srem(keys.nearby(connectionId), userId),
    ]);
  }

  /** Replace the set of friends reported nearby to a connection (after a snapshot). */
  async replaceNearby(connectionId: string, userIds: readonly string[]): Promise<void> {
    const k = keys.nearby(connectionId);
    const tx = this.redis.multi().del(k);
    if (userIds.length > 0) tx.sadd(k, ...userIds).expire(k, CONNECTION_TTL_S);
    await tx.exec();
  }

  /** Cached settings of many users, in one round trip; absent where the cache has none. */
  async cachedSettings(userIds: readonly string[]): Promise<Map<string, Settings>> {
    const unique = [...new Set(userIds)];
    const rows = await Promise.all(unique.map((u) => this.redis.get(keys.settings(u))));
    const out = new Map<string, Settings>();
    unique.forEach((u, i) => {
      const raw = rows[i];
      if (raw === null || raw === undefined) return;
      try {
        out.set(u, normalizeSettings(JSON.parse(raw)));
      } catch {
        // an unreadable entry is a miss: it is read again from the table and replaced
      }
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
      conns.map((c) =>
        Promise.all([
          this.redis.srem(
            keys.subscribers(friend),
            subscriberMember({ connectionId: c, userId: viewer }),
          ),
          this.redis.srem(keys.nearby(c), friend),
        ]),
      ),
    );
    return conns.filter((_, i) => rows[i]?.[1] === 1);
  }

  /** Fan-out round 1: each mover's subscriber connections and last published time. */
  async moverStates(userIds: readonly string[]): Promise<Map<string, MoverState>> {
    const rows = await Promise.all(
      userIds.map((u) =>
        Promise.all([
          this.redis.smembers(keys.subscribers(u)),
          this.redis.hget(keys.location(u), "pubAt"),
        ]),
      ),
    );
    const out = new Map<string, MoverState>();
    userIds.forEach((u, i) => {
      const [members, pubAt] = rows[i] ?? [[], null];
      const subscribers = members.flatMap((m) => parseSubscriber(m) ?? []);
      out.set(u, { subscribers, publishedAt: num(pubAt) });
    });
    return out;
  }

  /** Fan-out round 2: whether each connection is alive, and the friends nearby on it. */
  async connectionStates(connectionIds: readonly string[]): Promise<Map<string, ConnectionState>> {
    const rows = await Promise.all(
      connectionIds.map((c) =>
        Promise.all([this.redis.exists(keys.connection(c)), this.redis.smembers(keys.nearby(c))]),
      ),
    );
    const out = new Map<string, ConnectionState>();
    connectionIds.forEach((c, i) => {
      const [alive, nearby] = rows[i] ?? [0, []];
      out.set(c, { alive: alive === 1, nearby: new Set(nearby) });
    });
    return out;
  }

  /** Apply the fan-out's state changes in one round trip. */
  async applyFanoutChanges(changes: {
    nearbyAdd: readonly (readonly [string, string])[];
    nearbyRemove: readonly (readonly [string, string])[];
    deadSubscriptions: readonly (readonly [string, Subscriber])[];
  }): Promise<void> {
    const ops: Promise<unknown>[] = [];
    for (const [conn, friend] of changes.nearbyAdd) {
      ops.push(
        this.redis.sadd(keys.nearby(conn), friend),
        this.redis.expire(keys.nearby(conn), CONNECTION_TTL_S),
      );
    }
    for (const [conn, friend] of changes.nearbyRemove)
      ops.push(this.redis.srem(keys.nearby(conn), friend));
    for (const [mover, sub] of changes.deadSubscriptions)
      ops.push(this.redis.srem(keys.subscribers(mover), subscriberMember(sub)));
    await Promise.all(ops);
  }

  /** Forget a connection that the Management API reported gone (closed without $disconnect). */
  async forgetDeadConnection(
    connectionId: string,
  ): Promise<{ userId: string | null; offline: boolean }> {
    const userId = await this.connectionUser(connectionId);
    if (userId === null) {
      await this.redis.del(keys.nearby(connectionId));
      return { userId, offline: false };
    }
    const { offline } = await this.removeConnection(userId, connectionId);
    return { userId, offline };
  }
}
