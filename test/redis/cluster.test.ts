// The Redis adapter and the fan-out against a 3-master Redis Cluster (ElastiCache cluster mode):
// every multi-key operation must stay within a slot or be split by the client, with no CROSSSLOT.
import { randomUUID } from "node:crypto";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisAdapters, redisAdapters } from "../../functions/adapters/redis/adapters.ts";
import { connectRedis, type RedisClient } from "../../functions/adapters/redis/client.ts";
import { fanOut } from "../../functions/app/fanout.ts";
import { recordLocation } from "../../functions/app/location.ts";
import { nearbyPeople } from "../../functions/app/people.ts";
import type { Notifier, PostResult } from "../../functions/app/ports.ts";
import { DEFAULT_TUNABLES } from "../../functions/config.ts";
import type { LocationEvent } from "../../functions/domain/events.ts";
import { geohashEncode } from "../../functions/domain/geo.ts";
import { DEFAULT_SETTINGS, type Settings } from "../../functions/domain/settings.ts";
import { type RedisClusterProcess, startRedisCluster } from "../../local/redis-server.ts";
import { RecordingLog, RecordingTelemetry } from "../support/observability.ts";

let cluster: RedisClusterProcess;
let redis: RedisClient;
let store: RedisAdapters;
const HOME = { lat: 37.5665, lon: 126.978 };
const north = (m: number) => ({ lat: HOME.lat + m / 111_195, lon: HOME.lon });
const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
const tunables = DEFAULT_TUNABLES;
const locationDeps = () => ({
  positions: store.positions,
  tunables,
  now: () => Date.now(),
  telemetry: new RecordingTelemetry(),
  log: new RecordingLog(),
});

