// Connections in Redis: `conns:{userId}` (the user's connections, each scored with the time it
// stops counting), `crl:{userId}` (the user's handshakes in the current connect window),
// `cx:{connectionId}` (its user), and the clean-up of everything a connection followed (through its
// `follows:` index).
import type { Result } from "ioredis";
import type { ConnectionRegistry, ConnectRefusal } from "../../app/ports.ts";
import {
  CONNECT_WINDOW_MS,
  CONNECTS_PER_WINDOW,
  MAX_CONNECTIONS_PER_USER,
} from "../../domain/limits.ts";
import { removeFromCell } from "./cell-index.ts";
import type { RedisClient } from "./client.ts";
import { countInWindowLua } from "./fixed-window.ts";
import { CLOSED_CONNECTION_MEMORY_MS, CONNECTION_TTL_S, keys, subscriberField } from "./keys.ts";

// Redis' own clock, in ms: every Lambda's scripts agree on what has expired.
const NOW_MS = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/**
 * A handshake: count it in the connect window (refused ones too), drop the user's entries past
 * their expiry (connections that died without $disconnect), and register the connection unless the
 * user holds the maximum already. One script, so concurrent handshakes cannot pass the cap.
 * KEYS[1] conns:{userId}, KEYS[2] crl:{userId}; ARGV connectionId, ttlMs, maxConnections,
 * connectsPerWindow, windowMs. Returns 0 (registered), 1 (over the connect rate), 2 (at the cap).
 */
const OPEN_CONNECTION_LUA = `${NOW_MS}
${countInWindowLua("KEYS[2]", "ARGV[5]")}
if n > tonumber(ARGV[4]) then return 1 end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) and redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return 2
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
`;

/**
 * Register a connection that is open already (no limit), keeping the expiry of an entry it has;
 * unless it closed already (a late `init`, run after the connection's $disconnect).
 * KEYS[1] conns:{userId}, KEYS[2] closed:{userId}; ARGV connectionId, ttlMs. Returns 0
 * (registered) or 1 (closed).
 */
const ADD_CONNECTION_LUA = `${NOW_MS}
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 1 end
redis.call('ZADD', KEYS[1], 'NX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 0
`;

/**
 * Remove a connection from its user's set (with the entries past their expiry) and remember it as
 * closed for a while (`closed:`, so that its frames still in flight store nothing); when none is
 * left, delete the user's position (the user is offline). KEYS[1] conns:{userId}, KEYS[2]
 * loc:{userId}, KEYS[3] closed:{userId}; ARGV connectionId, closedMemoryMs. Returns {remaining,
 * cellOfDeletedPosition}.
 */
const REMOVE_CONNECTION_LUA = `${NOW_MS}
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[3], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[3], ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local remaining = redis.call('ZCARD', KEYS[1])
if remaining > 0 then return {remaining, ''} end
local cell = redis.call('HGET', KEYS[2], 'cell')
redis.call('DEL', KEYS[2])
return {0, cell or ''}
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfOpenConnection(
      connKey: string,
      rateKey: string,
      connectionId: string,
      ttlMs: string,
      maxConnections: string,
      connectsPerWindow: string,
      windowMs: string,
    ): Result<number, Context>;
    nfAddConnection(
      connKey: string,
      closedKey: string,
      connectionId: string,
      ttlMs: string,
    ): Result<number, Context>;
    nfRemoveConnection(
      connKey: string,
      locKey: string,
      closedKey: string,
      connectionId: string,
      closedMemoryMs: string,
    ): Result<[number, string], Context>;
  }
}

export interface ConnectionLimits {
  maxConnections: number;
  connectsPerWindow: number;
  connectWindowMs: number;
  /**
   * How long an entry of `conns:` counts without a $disconnect: API Gateway closes every connection
   * within 2 h, so one older than this died unreported.
   */
  entryTtlMs: number;
}

const DEFAULT_LIMITS: ConnectionLimits = {
  maxConnections: MAX_CONNECTIONS_PER_USER,
  connectsPerWindow: CONNECTS_PER_WINDOW,
  connectWindowMs: CONNECT_WINDOW_MS,
  entryTtlMs: CONNECTION_TTL_S * 1000,
};

const REFUSALS: Record<number, ConnectRefusal | null> = {
  0: null,
  1: "too_many_connects",
  2: "too_many_connections",
};

export class RedisConnectionRegistry implements ConnectionRegistry {
  private readonly limits: ConnectionLimits;

  constructor(
    private readonly redis: RedisClient,
    limits: Partial<ConnectionLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
    redis.defineCommand("nfOpenConnection", { numberOfKeys: 2, lua: OPEN_CONNECTION_LUA });
    redis.defineCommand("nfAddConnection", { numberOfKeys: 2, lua: ADD_CONNECTION_LUA });
    redis.defineCommand("nfRemoveConnection", { numberOfKeys: 3, lua: REMOVE_CONNECTION_LUA });
  }

  async open(
    userId: string,
    connectionId: string,
    connectedAt: number,
  ): Promise<ConnectRefusal | null> {
    const l = this.limits;
    const outcome = await this.redis.nfOpenConnection(
      keys.userConnections(userId),
      keys.connectRate(userId),
      connectionId,
      String(l.entryTtlMs),
      String(l.maxConnections),
      String(l.connectsPerWindow),
      String(l.connectWindowMs),
    );
    const refusal = REFUSALS[outcome];
    if (refusal === undefined) throw new Error(`unexpected open-connection outcome ${outcome}`);
    if (refusal === null) await this.describe(userId, connectionId, connectedAt);
    return refusal;
  }

  async add(userId: string, connectionId: string, connectedAt: number): Promise<boolean> {
    const closed = await this.redis.nfAddConnection(
      keys.userConnections(userId),
      keys.closedConnections(userId),
      connectionId,
      String(this.limits.entryTtlMs),
    );
    if (closed === 1) return false;
    await this.describe(userId, connectionId, connectedAt);
    return true;
  }

  /** `cx:{connectionId}`: whose connection it is (the connection's own slot, so not in a script). */
  private async describe(userId: string, connectionId: string, connectedAt: number) {
    const cx = keys.connection(connectionId);
    await Promise.all([
      this.redis.hset(cx, "userId", userId, "connectedAt", String(connectedAt)),
      this.redis.expire(cx, CONNECTION_TTL_S),
    ]);
  }

  /**
   * Forget a connection: its subscriptions (through the `follows:` index) and its keys. Returns
   * whether it was the user's last one (the user went offline, and their position was removed),
   * and the users it followed.
   */
  async remove(
    userId: string,
    connectionId: string,
  ): Promise<{ offline: boolean; followed: string[] }> {
    const follows = keys.follows(connectionId);
    const [[remaining, cell], followed] = await Promise.all([
      this.redis.nfRemoveConnection(
        keys.userConnections(userId),
        keys.location(userId),
        keys.closedConnections(userId),
        connectionId,
        String(CLOSED_CONNECTION_MEMORY_MS),
      ),
      this.redis.smembers(follows),
    ]);
    const field = subscriberField({ connectionId, userId });
    await Promise.all([
      ...followed.map((f) => this.redis.hdel(keys.subscribers(f), field)),
      this.redis.del(keys.connection(connectionId), follows),
      ...(remaining === 0 && cell !== "" ? [removeFromCell(this.redis, cell, userId)] : []),
    ]);
    return { offline: remaining === 0, followed };
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
