// The share-link viewer registry against a real redis-server: the per-link cap counted in the
// script that registers, ending one link's viewers only, and the fan-out's read of a mover's
// viewers (`sview:{userId}`, whose HLEN says whether anyone watches the user live).
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { RedisAudience } from "../../functions/adapters/redis/audience.ts";
import { RedisShareViewers } from "../../functions/adapters/redis/share-viewers.ts";
import type { ShareViewer } from "../../functions/domain/share-links.ts";

let redis: Redis;
beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { enableAutoPipelining: true });
});
afterAll(async () => {
  await redis.quit();
});

const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
const viewer = (connectionId: string, linkId = "L1"): ShareViewer => ({
  connectionId,
  linkId,
  precision: "approximate",
  expiresAt: 1_763_770_060_000,
  connectedAt: 1_763_770_000_000,
});

describe("RedisShareViewers", () => {
  it("admits at most the cap per link however many handshakes race; other links unaffected", async () => {
    const viewers = new RedisShareViewers(redis);
    const alice = uid("alice");
    const ids = Array.from({ length: 30 }, () => uid("v"));
    const added = await Promise.all(ids.map((c) => viewers.add(alice, viewer(c), 20)));
    expect(added.filter(Boolean)).toHaveLength(20);
    expect(await redis.hlen(`sview:{${alice}}`)).toBe(20);
    expect(await viewers.add(alice, viewer(uid("v"), "L2"), 20)).toBe(true);
    // Registering a connection again is no new place.
    const first = ids[added.indexOf(true)] ?? "";
    expect(await viewers.add(alice, viewer(first), 20)).toBe(true);
    expect(await redis.ttl(`sview:{${alice}}`)).toBeGreaterThan(7000);
  });

  it("takes one link's viewers out, and removes a single connection", async () => {
    const viewers = new RedisShareViewers(redis);
    const alice = uid("alice");
    await viewers.add(alice, viewer("a1", "LA"), 20);
    await viewers.add(alice, viewer("a2", "LA"), 20);
    await viewers.add(alice, viewer("b1", "LAB"), 20);
    expect((await viewers.takeLink(alice, "LA")).sort()).toEqual(["a1", "a2"]);
    expect(await redis.hkeys(`sview:{${alice}}`)).toEqual(["b1"]);
    expect(await viewers.takeLink(alice, "LA")).toEqual([]);
    await viewers.remove(alice, "b1");
    expect(await redis.hlen(`sview:{${alice}}`)).toBe(0);
  });

  it("is read with the mover's state by the fan-out", async () => {
    const viewers = new RedisShareViewers(redis);
    const audience = new RedisAudience(redis);
    const alice = uid("alice");
    const bob = uid("bob");
    await viewers.add(alice, viewer("v1"), 20);
    const states = await audience.moverStates([alice, bob]);
    expect(states.get(alice)?.viewers).toEqual([viewer("v1")]);
    expect(states.get(bob)?.viewers).toBeUndefined();
  });
});