beforeAll(async () => {
  cluster = await startRedisCluster(3);
  redis = connectRedis({ url: cluster.url, cluster: true });
  store = redisAdapters(redis);
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
        { ...locationDeps(), publisher: { publish: async (e) => void published.push(e) } },
        { userId: u, ...north(i * 50) },
      );
    }
    expect(published).toHaveLength(30);
    const positions = await store.positions.positions(users);
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
    expect(await store.connections.open(bob, c1, 1)).toBeNull();
    await store.connections.add(bob, c2, 2);
    const [x, y] = [uid("x"), uid("y")];
    await store.audience.subscribe(bob, c1, [alice, x, y]);
    await store.audience.setNearbyFlags([[alice, { connectionId: c1, userId: bob }, true]]);
    const settings: Settings = { ...DEFAULT_SETTINGS, sharing: "off" };
    await store.settingsCache.put(new Map([[alice, settings]]));
    expect((await store.settingsCache.cached([alice, bob])).get(alice)).toEqual(settings);
    expect((await store.audience.moverStates([alice])).get(alice)?.subscribers).toEqual([
      { connectionId: c1, userId: bob, nearby: true },
    ]);
    expect(await store.audience.unlink(bob, alice)).toEqual([c1]);
    await recordLocation(
      { ...locationDeps(), publisher: { publish: async () => undefined } },
      { userId: bob, ...HOME },
    );
    // unlink dropped alice: c1 followed x and y still.
    const removed = await store.connections.remove(bob, c1);
    expect({ ...removed, followed: removed.followed.sort() }).toEqual({
      offline: false,
      followed: [x, y].sort(),
    });
    expect(await store.connections.forgetDead(c2)).toEqual({ userId: bob, offline: true });
    expect((await store.positions.positions([bob])).size).toBe(0);
    await recordLocation(
      { ...locationDeps(), publisher: { publish: async () => undefined } },
      { userId: alice, ...HOME },
    );
    await store.positions.erase(alice);
    expect((await store.positions.positions([alice])).size).toBe(0);
  });

  it("fans a batch out with one push per recipient connection", async () => {
    const movers = Array.from({ length: 20 }, () => uid("m"));
    const viewers = Array.from({ length: 10 }, () => uid("v"));
    const noPublish = { publish: async () => undefined };
    for (const v of viewers) {
      const conn = `conn-${v}`;
      await store.connections.add(v, conn, 1);
      await store.audience.subscribe(v, conn, movers);
      await recordLocation({ ...locationDeps(), publisher: noPublish }, { userId: v, ...HOME });
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
    // What the fan-out pushes is each mover's newest published position, as Redis holds it.
    await Promise.all(
      records.map(({ event: e }) =>
        redis.hset(
          `loc:{${e.userId}}`,
          "pubLat",
          String(e.lat),
          "pubLon",
          String(e.lon),
          "pubAt",
          String(e.at),
        ),
      ),
    );
    const result = await fanOut(
      {
        audience: store.audience,
        positions: store.positions,
        connections: store.connections,
        telemetry: new RecordingTelemetry(),
        settings: {
          users: {
            getSettings: async () => DEFAULT_SETTINGS,
            putSettings: async () => undefined,
            settingsOf: async (ids) => new Map(ids.map((u) => [u, DEFAULT_SETTINGS])),
          },
          cache: store.settingsCache,
        },
        notifier,
        publisher: noPublish,
        config: DEFAULT_TUNABLES,
        budget: { take: async (n) => n },
        sleep: async () => undefined,
        now: () => now,
        concurrency: 8,
        shares: { names: { displayNames: async () => new Map() }, viewers: store.shareViewers },
      },
      records,
    );
    expect(result).toEqual({ failedSequenceNumbers: [], posts: 10, gone: 0 });
    expect(new Set(posts.map(([c]) => c))).toEqual(new Set(viewers.map((v) => `conn-${v}`)));
    expect(posts.every(([, f]) => f.updates.length === 20)).toBe(true);
    const audiences = await store.audience.moverStates(movers);
    const flags = [...audiences.values()].flatMap((m) => m.subscribers.map((s) => s.nearby));
    expect(flags).toHaveLength(200);
    expect(flags.every((f) => f)).toBe(true);
  });

  it("searches nearby people across the four cells that meet at a corner, with no CROSSSLOT", async () => {
    // A corner of precision-4 cells (multiples of 180/2^10 and 360/2^10 degrees).
    const corner = { lat: 100 * (180 / 1024), lon: 100 * (360 / 1024) };
    const around = [
      { lat: corner.lat + 0.01, lon: corner.lon + 0.01 },
      { lat: corner.lat + 0.01, lon: corner.lon - 0.01 },
      { lat: corner.lat - 0.01, lon: corner.lon + 0.01 },
      { lat: corner.lat - 0.01, lon: corner.lon - 0.01 },
    ];
    const viewer = uid("viewer");
    const others = around.map((p) => ({ userId: uid("p"), ...p }));
    expect(new Set(around.map((p) => geohashEncode(p.lat, p.lon, 4))).size).toBe(4);
    const noPublish = { publish: async () => undefined };
    await recordLocation(
      { ...locationDeps(), publisher: noPublish },
      { userId: viewer, ...corner },
    );
    for (const other of others) {
      await recordLocation({ ...locationDeps(), publisher: noPublish }, other);
    }
    const discoverable: Settings = { ...DEFAULT_SETTINGS, discoverable: true };
    const people = await nearbyPeople(
      {
        positions: store.positions,
        index: store.cellIndex,
        settings: {
          users: {
            getSettings: async () => discoverable,
            putSettings: async () => undefined,
            settingsOf: async (ids) => new Map(ids.map((u) => [u, discoverable])),
          },
          cache: store.settingsCache,
        },
        friends: { friendIds: async () => [] },
        blocks: { eitherWay: async () => new Set<string>() },
        users: { displayNames: async () => new Map() },
        tunables,
        now: () => Date.now(),
      },
      viewer,
    );
    expect(people.map((p) => p.userId).sort()).toEqual(others.map((o) => o.userId).sort());
  });
});
