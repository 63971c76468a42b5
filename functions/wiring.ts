// Production wiring: builds each adapter once per process from the environment. Handlers call the
// factories they need at module scope, so a missing variable fails the cold start with its name.

import {
  sharedDocumentClient,
  sharedKinesisClient,
  sharedManagementClient,
} from "./adapters/aws-clients.ts";
import { ManagementApiNotifier } from "./adapters/connection-notifier.ts";
import { FriendshipsRepo, HistoryRepo, UsersRepo } from "./adapters/dynamo-repos.ts";
import { KinesisPublisher } from "./adapters/kinesis-publisher.ts";
import { RedisRateLimiter } from "./adapters/rate-limiter.ts";
import { sharedRedis } from "./adapters/redis-client.ts";
import { RedisStore } from "./adapters/redis-store.ts";
import { ENV, readTunables, requireEnv, type Tunables } from "./config.ts";

const once = <T>(make: () => T): (() => T) => {
  let value: T | undefined;
  let made = false;
  return () => {
    if (!made) {
      value = make();
      made = true;
    }
    return value as T;
  };
};

export const tunables: () => Tunables = once(() => readTunables());

export const redisStore: () => Promise<RedisStore> = once(
  async () => new RedisStore(await sharedRedis()),
);

export const rateLimiter: () => Promise<RedisRateLimiter> = once(
  async () => new RedisRateLimiter(await sharedRedis()),
);

export const publisher = once(
  () => new KinesisPublisher(sharedKinesisClient(), requireEnv(ENV.locationStream)),
);

export const usersRepo = once(
  () => new UsersRepo(sharedDocumentClient(), requireEnv(ENV.usersTable)),
);

export const friendshipsRepo = once(
  () => new FriendshipsRepo(sharedDocumentClient(), requireEnv(ENV.friendshipsTable)),
);

export const historyRepo = once(
  () => new HistoryRepo(sharedDocumentClient(), requireEnv(ENV.historyTable)),
);

export const notifier = once(() => new ManagementApiNotifier(sharedManagementClient()));

export const now = (): number => Date.now();
