// Each user's audience in Redis: `subs:{userId}`, a hash of the connections following the user
// with, per connection, whether the user is currently shown nearby to it; `follows:{connectionId}`,
// the users a connection follows (so that a disconnect cleans up exactly); the fan-out also reads
// `sview:{userId}`, the user's share-link viewers (share-viewers.ts). Multi-key operations
// are issued together so that ioredis auto-pipelining sends them in one round trip (per node).
import type { Result } from "ioredis";
import type { Audience, FlagChange, MoverAudience } from "../../app/ports.ts";
import type { Subscriber } from "../../domain/fanout-plan.ts";
import type { ShareViewer } from "../../domain/share-links.ts";
import type { RedisClient } from "./client.ts";
import { CONNECTION_TTL_S, keys, num, parseShareViewer, subscriberField } from "./keys.ts";
import { parseSettings } from "./settings-cache.ts";

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
 * KEYS[1] subs:{userId}, KEYS[2] loc:{userId}, KEYS[3] settings:{userId}, KEYS[4] sview:{userId}.
 * Returns {flat subs hash, {pubLat, pubLon, pubAt, fanAt}, settings JSON or '', flat sview hash}.
 */
const MOVER_STATE_LUA = `
return {
  redis.call('HGETALL', KEYS[1]),
  redis.call('HMGET', KEYS[2], 'pubLat', 'pubLon', 'pubAt', 'fanAt'),
  redis.call('GET', KEYS[3]) or '',
  redis.call('HGETALL', KEYS[4])
}
`;

/**
 * Record that a mover's published position went out (only ever raised, and only while the user's
 * position exists). KEYS[1] loc:{userId}; ARGV at.
 */
const MARK_FANNED_LUA = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local cur = tonumber(redis.call('HGET', KEYS[1], 'fanAt'))
if cur and cur >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'fanAt', ARGV[1])
return 1
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfSetFlags(key: string, ...args: string[]): Result<number, Context>;
    nfMoverState(
      subs: string,
      loc: string,
      settings: string,
      viewers: string,
    ): Result<[string[], (string | null)[], string, string[]], Context>;
    nfMarkFanned(loc: string, at: string): Result<number, Context>;
  }
}

function parseSubscriber(field: string, flag: string): Subscriber | null {
  const space = field.indexOf(" ");
  if (space <= 0) return null;
  return {
    connectionId: field.slice(0, space),
    userId: field.slice(space + 1),
    nearby: flag === "1",
  };
}

export class RedisAudience implements Audience {
  constructor(private readonly redis: RedisClient) {
    redis.defineCommand("nfSetFlags", { numberOfKeys: 1, lua: SET_FLAGS_LUA });
    redis.defineCommand("nfMoverState", { numberOfKeys: 4, lua: MOVER_STATE_LUA });
    redis.defineCommand("nfMarkFanned", { numberOfKeys: 1, lua: MARK_FANNED_LUA });
  }

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

  async unlink(viewer: string, friend: string): Promise<string[]> {
    const conns = await this.redis.zrange(keys.userConnections(viewer), 0, -1);
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
   * Fan-out round 1: each mover's subscribers (with their nearby flags), newest published position,
   * what of it was fanned out already, and cached settings (absent on a cache miss), one command
   * per mover.
   */
  async moverStates(userIds: readonly string[]): Promise<Map<string, MoverAudience>> {
    const rows = await Promise.all(
      userIds.map((u) =>
        this.redis.nfMoverState(
          keys.subscribers(u),
          keys.location(u),
          keys.settings(u),
          keys.shareViewers(u),
        ),
      ),
    );
    const out = new Map<string, MoverAudience>();
    userIds.forEach((u, i) => {
      const [flat = [], [pubLat, pubLon, pubAt, fanAt] = [], settings = "", sview = []] =
        rows[i] ?? [];
      const subscribers: Subscriber[] = [];
      for (let j = 0; j + 1 < flat.length; j += 2) {
        const sub = parseSubscriber(flat[j] ?? "", flat[j + 1] ?? "0");
        if (sub) subscribers.push(sub);
      }
      const viewers: ShareViewer[] = [];
      for (let j = 0; j + 1 < sview.length; j += 2) {
        const viewer = parseShareViewer(sview[j] ?? "", sview[j + 1] ?? "");
        if (viewer) viewers.push(viewer);
      }
      const cached = parseSettings(settings);
      const lat = num(pubLat);
      const lon = num(pubLon);
      const at = num(pubAt);
      out.set(u, {
        subscribers,
        published:
          lat !== undefined && lon !== undefined && at !== undefined ? { lat, lon, at } : undefined,
        fannedAt: num(fanAt),
        ...(viewers.length > 0 ? { viewers } : {}),
        ...(cached ? { settings: cached } : {}),
      });
    });
    return out;
  }

  async markFanned(entries: readonly (readonly [string, number])[]): Promise<void> {
    await Promise.all(
      entries.map(([user, at]) => this.redis.nfMarkFanned(keys.location(user), String(at))),
    );
  }

  async removeSubscriptions(
    pairs: readonly (readonly [string, Pick<Subscriber, "connectionId" | "userId">])[],
  ): Promise<void> {
    await Promise.all(
      pairs.map(([user, sub]) => this.redis.hdel(keys.subscribers(user), subscriberField(sub))),
    );
  }
}
