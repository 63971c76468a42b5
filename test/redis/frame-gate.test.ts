import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RedisRateLimiter } from "../../functions/adapters/redis/rate-limiter.ts";

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

  it("never leaves a counter without an expiry, even one an earlier version left so", async () => {
    // Prepare: the lost-expiry race of a SET NX + INCR pair: a counter over the limit, no TTL.
    const limiter = new RedisRateLimiter(redis, 10, 200);
    const stuck = randomUUID();
    await redis.set(`rl:{${stuck}}`, "50");
    // Act
    const first = await limiter.allow(stuck);
    // Assess: refused this window, but the window now ends, and the next one allows again.
    expect(first).toBe(false);
    const ttl = await redis.pttl(`rl:{${stuck}}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(200);
    await new Promise((r) => setTimeout(r, 250));
    expect(await limiter.allow(stuck)).toBe(true);
  });

  it("keeps an expiry on every counter while windows roll over under concurrent frames", async () => {
    const limiter = new RedisRateLimiter(redis, 1000, 5);
    const conns = Array.from({ length: 20 }, () => randomUUID());
    for (let round = 0; round < 30; round++) {
      await Promise.all(conns.flatMap((c) => [limiter.allow(c), limiter.allow(c)]));
    }
    const ttls = await Promise.all(conns.map((c) => redis.pttl(`rl:{${c}}`)));
    // -2: expired already (fine); -1 would be a counter stuck without expiry.
    expect(ttls.filter((t) => t === -1)).toEqual([]);
  });
});
