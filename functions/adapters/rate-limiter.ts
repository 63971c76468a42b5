// Per-connection frame rate limit (PROTOCOL.md §2.7: more than 10 frames a second is
// `rate_limited`): a fixed one-second window counted in Redis, so every Lambda instance that serves
// the connection shares the count. One round trip: the window's creation and the increment are
// pipelined together on the same key.
import type { RedisClient } from "./redis-client.ts";

export interface RateLimiter {
  /** Count a frame; false when the connection has used up its frames for this second. */
  allow(connectionId: string): Promise<boolean>;
}

export const FRAMES_PER_SECOND = 10;

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly limit = FRAMES_PER_SECOND,
    private readonly windowMs = 1000,
  ) {}

  async allow(connectionId: string): Promise<boolean> {
    const key = `rl:{${connectionId}}`;
    const [, count] = await Promise.all([
      this.redis.set(key, "0", "PX", this.windowMs, "NX"),
      this.redis.incr(key),
    ]);
    return count <= this.limit;
  }
}
