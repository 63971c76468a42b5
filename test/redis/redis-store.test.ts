// The Redis adapter against a real redis-server: the location script, the GEO index, connections.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RedisAdapters, redisAdapters } from "../../functions/adapters/redis/adapters.ts";
import { CLOSED_CONNECTION_MEMORY_MS } from "../../functions/adapters/redis/keys.ts";
import { RedisPushBudget } from "../../functions/adapters/redis/push-budget.ts";
import { geohashEncode } from "../../functions/domain/geo.ts";

let redis: Redis;
let store: RedisAdapters;
const policy = { ttlS: 600, minMoveM: 30, heartbeatMs: 60_000 };
const T0 = 1_763_770_000_000;
const HOME = { lat: 37.5665, lon: 126.978 };
const north = (m: number) => ({ lat: HOME.lat + m / 111_195, lon: HOME.lon });
const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
const write = (
  userId: string,
  p: { lat: number; lon: number },
  at: number,
  accuracyM?: number,
  device?: { clientTs: number; connectionId: string },
) =>
  store.positions.write(
    {
      userId,
      ...p,
      at,
      cell: geohashEncode(p.lat, p.lon, 4),
      ...(accuracyM === undefined ? {} : { accuracyM }),
      ...device,
    },
    policy,
  );

beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { enableAutoPipelining: true });
  store = redisAdapters(redis);
});
afterAll(async () => {
  await redis.quit();
});

describe("writeLocation", () => {
  it("publishes the first position, filters small moves, publishes real moves and heartbeats", async () => {
    const u = uid("alice");
    const first = await write(u, HOME, T0, 12);
    expect(first).toEqual({
      stale: false,
      gone: false,
      at: T0,
      publish: true,
      prevCell: null,
      previousPublished: null,
    });
    expect(await redis.hgetall(`loc:{${u}}`)).toMatchObject({
      lat: String(HOME.lat),
      lon: String(HOME.lon),
      at: String(T0),
      acc: "12",
      cell: "wydm",
      pubAt: String(T0),
    });
    const ttl = await redis.ttl(`loc:{${u}}`);
    expect(ttl).toBeGreaterThan(590);

    const small = await write(u, north(20), T0 + 5000);
    expect(small.publish).toBe(false);
    // The presence is refreshed and the newest position stored, the published marker kept.
    expect(await redis.hmget(`loc:{${u}}`, "at", "pubAt", "acc")).toEqual([
      String(T0 + 5000),
      String(T0),
      null,
    ]);

    expect((await write(u, north(31), T0 + 6000)).publish).toBe(true);
    expect((await write(u, north(35), T0 + 7000)).publish).toBe(false);
    expect((await write(u, north(35), T0 + 6000 + 60_000)).publish).toBe(true);
  });

  it("keeps a user's times strictly increasing", async () => {
    const u = uid("alice");
    await write(u, HOME, T0);
    const same = await write(u, north(100), T0);
    expect(same.at).toBe(T0 + 1);
    const earlier = await write(u, north(200), T0 - 50);
    expect(earlier.at).toBe(T0 + 2);
  });

  it("rolls back a failed publication so the retry is published, unless a newer write replaced it", async () => {
    const u = uid("alice");
    await write(u, HOME, T0);
    const moved = await write(u, north(100), T0 + 1000);
    expect(moved.previousPublished).toEqual({
      lat: String(HOME.lat),
      lon: String(HOME.lon),
      at: String(T0),
    });
    expect(await store.positions.rollbackPublish(u, moved)).toBe(true);
    expect(await redis.hget(`loc:{${u}}`, "pubAt")).toBe(String(T0));
    expect((await write(u, north(100), T0 + 2000)).publish).toBe(true);

    const v = uid("bob");
    const only = await write(v, HOME, T0);
    expect(await store.positions.rollbackPublish(v, only)).toBe(true);
    expect(await redis.hget(`loc:{${v}}`, "pubAt")).toBeNull();
    const a = await write(v, HOME, T0 + 10);
    await write(v, north(500), T0 + 20);
    expect(await store.positions.rollbackPublish(v, a)).toBe(false);
    expect(await redis.hget(`loc:{${v}}`, "pubAt")).toBe(String(T0 + 20));
  });
});

