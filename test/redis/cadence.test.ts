// The reporting cadence's Redis adapter against a real redis-server: one script reads what a
// decision needs from the user's keys, decisions are recorded with their time, and only open
// connections are told.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RedisAudience } from "../../functions/adapters/redis/audience.ts";
import { RedisCadenceStore } from "../../functions/adapters/redis/cadence.ts";
import { RedisConnectionRegistry } from "../../functions/adapters/redis/connections.ts";
import { CONNECTION_TTL_S } from "../../functions/adapters/redis/keys.ts";
import { RedisSettingsCache } from "../../functions/adapters/redis/settings-cache.ts";
import { DEFAULT_SETTINGS } from "../../functions/domain/settings.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { enableAutoPipelining: true });
});
afterAll(async () => {
  await redis.quit();
});

const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

describe("RedisCadenceStore", () => {
  it("reads the watchers, position, cached settings, share viewers and last decision in one go", async () => {
    const store = new RedisCadenceStore(redis);
    const audience = new RedisAudience(redis);
    const [alice, bob, carol] = [uid("alice"), uid("bob"), uid("carol")];
    await audience.subscribe(bob, "b1", [alice]);
    await audience.subscribe(bob, "b2", [alice]);
    await audience.subscribe(carol, "c1", [alice]);
    await redis.hset(`loc:{${alice}}`, "lat", "37.5", "lon", "127", "at", "1000");
    const hidden = { ...DEFAULT_SETTINGS, friends: { [bob]: "hidden" as const } };
    await new RedisSettingsCache(redis).put(new Map([[alice, hidden]]));
    await redis.hset(`sview:{${alice}}`, "v1", "link", "v2", "link");
    await store.record([{ userId: alice, reportEveryS: 10, at: 5000 }]);

    const states = await store.states([alice, uid("nobody")]);

    const a = states.get(alice);
    expect(a).toMatchObject({
      position: { lat: 37.5, lon: 127, at: 1000 },
      settings: hidden,
      shareViewers: 2,
      current: 10,
      decidedAt: 5000,
    });
    // One entry per watching user, however many of their connections follow.
    expect(a?.watcherIds.sort()).toEqual([bob, carol].sort());
    expect([...states.values()][1]).toEqual({
      position: undefined,
      watcherIds: [],
      shareViewers: 0,
      current: undefined,
      decidedAt: undefined,
    });
  });

  it("records decisions with an expiry, and finds those decided before a time (or never)", async () => {
    const store = new RedisCadenceStore(redis);
    const [old, fresh, never] = [uid("old"), uid("fresh"), uid("never")];
    await store.record([
      { userId: old, reportEveryS: 300, at: 1000 },
      { userId: fresh, reportEveryS: 10, at: 9000 },
    ]);

    expect((await store.decidedBefore([old, fresh, never], 5000)).sort()).toEqual(
      [old, never].sort(),
    );
    const ttl = await redis.ttl(`cad:{${old}}`);
    expect(ttl).toBeGreaterThan(CONNECTION_TTL_S - 10);
    expect(ttl).toBeLessThanOrEqual(CONNECTION_TTL_S);
  });

  it("lists a user's open connections, not the expired entries", async () => {
    const store = new RedisCadenceStore(redis);
    const registry = new RedisConnectionRegistry(redis, { entryTtlMs: 100 });
    const alice = uid("alice");
    await registry.open(alice, "dead", 1);
    await new Promise((r) => setTimeout(r, 150));
    await new RedisConnectionRegistry(redis).add(alice, "live", 2);

    expect((await store.connectionsOf([alice])).get(alice)).toEqual(["live"]);
  });
});
