// `npm run bench`: the fan-out engine against real Redis on a generated population, compared in
// the same run with a naive baseline (per record, per friend: one awaited Redis read and one post,
// no coalescing). The last line printed is one JSON object with the figures.

import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { cpus } from "node:os";
import type { Cluster } from "ioredis";
import { redisAdapters } from "../functions/adapters/redis/adapters.ts";
import { connectRedis, type RedisClient } from "../functions/adapters/redis/client.ts";
import { keys } from "../functions/adapters/redis/keys.ts";
import { type FanoutDeps, fanOut } from "../functions/app/fanout.ts";
import type { Notifier, PostResult } from "../functions/app/ports.ts";
import { DEFAULT_TUNABLES } from "../functions/config.ts";
import type { PositionEvent } from "../functions/domain/events.ts";
import type { StreamRecord } from "../functions/domain/fanout-plan.ts";
import { haversineM } from "../functions/domain/geo.ts";
import { DEFAULT_SETTINGS } from "../functions/domain/settings.ts";
import { startRedis, startRedisCluster } from "../local/redis-server.ts";
import { loadPopulation, offset } from "./population.ts";
import { prng } from "./prng.ts";

const env = (name: string, fallback: number) => {
  const raw = process.env[name];
  const n = raw === undefined || raw === "" ? fallback : Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name} must be a positive number`);
  return n;
};

const spec = {
  users: env("BENCH_USERS", 100_000),
  friendsPerUser: env("BENCH_FRIENDS", 400),
  onlineShare: env("BENCH_ONLINE", 0.1),
  centre: { lat: 37.5665, lon: 126.978 },
  spreadM: env("BENCH_SPREAD_M", 12_000),
  seed: 42,
};
const batchSizes = (process.env.BENCH_BATCH_SIZES ?? "100,500").split(",").map(Number);
const batchesPerSize = env("BENCH_BATCHES", 20);
const naiveRecords = env("BENCH_NAIVE_RECORDS", 1000);
const clusterMode = process.env.BENCH_CLUSTER === "1";
/** The engine's own figures: the telemetry it reports is not what is measured here. */
const noTelemetry = { count: () => undefined, milliseconds: () => undefined };
const config = DEFAULT_TUNABLES;

/** Counts writes to the Redis sockets: with pipelining, one write per node per round trip. */
function socketWriteCounter(redis: RedisClient): () => number {
  const clients = "nodes" in redis ? (redis as Cluster).nodes("master") : [redis];
  let writes = 0;
  for (const c of clients) {
    const stream = (c as unknown as { stream: { write: (...args: unknown[]) => boolean } }).stream;
    const write = stream.write.bind(stream);
    stream.write = (...args: unknown[]) => {
      writes++;
      return write(...args);
    };
  }
  return () => writes;
}

class CountingNotifier implements Notifier {
  posts = 0;
  bytes = 0;
  perConnection = new Map<string, number>();
  async post(connectionId: string, frame: object): Promise<PostResult> {
    this.posts++;
    this.bytes += JSON.stringify(frame).length;
    this.perConnection.set(connectionId, (this.perConnection.get(connectionId) ?? 0) + 1);
    return "sent";
  }
}

/** Server times strictly increasing across batches, as the location script keeps them. */
let lastAt = 0;
const nextAt = () => {
  lastAt = Math.max(Date.now(), lastAt + 1);
  return lastAt;
};

function makeBatch(
  online: string[],
  positions: Map<string, { lat: number; lon: number }>,
  size: number,
  random: () => number,
) {
  const now = nextAt();
  const records: StreamRecord[] = [];
  for (let i = 0; i < size; i++) {
    const u = online[Math.floor(random() * online.length)] ?? "";
    const from = positions.get(u) ?? spec.centre;
    const to = offset(from, (random() * 2 - 1) * 400, (random() * 2 - 1) * 400);
    positions.set(u, to);
    const event: PositionEvent = {
      v: 1,
      kind: "position",
      userId: u,
      lat: to.lat,
      lon: to.lon,
      at: now,
    };
    records.push({ sequenceNumber: String(i), event });
  }
  return records;
}

/**
 * Store the records' positions as the location handler does before it publishes them (the fan-out
 * pushes what Redis holds: the record is only the trigger). Not timed: it is the write path's work.
 */
async function publishInRedis(redis: RedisClient, records: readonly StreamRecord[]) {
  await Promise.all(
    records.map(({ event: e }) =>
      e.kind === "position"
        ? redis.hset(
            keys.location(e.userId),
            "lat",
            String(e.lat),
            "lon",
            String(e.lon),
            "at",
            String(e.at),
            "pubLat",
            String(e.lat),
            "pubLon",
            String(e.lon),
            "pubAt",
            String(e.at),
          )
        : Promise.resolve(0),
    ),
  );
}

/** The baseline a first version would write: sequential reads, one post per friend per record. */
async function naiveFanout(
  redis: RedisClient,
  notifier: Notifier,
  records: readonly StreamRecord[],
) {
  for (const { event } of records) {
    if (event.kind !== "position") continue;
    const members = await redis.hkeys(keys.subscribers(event.userId));
    for (const member of members) {
      const [connectionId = "", viewer = ""] = member.split(" ");
      const [lat, lon] = await redis.hmget(keys.location(viewer), "lat", "lon");
      if (lat === null || lon === null) continue;
      const distanceM = haversineM({ lat: Number(lat), lon: Number(lon) }, event);
      if (distanceM > config.radiusM) continue;
      await notifier.post(connectionId, {
        type: "friends",
        updates: [
          {
            userId: event.userId,
            state: "nearby",
            lat: event.lat,
            lon: event.lon,
            distanceM: Math.round(distanceM),
            at: event.at,
            precision: "precise",
          },
        ],
      });
    }
  }
}

/** A CPU profile of the engine runs only (BENCH_PROFILE=file.cpuprofile), for Chrome DevTools. */
async function startProfile() {
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return {
    stop: async (file: string) => {
      const { profile } = await session.post("Profiler.stop");
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

async function main() {
  const server = clusterMode ? await startRedisCluster(3) : await startRedis();
  const redis = connectRedis({ url: server.url, cluster: clusterMode });
  const naiveRedis = connectRedis({ url: server.url, cluster: clusterMode });
  try {
    await redis.ping();
    await naiveRedis.ping();
    const loadStarted = performance.now();
    const population = await loadPopulation(redis, spec);
    const loadMs = performance.now() - loadStarted;
    console.log(
      `population: ${spec.users} users, ${spec.friendsPerUser} friends each, ${population.online.length} online, ` +
        `${population.subscriptions} subscriptions, loaded in ${(loadMs / 1000).toFixed(1)} s (${clusterMode ? "3-master cluster" : "single node"})`,
    );

    const store = redisAdapters(redis);
    const writes = socketWriteCounter(redis);
    const random = prng(7);
    const settings = {
      users: {
        getSettings: async () => DEFAULT_SETTINGS,
        putSettings: async () => undefined,
        settingsOf: async (ids: readonly string[]) =>
          new Map(ids.map((u) => [u, DEFAULT_SETTINGS])),
      },
      cache: store.settingsCache,
    };
    const engineDeps = (notifier: Notifier): FanoutDeps => ({
      audience: store.audience,
      positions: store.positions,
      connections: store.connections,
      telemetry: noTelemetry,
      settings,
      notifier,
      publisher: { publish: async () => undefined },
      // The engine's own speed: no shared budget (it is one INCRBY a batch in production).
      budget: { take: async (n: number) => n },
      sleep: async () => undefined,
      config,
      now: Date.now,
      concurrency: 32,
      shares: { names: { displayNames: async () => new Map() }, viewers: store.shareViewers },
    });
    const rows: Record<string, number>[] = [];
    const profiler = process.env.BENCH_PROFILE ? await startProfile() : null;
    let totalRecords = 0;
    let totalMs = 0;
    let totalPosts = 0;
    let maxRoundTrips = 0;
    let maxPushesPerRecipient = 0;
    for (const size of batchSizes) {
      let ms = 0;
      let posts = 0;
      let roundTrips = 0;
      let updates = 0;
      for (let b = 0; b < batchesPerSize; b++) {
        const records = makeBatch(population.online, population.positions, size, random);
        await publishInRedis(redis, records);
        const notifier = new CountingNotifier();
        const before = writes();
        const t0 = performance.now();
        await fanOut(engineDeps(notifier), records);
        ms += performance.now() - t0;
        const rt = writes() - before;
        roundTrips += rt;
        maxRoundTrips = Math.max(maxRoundTrips, clusterMode ? rt / 3 : rt);
        posts += notifier.posts;
        updates += records.length;
        maxPushesPerRecipient = Math.max(maxPushesPerRecipient, ...notifier.perConnection.values());
      }
      totalRecords += updates;
      totalMs += ms;
      totalPosts += posts;
      const row = {
        batchSize: size,
        batches: batchesPerSize,
        updatesPerSecond: Math.round(updates / (ms / 1000)),
        msPerBatch: Number((ms / batchesPerSize).toFixed(2)),
        socketWritesPerBatch: Number((roundTrips / batchesPerSize).toFixed(2)),
        postsPerUpdate: Number((posts / updates).toFixed(2)),
      };
      rows.push(row);
      console.log(`engine  ${JSON.stringify(row)}`);
    }

    if (profiler && process.env.BENCH_PROFILE) {
      await profiler.stop(process.env.BENCH_PROFILE);
      console.log(`engine CPU profile written to ${process.env.BENCH_PROFILE}`);
    }

    // The same kind of records through the naive baseline (fewer: it is slow).
    const naiveBatch = makeBatch(population.online, population.positions, naiveRecords, random);
    const naiveNotifier = new CountingNotifier();
    const n0 = performance.now();
    await naiveFanout(naiveRedis, naiveNotifier, naiveBatch);
    const naiveMs = performance.now() - n0;
    const naivePerSecond = naiveRecords / (naiveMs / 1000);
    // And the engine on the very same records, in batches of the largest size, for a like-for-like ratio.
    const engineNotifier = new CountingNotifier();
    const largest = Math.max(...batchSizes);
    let engineSameMs = 0;
    for (let i = 0; i < naiveBatch.length; i += largest) {
      const at = nextAt();
      const records = naiveBatch
        .slice(i, i + largest)
        .map((r) => ({ ...r, event: { ...r.event, at } }));
      await publishInRedis(redis, records);
      const e0 = performance.now();
      await fanOut(engineDeps(engineNotifier), records);
      engineSameMs += performance.now() - e0;
    }
    const engineSamePerSecond = naiveRecords / (engineSameMs / 1000);
    console.log(
      `naive   {"records":${naiveRecords},"updatesPerSecond":${Math.round(naivePerSecond)},"postsPerUpdate":${(naiveNotifier.posts / naiveRecords).toFixed(2)}}`,
    );
    console.log(
      `engine on the same records {"updatesPerSecond":${Math.round(engineSamePerSecond)},"postsPerUpdate":${(engineNotifier.posts / naiveRecords).toFixed(2)}}`,
    );

    const summary = {
      cores: cpus().length,
      redis: clusterMode ? "cluster-3" : "single",
      users: spec.users,
      friendsPerUser: spec.friendsPerUser,
      online: population.online.length,
      batchSizes,
      updatesPerSecond: Math.round(totalRecords / (totalMs / 1000)),
      redisRoundTripsPerBatch: maxRoundTrips,
      postsPerUpdate: Number((totalPosts / totalRecords).toFixed(2)),
      pushesPerRecipientPerBatch: maxPushesPerRecipient,
      naiveUpdatesPerSecond: Math.round(naivePerSecond),
      naivePostsPerUpdate: Number((naiveNotifier.posts / naiveRecords).toFixed(2)),
      speedupVsNaive: Number((engineSamePerSecond / naivePerSecond).toFixed(1)),
    };
    console.log(JSON.stringify(summary));
  } finally {
    await Promise.all([redis.quit(), naiveRedis.quit()]).catch(() => undefined);
    await server.stop();
  }
}

await main();
