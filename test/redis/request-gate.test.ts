// The per-user HTTP request counter against a real redis-server: a fixed window, atomic, expiring.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RedisRequestGate } from "../../functions/adapters/redis/request-gate.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { enableAutoPipelining: true });
});
afterAll(async () => {
  await redis.quit();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("RedisRequestGate", () => {
  it("allows the limit per window and per user, refuses the rest, and says when to retry", async () => {
    // Prepare
    const gate = new RedisRequestGate(redis, 5, 300);
    const alice = randomUUID();
    // Act
    const results = await Promise.all(Array.from({ length: 8 }, () => gate.admit(alice)));
    // Assess
    expect(results.filter((r) => r.allowed)).toHaveLength(5);
    for (const r of results) {
      expect(r.retryAfterMs).toBeGreaterThan(0);
      expect(r.retryAfterMs).toBeLessThanOrEqual(300);
    }
    expect((await gate.admit(randomUUID())).allowed).toBe(true);
    await sleep(350);
    expect((await gate.admit(alice)).allowed).toBe(true);
  });

  it("never leaves a counter without an expiry", async () => {
    const gate = new RedisRequestGate(redis, 5, 200);
    const stuck = randomUUID();
    await redis.set(`hrl:{${stuck}}`, "50");
    const first = await gate.admit(stuck);
    expect(first.allowed).toBe(false);
    expect(first.retryAfterMs).toBe(200);
    expect(await redis.pttl(`hrl:{${stuck}}`)).toBeGreaterThan(0);
    await sleep(250);
    expect((await gate.admit(stuck)).allowed).toBe(true);
  });
});
