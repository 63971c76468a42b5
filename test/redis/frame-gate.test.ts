import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RedisFrameGate } from "../../functions/adapters/redis/frame-gate.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { enableAutoPipelining: true });
});
afterAll(async () => {
  await redis.quit();
});

const allowed = async (gate: RedisFrameGate, connectionId: string) =>
  (await gate.admit(connectionId)).allowed;

describe("RedisFrameGate", () => {
  it("allows the limit per window and refuses the rest, per connection", async () => {
    const gate = new RedisFrameGate(redis, 10, 300);
    const conn = randomUUID();
    const results = await Promise.all(Array.from({ length: 13 }, () => allowed(gate, conn)));
    expect(results.filter((r) => r)).toHaveLength(10);
    expect(results.slice(10)).toEqual([false, false, false]);
    expect(await allowed(gate, randomUUID())).toBe(true);
    await new Promise((r) => setTimeout(r, 350));
    expect(await allowed(gate, conn)).toBe(true);
  });

  it("never leaves a counter without an expiry, even one an earlier version left so", async () => {
    // Prepare: the lost-expiry race of a SET NX + INCR pair: a counter over the limit, no TTL.
    const gate = new RedisFrameGate(redis, 10, 200);
    const stuck = randomUUID();
    await redis.set(`rl:{${stuck}}`, "50");
    // Act
    const first = await allowed(gate, stuck);
    // Assess: refused this window, but the window now ends, and the next one allows again.
    expect(first).toBe(false);
    const ttl = await redis.pttl(`rl:{${stuck}}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(200);
    await new Promise((r) => setTimeout(r, 250));
    expect(await allowed(gate, stuck)).toBe(true);
  });

  it("keeps an expiry on every counter while windows roll over under concurrent frames", async () => {
    const gate = new RedisFrameGate(redis, 1000, 5);
    const conns = Array.from({ length: 20 }, () => randomUUID());
    for (let round = 0; round < 30; round++) {
      await Promise.all(conns.flatMap((c) => [allowed(gate, c), allowed(gate, c)]));
    }
    const ttls = await Promise.all(conns.map((c) => redis.pttl(`rl:{${c}}`)));
    // -2: expired already (fine); -1 would be a counter stuck without expiry.
    expect(ttls.filter((t) => t === -1)).toEqual([]);
  });

  it("knows a connection while its cx: key exists, and not after it is lost", async () => {
    const gate = new RedisFrameGate(redis);
    const conn = randomUUID();
    expect((await gate.admit(conn)).known).toBe(false);
    await redis.hset(`cx:{${conn}}`, "userId", "alice");
    expect(await gate.admit(conn)).toEqual({ allowed: true, known: true });
    await redis.del(`cx:{${conn}}`);
    expect((await gate.admit(conn)).known).toBe(false);
  });
});