describe("frames arriving out of order", () => {
  it("ignores an older frame of the same connection, but not another device's or a clock change", async () => {
    const u = uid("alice");
    await write(u, HOME, T0, undefined, { clientTs: 5000, connectionId: "c1" });
    const late = await write(u, north(500), T0 + 100, undefined, {
      clientTs: 4000,
      connectionId: "c1",
    });
    expect(late).toMatchObject({ stale: true, publish: false, at: T0 });
    expect(await redis.hmget(`loc:{${u}}`, "lat", "at")).toEqual([String(HOME.lat), String(T0)]);

    const otherDevice = await write(u, north(500), T0 + 200, undefined, {
      clientTs: 4000,
      connectionId: "c2",
    });
    expect(otherDevice).toMatchObject({ stale: false, publish: true });
    const sameTsRetry = await write(u, north(900), T0 + 300, undefined, {
      clientTs: 4000,
      connectionId: "c2",
    });
    expect(sameTsRetry.stale).toBe(false);
    const clockJump = await write(u, north(1500), T0 + 400, undefined, {
      clientTs: 4000 - 60_000,
      connectionId: "c2",
    });
    expect(clockJump).toMatchObject({ stale: false, publish: true });
    const noTs = await write(u, north(2000), T0 + 500);
    expect(noTs.stale).toBe(false);
  });
});

describe("GEO cell index", () => {
  it("moves a user between cells", async () => {
    const u = uid("alice");
    const seoul = { ...HOME, cell: geohashEncode(HOME.lat, HOME.lon, 4) };
    const busan = { lat: 35.1796, lon: 129.0756, cell: geohashEncode(35.1796, 129.0756, 4) };
    const w1 = await write(u, seoul, T0);
    await store.positions.indexCell(
      u,
      { ...seoul, at: w1.at, expiresAt: w1.at + 600_000 },
      w1.prevCell,
    );
    expect(await redis.zscore(`geo:{${seoul.cell}}`, u)).not.toBeNull();
    const w2 = await write(u, busan, T0 + 1000);
    expect(w2.prevCell).toBe(seoul.cell);
    await store.positions.indexCell(
      u,
      { ...busan, at: w2.at, expiresAt: w2.at + 600_000 },
      w2.prevCell,
    );
    expect(await redis.zscore(`geo:{${seoul.cell}}`, u)).toBeNull();
    expect(await redis.zscore(`geoexp:{${seoul.cell}}`, u)).toBeNull();
    expect(Number(await redis.zscore(`geoexp:{${busan.cell}}`, u))).toBe(w2.at + 600_000);
    const [[member, dist] = []] = (await redis.geosearch(
      `geo:{${busan.cell}}`,
      "FROMLONLAT",
      busan.lon,
      busan.lat,
      "BYRADIUS",
      10,
      "m",
      "WITHDIST",
    )) as [string, string][];
    expect(member).toBe(u);
    expect(Number(dist)).toBeLessThan(1);
  });
});

