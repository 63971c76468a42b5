// The per-connection frame counter (`rl:{connectionId}`) and session check (`cx:{connectionId}`) in
// one script: a fixed window counted in Redis, so every Lambda instance serving the connection
// shares the count, with the window's expiry set by the same atomic step that creates the key (a
// counter can never be left without one).
import type { Result } from "ioredis";
import { FRAMES_PER_WINDOW, RATE_WINDOW_MS } from "../../domain/limits.ts";
import type { Admission, FrameGate } from "../../middleware/frame-gate.ts";
import type { RedisClient } from "./client.ts";
import { countInWindowLua } from "./fixed-window.ts";
import { keys } from "./keys.ts";

/** KEYS[1] rl:{c}, KEYS[2] cx:{c}; ARGV windowMs. Returns {frames in this window, cx exists}. */
const ADMIT_FRAME_LUA = `
${countInWindowLua("KEYS[1]", "ARGV[1]")}
return {n, redis.call('EXISTS', KEYS[2])}
`;

declare module "ioredis" {
  interface RedisCommander<Context> {
    nfAdmitFrame(rl: string, cx: string, windowMs: string): Result<[number, number], Context>;
  }
}

export class RedisFrameGate implements FrameGate {
  constructor(
    private readonly redis: RedisClient,
    private readonly limit = FRAMES_PER_WINDOW,
    private readonly windowMs = RATE_WINDOW_MS,
  ) {
    redis.defineCommand("nfAdmitFrame", { numberOfKeys: 2, lua: ADMIT_FRAME_LUA });
  }

  async admit(connectionId: string): Promise<Admission> {
    const [count, known] = await this.redis.nfAdmitFrame(
      keys.rateLimit(connectionId),
      keys.connection(connectionId),
      String(this.windowMs),
    );
    return { allowed: count <= this.limit, known: known === 1 };
  }
}
