// Positions in Redis: `loc:{userId}` (a hash with a TTL; the movement filter applied by a script
// over the user's own key) and the coarse `geo:{cell}` index.
import type { Result } from "ioredis";
import type {
  LocationWrite,
  PositionStore,
  StoredPosition,
  WriteOutcome,
  WritePolicy,
} from "../../app/ports.ts";
import { OUT_OF_ORDER_WINDOW_MS } from "../../domain/movement.ts";
import { RedisCellIndex } from "./cell-index.ts";
import type { RedisClient } from "./client.ts";
import { keys, num } from "./keys.ts";

/**
 * Store a position and decide whether to publish it, atomically over the user's own key.
 * KEYS[1] loc:{userId}, KEYS[2] closed:{userId} (the same slot); ARGV lat lon at acc cell ttlS
 * minMoveM heartbeatMs clientTs connectionId outOfOrderWindowMs. The rule is domain/movement.ts's
 * (`decideWrite`), which a test keeps in step. A frame of a connection that closed already (its
 * $disconnect ran first and left it in `closed:`) stores nothing. Returns {prevCell, publish, at, prevPubLat,
 * prevPubLon, prevPubAt, stale, gone}. `at` is made strictly
 * greater than the stored one so that a user's positions never go backwards in time. A frame of
 * the same connection with an older device time than the stored one (by at most 30 s: more is a
 * clock change, not reordering) arrived out of order: it only refreshes the presence.
 */
const WRITE_LOCATION_LUA = `
if ARGV[10] ~= '' and redis.call('ZSCORE', KEYS[2], ARGV[10]) then
  return {'', 0, '0', '', '', '', 0, 1}
end
local key = KEYS[1]
local lat = tonumber(ARGV[1])
local lon = tonumber(ARGV[2])
local at = tonumber(ARGV[3])
local prev = redis.call('HMGET', key, 'cell', 'pubLat', 'pubLon', 'pubAt', 'at', 'ts', 'tsCx')
local prevAt = tonumber(prev[5])
local ts = tonumber(ARGV[9])
local prevTs = tonumber(prev[6])
if ts and prevTs and ARGV[10] ~= '' and prev[7] == ARGV[10] and ts < prevTs and prevTs - ts <= tonumber(ARGV[11]) then
  redis.call('EXPIRE', key, tonumber(ARGV[6]))
  return {prev[1] or '', 0, prev[5], '', '', '', 1, 0}
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
return {prev[1] or '', publish, atStr, prev[2] or '', prev[3] or '', prev[4] or '', 0, 0}
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

type WriteResult = [string, number, string, string, string, string, number, number];

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfWriteLocation(key: string, closed: string, ...args: string[]): Result<WriteResult, Context>;
    nfRollbackPublish(key: string, ...args: string[]): Result<number, Context>;
  }
}

function toPosition(fields: (string | null)[] | undefined): StoredPosition | null {
  if (!fields || fields[0] === null || fields[0] === undefined) return null;
  const lat = num(fields[0]);
  const lon = num(fields[1]);
  const at = num(fields[2]);
  if (lat === undefined || lon === undefined || at === undefined) return null;
  const acc = num(fields[3]);
  return acc === undefined ? { lat, lon, at } : { lat, lon, at, accuracyM: acc };
}

export class RedisPositionStore implements PositionStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly index: RedisCellIndex = new RedisCellIndex(redis),
  ) {
    redis.defineCommand("nfWriteLocation", { numberOfKeys: 2, lua: WRITE_LOCATION_LUA });
    redis.defineCommand("nfRollbackPublish", { numberOfKeys: 1, lua: ROLLBACK_PUBLISH_LUA });
  }

  async write(w: LocationWrite, policy: WritePolicy): Promise<WriteOutcome> {
    const [prevCell, publish, at, pLat, pLon, pAt, stale, gone] = await this.redis.nfWriteLocation(
      keys.location(w.userId),
      keys.closedConnections(w.userId),
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
      String(OUT_OF_ORDER_WINDOW_MS),
    );
    return {
      stale: stale === 1,
      gone: gone === 1,
      at: Number(at),
      publish: publish === 1,
      prevCell: prevCell === "" ? null : prevCell,
      previousPublished: pAt === "" ? null : { lat: pLat, lon: pLon, at: pAt },
    };
  }

  /**
   * Keep the coarse GEO cell index in step with a write. It lives in other hash slots than the
   * user's key (cluster mode), so it is updated right after the script, idempotently (cell-index.ts).
   */
  async indexCell(
    userId: string,
    w: { lat: number; lon: number; cell: string; at: number; expiresAt: number },
    prevCell: string | null,
  ): Promise<void> {
    await Promise.all([
      this.index.add(userId, w),
      ...(prevCell !== null && prevCell !== w.cell ? [this.index.remove(prevCell, userId)] : []),
    ]);
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

  /** Delete a user's current position and its index entry (the user erased their data). */
  async erase(userId: string): Promise<void> {
    const cell = await this.redis.hget(keys.location(userId), "cell");
    await Promise.all([
      this.redis.del(keys.location(userId)),
      ...(cell ? [this.index.remove(cell, userId)] : []),
    ]);
  }
}
