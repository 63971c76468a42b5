// The connection registry's limits against a real redis-server: the per-user connection cap and
// handshake rate, counted in the script that registers the connection, and entries of connections
// that died without $disconnect ageing out.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type ConnectionLimits,
  RedisConnectionRegistry,
} from "../../functions/adapters/redis/connections.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { enableAutoPipelining: true });
});
afterAll(async () => {
  await redis.quit();
});

const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const registry = (limits: Partial<ConnectionLimits> = {}) =>
  new RedisConnectionRegistry(redis, limits);

describe("RedisConnectionRegistry.open", () => {
  it("registers up to the cap and refuses the rest, however many handshakes race", async () => {
    // Prepare
    const connections = registry({ maxConnections: 5, connectsPerWindow: 100 });
    const alice = uid("alice");
    const ids = Array.from({ length: 20 }, () => uid("c"));
    // Act
    const outcomes = await Promise.all(ids.map((c) => connections.open(alice, c, 1)));
    // Assess
    const admitted = ids.filter((_, i) => outcomes[i] === null);
    expect(admitted).toHaveLength(5);
    expect(outcomes.filter((o) => o === "too_many_connections")).toHaveLength(15);
    expect((await redis.zrange(`conns:{${alice}}`, 0, -1)).sort()).toEqual(admitted.sort());
    const described = await Promise.all(ids.map((c) => redis.exists(`cx:{${c}}`)));
    expect(ids.filter((_, i) => described[i] === 1).sort()).toEqual(admitted.sort());
    // Another user is not affected.
    expect(await connections.open(uid("bob"), uid("c"), 1)).toBeNull();
  });

  it("frees a place when a connection closes", async () => {
    const connections = registry({ maxConnections: 2 });
    const alice = uid("alice");
    expect(await connections.open(alice, "a1", 1)).toBeNull();
    expect(await connections.open(alice, "a2", 1)).toBeNull();
    expect(await connections.open(alice, "a3", 1)).toBe("too_many_connections");
    await connections.remove(alice, "a1");
    expect(await connections.open(alice, "a3", 1)).toBeNull();
  });

  it("stops counting a connection that died without $disconnect once its entry expires", async () => {
    // Prepare: the cap is full of connections that will never be reported closed.
    const connections = registry({ maxConnections: 2, entryTtlMs: 300 });
    const alice = uid("alice");
    await connections.open(alice, uid("dead"), 1);
    await connections.open(alice, uid("dead"), 1);
    expect(await connections.open(alice, uid("c"), 1)).toBe("too_many_connections");
    // Act
    await sleep(350);
    const late = uid("c");
    // Assess: the dead entries no longer count, and are gone.
    expect(await connections.open(alice, late, 1)).toBeNull();
    expect(await redis.zrange(`conns:{${alice}}`, 0, -1)).toEqual([late]);
    expect(await redis.pttl(`conns:{${alice}}`)).toBeLessThanOrEqual(300);
  });

  it("refuses handshakes over the connect rate, refused ones counted, until the window ends", async () => {
    const connections = registry({ maxConnections: 1, connectsPerWindow: 3, connectWindowMs: 300 });
    const alice = uid("alice");
    expect(await connections.open(alice, "a1", 1)).toBeNull();
    expect(await connections.open(alice, "a2", 1)).toBe("too_many_connections");
    await connections.remove(alice, "a1");
    expect(await connections.open(alice, "a3", 1)).toBeNull();
    await connections.remove(alice, "a3");
    expect(await connections.open(alice, "a4", 1)).toBe("too_many_connects");
    expect(await redis.exists(`cx:{a4}`)).toBe(0);
    const ttl = await redis.pttl(`crl:{${alice}}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(300);
    await sleep(350);
    expect(await connections.open(alice, "a4", 1)).toBeNull();
  });

  it("never leaves a connect counter without an expiry", async () => {
    const connections = registry({ connectsPerWindow: 3, connectWindowMs: 200 });
    const alice = uid("alice");
    await redis.set(`crl:{${alice}}`, "50");
    expect(await connections.open(alice, uid("c"), 1)).toBe("too_many_connects");
    expect(await redis.pttl(`crl:{${alice}}`)).toBeGreaterThan(0);
    await sleep(250);
    expect(await connections.open(alice, uid("c"), 1)).toBeNull();
  });
});

describe("RedisConnectionRegistry.add and remove", () => {
  it("re-registers an open connection (init) beyond the cap, keeping an existing entry's expiry", async () => {
    const connections = registry({ maxConnections: 1 });
    const alice = uid("alice");
    expect(await connections.open(alice, "b1", 1)).toBeNull();
    const score = await redis.zscore(`conns:{${alice}}`, "b1");
    await sleep(5);
    await connections.add(alice, "b1", 2);
    expect(await redis.zscore(`conns:{${alice}}`, "b1")).toBe(score);
    // After Redis lost it, an open connection comes back through init whatever the count.
    await connections.add(alice, "b2", 2);
    expect(await redis.zcard(`conns:{${alice}}`)).toBe(2);
    expect(await redis.hget("cx:{b2}", "userId")).toBe(alice);
  });

  it("reports the user offline when only expired entries remain", async () => {
    const connections = registry({ entryTtlMs: 200 });
    const alice = uid("alice");
    await redis.hset(`loc:{${alice}}`, "lat", "1", "lon", "2");
    await connections.open(alice, uid("dead"), 1);
    await sleep(250);
    const live = uid("c");
    await connections.add(alice, live, 2);
    expect(await connections.remove(alice, live)).toEqual({ offline: true, followed: [] });
    expect(await redis.exists(`loc:{${alice}}`, `conns:{${alice}}`)).toBe(0);
  });
});
