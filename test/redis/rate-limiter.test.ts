import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RedisRateLimiter } from "../../functions/adapters/rate-limiter.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { enableAutoPipelining: true });
});
afterAll(async () => {
  await redis.quit();
});

describe("RedisRateLimiter", () => {
  it("allows the limit per window and refuses the rest, per connection", async () => {
    const limiter = new RedisRateLimiter(redis, 10, 300);
    const conn = randomUUID();
    const results = await Promise.all(Array.from({ length: 13 }, () => limiter.allow(conn)));
    expect(results.filter((r) => r)).toHaveLength(10);
    expect(results.slice(10)).toEqual([false, false, false]);
    expect(await limiter.allow(randomUUID())).toBe(true);
    await new Promise((r) => setTimeout(r, 350));
    expect(await limiter.allow(conn)).toBe(true);
  });
});