describe("connections and subscriptions", () => {
  it("reports the user offline only when the last connection closes, and removes the position", async () => {
    const u = uid("alice");
    const [c1, c2] = [uid("c"), uid("c")];
    await write(u, HOME, T0);
    const cell = geohashEncode(HOME.lat, HOME.lon, 4);
    await store.positions.indexCell(u, { ...HOME, cell, at: T0, expiresAt: T0 + 600_000 }, null);
    await store.connections.add(u, c1, T0);
    await store.connections.add(u, c2, T0);
    expect(await redis.hget(`cx:{${c1}}`, "userId")).toBe(u);
    expect(await store.connections.remove(u, c1)).toEqual({ offline: false, followed: [] });
    expect(await redis.exists(`loc:{${u}}`)).toBe(1);
    expect(await store.connections.remove(u, c2)).toEqual({ offline: true, followed: [] });
    expect(await redis.exists(`loc:{${u}}`, `cx:{${c2}}`, `conns:{${u}}`)).toBe(0);
    expect(await redis.zscore(`geo:{${cell}}`, u)).toBeNull();
    expect(await redis.zscore(`geoexp:{${cell}}`, u)).toBeNull();
  });

  it("stores nothing from a frame or init that comes after its connection's $disconnect", async () => {
    // API Gateway may run a connection's last frames and its $disconnect concurrently.
    const u = uid("alice");
    const c = uid("conn");
    await store.connections.add(u, c, T0);
    await write(u, HOME, T0, undefined, { clientTs: 1, connectionId: c });
    expect(await store.connections.remove(u, c)).toEqual({ offline: true, followed: [] });
    const late = await write(u, HOME, T0 + 1000, undefined, { clientTs: 2, connectionId: c });
    expect(late).toMatchObject({ gone: true, publish: false });
    expect(await redis.exists(`loc:{${u}}`)).toBe(0);
    // A late init does not register the closed connection again.
    expect(await store.connections.add(u, c, T0 + 1000)).toBe(false);
    expect(await redis.exists(`conns:{${u}}`, `cx:{${c}}`)).toBe(0);
    // Another connection of the same user is not affected, and the memory of closed ones expires.
    const other = uid("conn");
    expect(await store.connections.add(u, other, T0 + 2000)).toBe(true);
    const fresh = await write(u, HOME, T0 + 2000, undefined, { clientTs: 3, connectionId: other });
    expect(fresh).toMatchObject({ gone: false, publish: true });
    const ttl = await redis.pttl(`closed:{${u}}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(CLOSED_CONNECTION_MEMORY_MS);
  });

  it("keeps each user's audience with its nearby flags, and cleans it up with the connection", async () => {
    const alice = uid("alice");
    const carol = uid("carol");
    const bob = uid("bob");
    const conn = uid("conn");
    await store.connections.add(bob, conn, T0);
    await store.audience.subscribe(bob, conn, [alice, carol]);
    await write(bob, HOME, T0);
    await store.audience.setNearbyFlags([[alice, { connectionId: conn, userId: bob }, true]]);
    const movers = await store.audience.moverStates([alice, carol]);
    expect(movers.get(alice)).toEqual({
      subscribers: [{ connectionId: conn, userId: bob, nearby: true }],
      publishedAt: undefined,
    });
    expect(movers.get(carol)?.subscribers).toEqual([
      { connectionId: conn, userId: bob, nearby: false },
    ]);
    // Nothing outlives the connections it names, even without a $disconnect.
    for (const key of [`subs:{${alice}}`, `conns:{${bob}}`, `follows:{${conn}}`, `cx:{${conn}}`]) {
      expect(await redis.ttl(key)).toBeGreaterThan(7000);
    }
    const positions = await store.positions.positions([bob, alice]);
    expect([...positions.keys()]).toEqual([bob]);
    expect(positions.get(bob)).toEqual({ lat: HOME.lat, lon: HOME.lon, at: T0 });

    // A flag is never set on a subscription that is gone (a fan-out racing an unsubscribe).
    await store.audience.unsubscribe(bob, conn, carol);
    await store.audience.setNearbyFlags([[carol, { connectionId: conn, userId: bob }, true]]);
    expect((await store.audience.moverStates([carol])).get(carol)?.subscribers).toEqual([]);

    expect(await store.audience.unlink(bob, alice)).toEqual([conn]);
    expect((await store.audience.moverStates([alice])).get(alice)?.subscribers).toEqual([]);

    await store.audience.subscribe(bob, conn, [alice, carol]);
    const removed = await store.connections.remove(bob, conn);
    expect({ ...removed, followed: removed.followed.sort() }).toEqual({
      offline: true,
      followed: [alice, carol].sort(),
    });
    const after = await store.audience.moverStates([alice, carol]);
    expect([after.get(alice)?.subscribers, after.get(carol)?.subscribers]).toEqual([[], []]);
    expect(await redis.exists(`follows:{${conn}}`, `cx:{${conn}}`)).toBe(0);
  });
});

describe("fan-out state", () => {
  it("reads a mover's newest published position and raises the fanned-out mark only forward", async () => {
    const u = uid("alice");
    await write(u, HOME, T0);
    const before = (await store.audience.moverStates([u])).get(u);
    expect(before?.published).toEqual({ lat: HOME.lat, lon: HOME.lon, at: T0 });
    expect(before?.fannedAt).toBeUndefined();

    await store.audience.markFanned([[u, T0]]);
    await store.audience.markFanned([[u, T0 - 5]]);
    expect((await store.audience.moverStates([u])).get(u)?.fannedAt).toBe(T0);

    // A later write keeps the mark; a user without a position gets none.
    await write(u, { lat: HOME.lat + 0.01, lon: HOME.lon }, T0 + 1000);
    const after = (await store.audience.moverStates([u])).get(u);
    expect(after).toMatchObject({ fannedAt: T0, published: { at: T0 + 1000 } });
    const nobody = uid("nobody");
    await store.audience.markFanned([[nobody, T0]]);
    expect(await redis.exists(`loc:{${nobody}}`)).toBe(0);
  });
});

describe("push budget", () => {
  it("grants at most the budget per second across takers, then again in the next second", async () => {
    let now =
      Math.floor(Date.now() / 1000) * 1000 + 100_000 + Math.floor(Math.random() * 1e6) * 1000;
    const a = new RedisPushBudget(redis, 10, () => now);
    const b = new RedisPushBudget(redis, 10, () => now);
    expect(await a.take(6)).toBe(6);
    expect(await b.take(6)).toBe(4);
    expect(await a.take(3)).toBe(0);
    now += 1000;
    expect(await b.take(3)).toBe(3);
    expect(await redis.ttl(`budget:{${Math.floor(now / 1000)}}`)).toBeGreaterThan(0);
  });
});
