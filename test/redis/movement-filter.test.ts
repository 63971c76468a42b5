// Keeps the Lua movement filter (RedisPositionStore.write) and its TypeScript reference
// (decideWrite) in step: seeded random sequences go through both and must agree on every write.
import { randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { prng as mulberry32 } from "../../bench/prng.ts";
import { RedisPositionStore } from "../../functions/adapters/redis/positions.ts";
import { geohashEncode, haversineM } from "../../functions/domain/geo.ts";
import {
  decideWrite,
  type MovementDecision,
  type MovementInput,
  OUT_OF_ORDER_WINDOW_MS,
  type StoredMovementState,
} from "../../functions/domain/movement.ts";

/** Set MOVEMENT_FILTER_SEED to replay a failure (the seed is printed in the assertion message). */
const SEED = Number(process.env.MOVEMENT_FILTER_SEED) || 0x6e_66_2025;
const USERS = 20;
const WRITES = 50;
const policy = { ttlS: 600, minMoveM: 30, heartbeatMs: 60_000 };
const T0 = 1_763_770_000_000;
const M_PER_DEG_LAT = 111_195;
const locationKey = (userId: string) => `loc:{${userId}}`;

type Rng = () => number;
const int = (rng: Rng, max: number): number => Math.floor(rng() * (max + 1));

/** How far back of the stored device time a late frame claims to be: both sides of the window. */
const backOffsets: ((rng: Rng) => number)[] = [
  () => 0,
  (rng) => 1 + int(rng, OUT_OF_ORDER_WINDOW_MS - 2),
  () => OUT_OF_ORDER_WINDOW_MS,
  () => OUT_OF_ORDER_WINDOW_MS + 1,
  (rng) => OUT_OF_ORDER_WINDOW_MS + 1 + int(rng, 90_000),
];

/** One user's writes: a random walk of 0–80 m steps, a server clock and a device clock. */
function* writes(rng: Rng, model: () => StoredMovementState | null): Generator<MovementInput> {
  let lat = -60 + rng() * 120;
  let lon = -180 + rng() * 360;
  let serverNow = T0 + int(rng, 1_000_000);
  let deviceNow = int(rng, 1_000_000_000);
  // Some users mostly stand still, so that heartbeats (not moves) decide their publications, and
  // some send on a whole 5 s beat, so that a heartbeat often falls due exactly.
  const stillness = rng() * 0.9;
  const onTheBeat = rng() < 0.5;
  for (let i = 0; i < WRITES; i++) {
    const metres = rng() < stillness ? 0 : rng() * 80;
    const bearing = rng() * 2 * Math.PI;
    lat += (metres * Math.cos(bearing)) / M_PER_DEG_LAT;
    lon += (metres * Math.sin(bearing)) / (M_PER_DEG_LAT * Math.cos((lat * Math.PI) / 180));
    // Whole 5 s steps often land exactly on the heartbeat; a server clock sometimes goes back.
    const r = rng();
    const step =
      r < 0.1 ? -int(rng, 40_000) : onTheBeat || r < 0.6 ? 5000 * int(rng, 8) : int(rng, 40_000);
    serverNow += step;
    deviceNow += Math.max(0, step) + int(rng, 1000);
    if (rng() < 0.03) deviceNow -= 60_000 + int(rng, 3_600_000); // the device clock is changed
    const t = rng();
    const stored = model()?.ts;
    const pick = backOffsets[int(rng, backOffsets.length - 1)] ?? (() => 0);
    const clientTs =
      t < 0.1 ? undefined : t < 0.45 && stored !== undefined ? stored - pick(rng) : deviceNow;
    const c = rng();
    const connectionId = c < 0.1 ? undefined : c < 0.55 ? "c1" : "c2";
    yield {
      lat,
      lon,
      at: serverNow,
      ...(clientTs === undefined ? {} : { clientTs }),
      ...(connectionId === undefined ? {} : { connectionId }),
    };
  }
}

/** How often each branch of the rule (and each boundary) was taken. */
interface Coverage {
  firstWrite: number;
  stale: number;
  staleAtWindowEdge: number;
  clockChangeAccepted: number;
  acceptedJustPastWindow: number;
  timeBumped: number;
  publishedForMove: number;
  publishedForHeartbeatOnTheDot: number;
  filtered: number;
}

function countBranches(
  coverage: Coverage,
  prev: StoredMovementState | null,
  input: MovementInput,
  decision: MovementDecision,
): void {
  const behind =
    input.clientTs !== undefined && prev?.ts !== undefined ? prev.ts - input.clientTs : 0;
  const sameConnection =
    input.connectionId !== undefined && input.connectionId === prev?.tsConnectionId;
  const pub = prev?.published;
  if (decision.stale) {
    coverage.stale++;
    if (behind === OUT_OF_ORDER_WINDOW_MS) coverage.staleAtWindowEdge++;
    return;
  }
  if (sameConnection && behind > OUT_OF_ORDER_WINDOW_MS) coverage.clockChangeAccepted++;
  if (sameConnection && behind === OUT_OF_ORDER_WINDOW_MS + 1) coverage.acceptedJustPastWindow++;
  if (decision.at !== input.at) coverage.timeBumped++;
  if (pub === undefined) {
    coverage.firstWrite++;
  } else if (!decision.publish) {
    coverage.filtered++;
  } else if (decision.at - pub.at < policy.heartbeatMs) {
    coverage.publishedForMove++;
  } else if (
    decision.at - pub.at === policy.heartbeatMs &&
    haversineM(pub, input) < policy.minMoveM
  ) {
    coverage.publishedForHeartbeatOnTheDot++;
  }
}

let redis: Redis;
let store: RedisPositionStore;
const userIds: string[] = [];

beforeAll(() => {
  redis = new Redis(inject("redisUrl"), { enableAutoPipelining: true });
  store = new RedisPositionStore(redis);
});
afterAll(async () => {
  if (userIds.length > 0) await redis.del(...userIds.map((u) => locationKey(u)));
  await redis.quit();
});

describe("movement filter: Lua script and TypeScript reference", () => {
  it(`agree on ${USERS} random sequences of ${WRITES} writes (seed ${SEED})`, async () => {
    // Prepare
    const coverage: Coverage = {
      firstWrite: 0,
      stale: 0,
      staleAtWindowEdge: 0,
      clockChangeAccepted: 0,
      acceptedJustPastWindow: 0,
      timeBumped: 0,
      publishedForMove: 0,
      publishedForHeartbeatOnTheDot: 0,
      filtered: 0,
    };
    const master = mulberry32(SEED);
    const userSeeds = Array.from({ length: USERS }, () => int(master, 0xffff_ffff));
    const runUser = async (user: number): Promise<object | null> => {
      const userId = `movement-${user}-${randomUUID().slice(0, 8)}`;
      userIds.push(userId);
      const rng = mulberry32(userSeeds[user] ?? user);
      let model: StoredMovementState | null = null;
      let step = 0;
      for (const input of writes(rng, () => model)) {
        // Act
        const expected = decideWrite(model, input, policy);
        const outcome = await store.write(
          { userId, ...input, cell: geohashEncode(input.lat, input.lon, 4) },
          policy,
        );
        const [at, ts, tsCx, pubLat, pubLon, pubAt] = await redis.hmget(
          locationKey(userId),
          "at",
          "ts",
          "tsCx",
          "pubLat",
          "pubLon",
          "pubAt",
        );
        const stored: StoredMovementState = {
          ...(at === null ? {} : { at: Number(at) }),
          ...(ts === null ? {} : { ts: Number(ts) }),
          ...(tsCx === null ? {} : { tsConnectionId: tsCx }),
          ...(pubAt === null
            ? {}
            : { published: { lat: Number(pubLat), lon: Number(pubLon), at: Number(pubAt) } }),
        };

        // Assess (a divergence ends this user's sequence; later steps would only repeat it)
        const actual = { stale: outcome.stale, at: outcome.at, publish: outcome.publish };
        const reference = { stale: expected.stale, at: expected.at, publish: expected.publish };
        if (!isDeepStrictEqual(actual, reference) || !isDeepStrictEqual(stored, expected.next)) {
          return {
            user,
            write: step,
            input,
            redis: { ...actual, stored },
            model: { ...reference, stored: expected.next },
          };
        }
        countBranches(coverage, model, input, expected);
        model = expected.next;
        step++;
      }
      return null;
    };

    const divergences = (
      await Promise.all(Array.from({ length: USERS }, (_, user) => runUser(user)))
    ).filter((d) => d !== null);

    expect(
      divergences,
      `Lua and decideWrite diverge (seed ${SEED}, first divergence per user)`,
    ).toEqual([]);
    // The sequences must reach every branch, or agreement would prove little.
    for (const [branch, count] of Object.entries(coverage)) {
      expect(
        count,
        `${branch} never reached (seed ${SEED}): ${JSON.stringify(coverage)}`,
      ).toBeGreaterThan(0);
    }
  });
});
