// The coarse cell index (`geo:{cell}` + `geoexp:{cell}`) against a real redis-server: searches by
// radius, entries past their expiry never returned and pruned, keys that expire with their newest
// entry, and the nearby-people reads through it.
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type RedisAdapters, redisAdapters } from "../../functions/adapters/redis/adapters.ts";
import { PRUNE_PER_CALL } from "../../functions/adapters/redis/cell-index.ts";
import { recordLocation } from "../../functions/app/location.ts";
import { nearbyPeople } from "../../functions/app/people.ts";
import { DEFAULT_TUNABLES } from "../../functions/config.ts";
import {
  cellsWithin,
  geohashEncode,
  type LatLon,
  snapToCellCentre,
} from "../../functions/domain/geo.ts";
import { indexEntryLifetimeMs } from "../../functions/domain/people.ts";
import { DEFAULT_SETTINGS, type Settings } from "../../functions/domain/settings.ts";
import { RecordingLog, RecordingTelemetry } from "../support/observability.ts";
import { north } from "../support/places.ts";

let redis: Redis;
let store: RedisAdapters;
const T0 = 1_763_770_000_000;
const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
/** A place of its own for each test (random, mid-ocean or not), so tests share no cell. */
/** A random place at the centre of its precision-4 cell: points a few km away share the cell. */
const place = (): LatLon =>
  snapToCellCentre({ lat: -50 + Math.random() * 100, lon: -170 + Math.random() * 340 }, 4);
const cellOf = (p: LatLon) => geohashEncode(p.lat, p.lon, 4);
const index = (userId: string, p: LatLon, at: number, expiresAt: number) =>
  store.positions.indexCell(userId, { ...p, cell: cellOf(p), at, expiresAt }, null);

beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { enableAutoPipelining: true });
  store = redisAdapters(redis);
});
afterAll(async () => {
  await redis.quit();
});

