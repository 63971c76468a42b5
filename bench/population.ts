// A generated population in Redis for the fan-out benchmark: users, their online connections,
// positions around one city, subscriber sets (each online user follows its friends) and the
// settings cache, loaded with large pipelines.
import type { RedisClient } from "../functions/adapters/redis/client.ts";
import { CONNECTION_TTL_S, keys } from "../functions/adapters/redis/keys.ts";
import { DEFAULT_SETTINGS } from "../functions/domain/settings.ts";
import { prng } from "./prng.ts";

export interface PopulationSpec {
  users: number;
  friendsPerUser: number;
  onlineShare: number;
  centre: { lat: number; lon: number };
  /** Half the side of the square the online users are spread over, in metres. */
  spreadM: number;
  seed: number;
}

export interface Population {
  online: string[];
  positions: Map<string, { lat: number; lon: number }>;
  subscriptions: number;
}

export const userId = (i: number) => `u${i}`;
export const connectionId = (u: string) => `c-${u}=`;
export const offset = (p: { lat: number; lon: number }, northM: number, eastM: number) => ({
  lat: p.lat + northM / 111_195,
  lon: p.lon + eastM / (111_195 * Math.cos((p.lat * Math.PI) / 180)),
});

type Command = [string, ...(string | number)[]];

async function flush(redis: RedisClient, commands: Command[]): Promise<void> {
  if (commands.length === 0) return;
  const results = await redis.pipeline(commands).exec();
  const failed = results?.find(([err]) => err);
  if (failed) throw failed[0];
}

export async function loadPopulation(
  redis: RedisClient,
  spec: PopulationSpec,
): Promise<Population> {
  const random = prng(spec.seed);
  const onlineCount = Math.round(spec.users * spec.onlineShare);
  const chosen = new Set<number>();
  while (chosen.size < onlineCount) chosen.add(Math.floor(random() * spec.users));
  const online = [...chosen].map(userId);
  const positions = new Map<string, { lat: number; lon: number }>();
  const now = Date.now();
  const settings = JSON.stringify(DEFAULT_SETTINGS);
  let commands: Command[] = [];
  let subscriptions = 0;
  // In cluster mode a pipeline must stay on one node: send single-key commands one by one in
  // batches instead (auto-pipelining groups them per node).
  const send = async (batch: Command[]) => {
    if (!("nodes" in redis)) return flush(redis, batch);
    await Promise.all(batch.map(([cmd, ...args]) => redis.call(cmd, ...args)));
  };
  for (const u of online) {
    const p = offset(
      spec.centre,
      (random() * 2 - 1) * spec.spreadM,
      (random() * 2 - 1) * spec.spreadM,
    );
    positions.set(u, p);
    const c = connectionId(u);
    commands.push(
      ["hset", keys.connection(c), "userId", u, "connectedAt", now],
      ["expire", keys.connection(c), CONNECTION_TTL_S],
      ["zadd", keys.userConnections(u), now + CONNECTION_TTL_S * 1000, c],
      [
        "hset",
        keys.location(u),
        "lat",
        p.lat,
        "lon",
        p.lon,
        "at",
        now - 60_000,
        "pubLat",
        p.lat,
        "pubLon",
        p.lon,
        "pubAt",
        now - 60_000,
        "cell",
        "wydm",
      ],
      ["expire", keys.location(u), 3600],
      ["set", keys.settings(u), settings, "EX", 3600],
    );
    const friends = new Set<number>();
    while (friends.size < spec.friendsPerUser) friends.add(Math.floor(random() * spec.users));
    const member = `${c} ${u}`;
    for (const f of friends) commands.push(["hset", keys.subscribers(userId(f)), member, "0"]);
    subscriptions += friends.size;
    if (commands.length >= 20_000) {
      await send(commands);
      commands = [];
    }
  }
  await send(commands);
  return { online, positions, subscriptions };
}
