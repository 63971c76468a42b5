// Connections in Redis: `conn:{userId}` (the user's connections), `cx:{connectionId}` (its user),
// and the clean-up of everything a connection followed (through its `follows:` index).
import type { Result } from "ioredis";
import type { ConnectionRegistry } from "../../app/ports.ts";
import type { RedisClient } from "./client.ts";
import { CONNECTION_TTL_S, keys, subscriberField } from "./keys.ts";

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

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfRemoveConnection(
      connKey: string,
      locKey: string,
      connectionId: string,
    ): Result<[number, string], Context>;
  }
}

export class RedisConnectionRegistry implements ConnectionRegistry {
  constructor(private readonly redis: RedisClient) {
    redis.defineCommand("nfRemoveConnection", { numberOfKeys: 2, lua: REMOVE_CONNECTION_LUA });
  }

  async add(userId: string, connectionId: string, connectedAt: number): Promise<void> {
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
  async remove(userId: string, connectionId: string): Promise<{ offline: boolean }> {
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

  /** Forget a connection that the Management API reported gone (closed without $disconnect). */
  async forgetDead(connectionId: string): Promise<{ userId: string | null; offline: boolean }> {
    const userId = await this.redis.hget(keys.connection(connectionId), "userId");
    if (userId === null) {
      await this.redis.del(keys.follows(connectionId));
      return { userId, offline: false };
    }
    const { offline } = await this.remove(userId, connectionId);
    return { userId, offline };
  }
}