describe("cell index", () => {
  it("finds the members within a radius, nearest first, at most a count per cell", async () => {
    const centre = place();
    const [a, b, c, far] = [uid("a"), uid("b"), uid("c"), uid("far")];
    await index(a, north(300, centre), T0, T0 + 600_000);
    await index(b, north(100, centre), T0, T0 + 600_000);
    await index(c, north(200, centre), T0, T0 + 600_000);
    await index(far, north(5000, centre), T0, T0 + 600_000);
    const cells = cellsWithin(centre, 6000, 4);

    expect(await store.cellIndex.near(cells, centre, 1000, 10, T0 + 1)).toEqual([b, c, a]);
    expect(await store.cellIndex.near(cells, centre, 1000, 2, T0 + 1)).toEqual([b, c]);
    expect(await store.cellIndex.near(cells, centre, 6000, 10, T0 + 1)).toContain(far);
  });

  it("never returns a member past its expiry, and removes it from both keys", async () => {
    const centre = place();
    const cell = cellOf(centre);
    const [gone, live] = [uid("gone"), uid("live")];
    await index(gone, centre, T0, T0 + 1000);
    await index(live, north(10, centre), T0, T0 + 5000);

    expect(await store.cellIndex.near([cell], centre, 100, 10, T0 + 999)).toEqual([gone, live]);
    expect(await store.cellIndex.near([cell], centre, 100, 10, T0 + 1000)).toEqual([live]);
    expect(await redis.zscore(`geo:{${cell}}`, gone)).toBeNull();
    expect(await redis.zscore(`geoexp:{${cell}}`, gone)).toBeNull();
    expect(await redis.zscore(`geo:{${cell}}`, live)).not.toBeNull();
  });

  it("drops a member indexed without an expiry (written before expiries existed)", async () => {
    const centre = place();
    const cell = cellOf(centre);
    const legacy = uid("legacy");
    await redis.geoadd(`geo:{${cell}}`, centre.lon, centre.lat, legacy);

    expect(await store.cellIndex.near([cell], centre, 100, 10, T0)).toEqual([]);
    expect(await redis.zscore(`geo:{${cell}}`, legacy)).toBeNull();
  });

  it("prunes expired members of a cell when someone is indexed there, and outside any search radius", async () => {
    const centre = place();
    const cell = cellOf(centre);
    const old = Array.from({ length: PRUNE_PER_CALL + 5 }, (_, i) => `old-${i}-${uid("u")}`);
    for (const u of old) await index(u, north(50, centre), T0, T0 + 1000);
    expect(await redis.zcard(`geo:{${cell}}`)).toBe(old.length);

    await index(uid("new"), centre, T0 + 2000, T0 + 700_000);
    // Bounded work per write: the first PRUNE_PER_CALL go at once, the rest with the next one.
    expect(await redis.zcard(`geoexp:{${cell}}`)).toBe(1 + 5);
    await index(uid("next"), centre, T0 + 3000, T0 + 700_000);
    expect(await redis.zcard(`geo:{${cell}}`)).toBe(2);
    expect(await redis.zcard(`geoexp:{${cell}}`)).toBe(2);
  });

  it("lets a cell's keys expire with their newest entry, so an idle cell does not stay", async () => {
    const centre = place();
    const cell = cellOf(centre);
    const now = Date.now();
    await index(uid("u"), centre, now, now + 60_000);
    await index(uid("v"), centre, now, now + 30_000);
    const ttl = await redis.pttl(`geo:{${cell}}`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    expect(await redis.pttl(`geoexp:{${cell}}`)).toBeGreaterThan(55_000);
  });

  it("moves a member between cells (both keys follow)", async () => {
    const here = place();
    const there = north(100_000, here);
    const u = uid("mover");
    await store.positions.indexCell(
      u,
      { ...here, cell: cellOf(here), at: T0, expiresAt: T0 + 9e5 },
      null,
    );
    await store.positions.indexCell(
      u,
      { ...there, cell: cellOf(there), at: T0 + 1, expiresAt: T0 + 9e5 },
      cellOf(here),
    );
    expect(await redis.zscore(`geoexp:{${cellOf(here)}}`, u)).toBeNull();
    expect(await store.cellIndex.near([cellOf(there)], there, 10, 5, T0 + 2)).toEqual([u]);
  });
});

describe("the location write path and the index", () => {
  const tunables = { ...DEFAULT_TUNABLES, minMoveM: 30, heartbeatS: 60, locationTtlS: 600 };
  const deps = (now: () => number) => ({
    positions: store.positions,
    publisher: { publish: async () => undefined },
    tunables,
    now,
    telemetry: new RecordingTelemetry(),
    log: new RecordingLog(),
  });

  it("indexes published positions and cell changes only; each refresh extends the expiry", async () => {
    const centre = place();
    const cell = cellOf(centre);
    const u = uid("walker");
    let t = T0;
    const d = deps(() => t);
    await recordLocation(d, { userId: u, ...centre });
    const first = Number(await redis.zscore(`geoexp:{${cell}}`, u));
    expect(first).toBe(T0 + indexEntryLifetimeMs(tunables));

    // A small move, filtered: no index write (the entry keeps its expiry and indexed position).
    t += 10_000;
    const filtered = await recordLocation(d, { userId: u, ...north(5, centre) });
    expect(filtered.published).toBe(false);
    expect(Number(await redis.zscore(`geoexp:{${cell}}`, u))).toBe(first);

    // The heartbeat publishes: the entry is refreshed.
    t += 60_000;
    await recordLocation(d, { userId: u, ...north(5, centre) });
    expect(Number(await redis.zscore(`geoexp:{${cell}}`, u))).toBe(
      t + indexEntryLifetimeMs(tunables),
    );
  });

  it("keeps an online user's entry alive longer than their position, so a live user is always found", () => {
    // The entry outlives `loc:` (whose TTL every write refreshes) by the heartbeat and more.
    expect(indexEntryLifetimeMs(tunables)).toBeGreaterThan(
      (tunables.locationTtlS + tunables.heartbeatS) * 1000,
    );
  });
});

describe("nearbyPeople over Redis", () => {
  it("never shows a user whose position expired, though their index entry lives on; the entry goes when it expires", async () => {
    // Prepare: positions that expire after 1 s (LOCATION_TTL_S), real clock.
    const tunables = { ...DEFAULT_TUNABLES, locationTtlS: 1 };
    const centre = place();
    const [alice, bob] = [uid("alice"), uid("bob")];
    const discoverable: Settings = { ...DEFAULT_SETTINGS, discoverable: true };
    let clock = Date.now();
    const deps = {
      positions: store.positions,
      index: store.cellIndex,
      settings: {
        users: {
          getSettings: async () => discoverable,
          putSettings: async () => undefined,
          settingsOf: async (ids: readonly string[]) => new Map(ids.map((u) => [u, discoverable])),
        },
        cache: store.settingsCache,
      },
      friends: { friendIds: async () => [] },
      blocks: { eitherWay: async () => new Set<string>() },
      users: { displayNames: async () => new Map<string, string | null>() },
      tunables,
      now: () => clock,
    };
    const write = (userId: string, p: LatLon) =>
      recordLocation(
        {
          positions: store.positions,
          publisher: { publish: async () => undefined },
          tunables,
          now: () => clock,
          telemetry: new RecordingTelemetry(),
          log: new RecordingLog(),
        },
        { userId, ...p },
      );
    const bobAt = north(500, centre);
    await write(bob, bobAt);
    await write(alice, centre);
    expect((await nearbyPeople(deps, alice)).map((p) => p.userId)).toEqual([bob]);

    // Act: bob's loc: expires (he sent nothing for LOCATION_TTL_S); alice keeps sending.
    await new Promise((r) => setTimeout(r, 1100));
    clock = Date.now();
    await write(alice, centre);
    const afterTtl = await nearbyPeople(deps, alice);
    // bob's own cell: 500 m north may be over a cell boundary from alice's.
    const entryAfterTtl = await redis.zscore(`geoexp:{${cellOf(bobAt)}}`, bob);
    clock += indexEntryLifetimeMs(tunables);
    await write(alice, north(1, centre));
    await nearbyPeople(deps, alice);

    // Assess
    expect(afterTtl).toEqual([]);
    expect(entryAfterTtl).not.toBeNull();
    expect(await redis.zscore(`geo:{${cellOf(bobAt)}}`, bob)).toBeNull();
  });
});
