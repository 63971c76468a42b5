// The coarse cell index in Redis: `geo:{cell}` (a GEO set of the users whose position is in that
// precision-4 cell) and `geoexp:{cell}` (each member's expiry, ms). Both keys carry the cell as
// hash tag, so each script below touches one slot (cluster-safe); a search runs one script per
// cell, sent together (auto-pipelining).
import type { Result } from "ioredis";
import type { CellIndex } from "../../app/ports.ts";
import type { LatLon } from "../../domain/geo.ts";
import type { RedisClient } from "./client.ts";
import { keys } from "./keys.ts";

/** Expired members dropped by one index write or search, at most: bounds each script's work. */
export const PRUNE_PER_CALL = 100;

/** Drop up to PRUNE_PER_CALL members whose expiry (KEYS[2]) is at or before ARGV[1] (now). */
const PRUNE = `
local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, ${PRUNE_PER_CALL})
if #old > 0 then
  redis.call('ZREM', KEYS[1], unpack(old))
  redis.call('ZREM', KEYS[2], unpack(old))
end
`;

/**
 * Index a user in a cell until an expiry, pruning expired members on the way; both keys live as
 * long as their newest entry. KEYS[1] geo:{cell}, KEYS[2] geoexp:{cell}; ARGV now lon lat userId
 * expiresAt.
 */
const INDEX_LUA = `${PRUNE}
redis.call('GEOADD', KEYS[1], ARGV[2], ARGV[3], ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
local ttl = math.max(1, tonumber(ARGV[5]) - tonumber(ARGV[1]))
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
if redis.call('PTTL', KEYS[2]) < ttl then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`;

/**
 * The members within a radius of a point, nearest first, at most a count; a member without a live
 * expiry (expired, or indexed before expiries existed) is removed instead of returned. KEYS[1]
 * geo:{cell}, KEYS[2] geoexp:{cell}; ARGV now lon lat radiusM count.
 */
const NEAR_LUA = `${PRUNE}
local found = redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', ARGV[2], ARGV[3], 'BYRADIUS', ARGV[4], 'm', 'ASC', 'COUNT', ARGV[5])
local out = {}
local now = tonumber(ARGV[1])
for _, member in ipairs(found) do
  local expiry = tonumber(redis.call('ZSCORE', KEYS[2], member))
  if expiry and expiry > now then
    out[#out + 1] = member
  else
    redis.call('ZREM', KEYS[1], member)
    redis.call('ZREM', KEYS[2], member)
  end
end
return out
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfIndexCell(geo: string, expiry: string, ...args: string[]): Result<number, Context>;
    nfNearInCell(geo: string, expiry: string, ...args: string[]): Result<string[], Context>;
  }
}

/** Remove `userId` from a cell's index (moved away, offline, erased): both keys, one slot. */
export async function removeFromCell(
  redis: RedisClient,
  cell: string,
  userId: string,
): Promise<void> {
  await Promise.all([
    redis.zrem(keys.geoCell(cell), userId),
    redis.zrem(keys.geoExpiry(cell), userId),
  ]);
}

export class RedisCellIndex implements CellIndex {
  constructor(private readonly redis: RedisClient) {
    redis.defineCommand("nfIndexCell", { numberOfKeys: 2, lua: INDEX_LUA });
    redis.defineCommand("nfNearInCell", { numberOfKeys: 2, lua: NEAR_LUA });
  }

  /** Index `userId` at a position in `cell` until `expiresAt` (ms; `at` is now); idempotent. */
  async add(
    userId: string,
    w: { lat: number; lon: number; cell: string; at: number; expiresAt: number },
  ): Promise<void> {
    await this.redis.nfIndexCell(
      keys.geoCell(w.cell),
      keys.geoExpiry(w.cell),
      String(w.at),
      String(w.lon),
      String(w.lat),
      userId,
      String(w.expiresAt),
    );
  }

  remove(cell: string, userId: string): Promise<void> {
    return removeFromCell(this.redis, cell, userId);
  }

  async near(
    cells: readonly string[],
    centre: LatLon,
    radiusM: number,
    perCell: number,
    now: number,
  ): Promise<string[]> {
    const found = await Promise.all(
      cells.map((cell) =>
        this.redis.nfNearInCell(
          keys.geoCell(cell),
          keys.geoExpiry(cell),
          String(now),
          String(centre.lon),
          String(centre.lat),
          String(radiusM),
          String(perCell),
        ),
      ),
    );
    return [...new Set(found.flat())];
  }
}
