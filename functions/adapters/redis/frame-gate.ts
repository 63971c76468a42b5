// The per-connection frame counter (`rl:{connectionId}`): a fixed window counted in Redis, so every
// Lambda instance serving the connection shares the count. One script, so the window's expiry is
// set by the same atomic step that creates the key: a counter can never be left without one.
import type { Result } from "ioredis";
import { FRAMES_PER_WINDOW, RATE_WINDOW_MS } from "../../domain/limits.ts";
import type { RateLimiter } from "../../middleware/rate-limit.ts";
import type { RedisClient } from "./client.ts";
import { keys } from "./keys.ts";

/** KEYS[1] rl:{connectionId}; ARGV windowMs. Returns the frame count of the current window. */
const COUNT_FRAME_LUA = `
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfCountFrame(key: string, windowMs: string): Result<number, Context>;
  }
}

export class RedisRateLimiter implements RateLimiter {
  constructor(
    private readonly redis: RedisClient,
    private readonly limit = FRAMES_PER_WINDOW,
    private readonly windowMs = RATE_WINDOW_MS,
  ) {
    redis.defineCommand("nfCountFrame", { numberOfKeys: 1, lua: COUNT_FRAME_LUA });
  }

  async allow(connectionId: string): Promise<boolean> {
    const count = await this.redis.nfCountFrame(
      keys.rateLimit(connectionId),
      String(this.windowMs),
    );
    return count <= this.limit;
  }
}
