// The Redis adapter and the fan-out against a 3-master Redis Cluster (ElastiCache cluster mode):
// every multi-key operation must stay within a slot or be split by the client, with no CROSSSLOT.
import { randomUUID } from "node:crypto";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Notifier, PostResult } from "../../functions/adapters/connection-notifier.ts";
import { connectRedis, type RedisClient } from "../../functions/adapters/redis-client.ts";
import { RedisStore } from "../../functions/adapters/redis-store.ts";
import { fanOut } from "../../functions/app/fanout.ts";
import { recordLocation } from "../../functions/app/location.ts";
import type { LocationEvent } from "../../functions/domain/events.ts";
import { DEFAULT_SETTINGS, type Settings } from "../../functions/domain/settings.ts";
import { type RedisClusterProcess, startRedisCluster } from "../../local/redis-server.ts";

let cluster: RedisClusterProcess;
let redis: RedisClient;
let store: RedisStore;
const HOME = { lat: 37.5665, lon: 126.978 };
const north = (m: number) => ({ lat: HOME.lat + m / 111_195, lon: HOME.lon });
const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
const tunables = { locationTtlS: 600, minMoveM: 30, heartbeatS: 60 };

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  redis = connectRedis({ url: cluster.url, cluster: true });
  store = new RedisStore(redis);
}, 60_000);
afterAll(async () => {
  await redis?.quit();
  await cluster?.stop();
});

describe("Redis Cluster", () => {
  it("spreads the keys of many users over all three masters", async () => {
    const users = Array.from({ length: 30 }, () => uid("u"));
    const published: LocationEvent[] = [];
    for (const [i, u] of users.entries()) {
      await recordLocation(
        {
          store,
          publisher: { publish: async (e) => void published.push(e) },
          tunables,
          now: () => Date.now(),
        },
        { userId: u, ...north(i * 50) },
      );
    }
    expect(published).toHaveLength(30);
    const positions = await store.positions(users);
    expect(positions.size).toBe(30);
    const nodes = (redis as Cluster).nodes("master");
    expect(nodes).toHaveLength(3);
    const perNode = await Promise.all(nodes.map((n) => n.dbsize()));
    expect(perNode.every((n) => n > 0)).toBe(true);
  });

  it("runs the connection life cycle, subscriptions, settings and erasure", async () => {
    const alice = uid("alice");
    const bob = uid("bob");
    const c1 = uid("c");
    const c2 = uid("c");
    await store.addConnection(bob, c1, 1);
    await store.addConnection(bob, c2, 2);
    await store.subscribe(bob, c1, [alice, uid("x"), uid("y")]);
    await store.setNearbyFlags([[alice, { connectionId: c1, userId: bob }, true]]);
    const settings: Settings = { ...DEFAULT_SETTINGS, sharing: "off" };
    await store.cacheSettings(new Map([[alice, settings]]));
    expect((await store.cachedSettings([alice, bob])).get(alice)).toEqual(settings);
    expect((await store.moverStates([alice])).get(alice)?.subscribers).toEqual([
      { connectionId: c1, userId: bob, nearby: true },
    ]);
    expect(await store.unlink(bob, alice)).toEqual([c1]);
    await recordLocation(
      { store, publisher: { publish: async () => undefined }, tunables, now: () => Date.now() },
      { userId: bob, ...HOME },
    );
    expect(await store.removeConnection(bob, c1)).toEqual({ offline: false });
    expect(await store.forgetDeadConnection(c2)).toEqual({ userId: bob, offline: true });
    expect((await store.positions([bob])).size).toBe(0);
    await recordLocation(
      { store, publisher: { publish: async () => undefined }, tunables, now: () => Date.now() },
      { userId: alice, ...HOME },
    );
    await store.erasePosition(alice);
    expect((await store.positions([alice])).size).toBe(0);
  });

  it("fans a batch out with one push per recipient connection", async () => {
    const movers = Array.from({ length: 20 }, () => uid("m"));
    const viewers = Array.from({ length: 10 }, () => uid("v"));
    const noPublish = { publish: async () => undefined };
    for (const v of viewers) {
      const conn = `conn-${v}`;
      await store.addConnection(v, conn, 1);
      await store.subscribe(v, conn, movers);
      await recordLocation(
        { store, publisher: noPublish, tunables, now: () => Date.now() },
        { userId: v, ...HOME },
      );
    }
    const posts: [string, { updates: unknown[] }][] = [];
    const notifier: Notifier = {
      post: async (c, frame): Promise<PostResult> => {
        posts.push([c, frame as { updates: unknown[] }]);
        return "sent";
      },
    };
    const now = Date.now();
    const records = movers.map((m, i) => ({
      sequenceNumber: String(i),
      event: { v: 1 as const, kind: "position" as const, userId: m, ...north(100 + i), at: now },
    }));
    const result = await fanOut(
      {
        store,
        settings: {
          users: {
            getSettings: async () => DEFAULT_SETTINGS,
            putSettings: async () => undefined,
            settingsOf: async (ids) => new Map(ids.map((u) => [u, DEFAULT_SETTINGS])),
          },
          cache: store,
        },
        notifier,
        publisher: noPublish,
        config: { radiusM: 8047, leaveMarginM: 500, maxAgeMs: 30_000 },
        now: () => now,
        concurrency: 8,
      },
      records,
    );
    expect(result).toEqual({ failedSequenceNumbers: [], posts: 10, gone: 0 });
    expect(new Set(posts.map(([c]) => c))).toEqual(new Set(viewers.map((v) => `conn-${v}`)));
    expect(posts.every(([, f]) => f.updates.length === 20)).toBe(true);
    const audiences = await store.moverStates(movers);
    const flags = [...audiences.values()].flatMap((m) => m.subscribers.map((s) => s.nearby));
    expect(flags).toHaveLength(200);
    expect(flags.every((f) => f)).toBe(true);
  });
});
