// The per-user HTTP request counter (`hrl:{userId}`): a fixed window counted in Redis, so every
// Lambda instance of every HTTP function shares the count, with the window's expiry set by the same
// atomic step that creates the key (a counter can never be left without one).
import type { Result } from "ioredis";
import { HTTP_RATE_WINDOW_MS, HTTP_REQUESTS_PER_WINDOW } from "../../domain/limits.ts";
import type { RequestAdmission, RequestGate } from "../../middleware/request-gate.ts";
import type { RedisClient } from "./client.ts";
import { countInWindowLua } from "./fixed-window.ts";
import { keys } from "./keys.ts";

/** KEYS[1] hrl:{userId}; ARGV windowMs. Returns {requests in this window, ms until it ends}. */
const ADMIT_REQUEST_LUA = `
${countInWindowLua("KEYS[1]", "ARGV[1]")}
return {n, redis.call('PTTL', KEYS[1])}
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfAdmitRequest(hrl: string, windowMs: string): Result<[number, number], Context>;
  }
}

export class RedisRequestGate implements RequestGate {
  constructor(
    private readonly redis: RedisClient,
    private readonly limit = HTTP_REQUESTS_PER_WINDOW,
    private readonly windowMs = HTTP_RATE_WINDOW_MS,
  ) {
    redis.defineCommand("nfAdmitRequest", { numberOfKeys: 1, lua: ADMIT_REQUEST_LUA });
  }

  async admit(userId: string): Promise<RequestAdmission> {
    const [count, left] = await this.redis.nfAdmitRequest(
      keys.httpRateLimit(userId),
      String(this.windowMs),
    );
    return { allowed: count <= this.limit, retryAfterMs: left };
  }
}
