// Production wiring: builds each adapter once per process from the environment, and the
// dependencies of each group of use cases. Entries call what they need at module scope, so a
// missing variable fails the cold start with its name.

import { randomBytes } from "node:crypto";
import {
  sharedDocumentClient,
  sharedKinesisClient,
  sharedManagementClient,
} from "./adapters/aws-clients.ts";
import { ManagementApiCloser, ManagementApiNotifier } from "./adapters/connection-notifier.ts";
import { BlocksRepo, FriendshipsRepo, HistoryRepo, UsersRepo } from "./adapters/dynamo-repos.ts";
import { KinesisPublisher } from "./adapters/kinesis-publisher.ts";
import { powertoolsTelemetry } from "./adapters/powertools-telemetry.ts";
import { redisAdapters } from "./adapters/redis/adapters.ts";
import { sharedRedis } from "./adapters/redis/client.ts";
import { RedisPushBudget } from "./adapters/redis/push-budget.ts";
import { TableStreamExpiry, TimerExpiry } from "./adapters/share-expiry-schedulers.ts";
import { ShareLinksRepo } from "./adapters/share-links-repo.ts";
import { type CadenceDeps, reviewCadences } from "./app/cadence.ts";
import type { FanoutDeps } from "./app/fanout.ts";
import type { PeopleDeps } from "./app/people.ts";
import type { ShareExpiryScheduler } from "./app/ports.ts";
import type { CadenceAware, SessionDeps } from "./app/session.ts";
import {
  type EndLinkDeps,
  endShareLink,
  type ShareLinksDeps,
  type ViewerConnectDeps,
} from "./app/share-links.ts";
import {
  ConfigError,
  ENV,
  numberEnv,
  optionalEnv,
  readTunables,
  requireEnv,
  type Tunables,
} from "./config.ts";
import { MIN_SHARE_EXPIRES_IN_S } from "./domain/share-links.ts";
import { logger } from "./observability.ts";

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

export const now = (): number => Date.now();

export const tunables: () => Tunables = once(() => readTunables());

/** The Redis adapters, sharing the process's one client (connected on first use). */
export const redis = once(async () => redisAdapters(await sharedRedis()));

export const frameGate = async () => (await redis()).frameGate;

export const requestGate = async () => (await redis()).requestGate;

export const publisher = once(
  () => new KinesisPublisher(sharedKinesisClient(), requireEnv(ENV.locationStream)),
);

export const usersRepo = once(
  () => new UsersRepo(sharedDocumentClient(), requireEnv(ENV.usersTable)),
);

export const friendshipsRepo = once(
  () => new FriendshipsRepo(sharedDocumentClient(), requireEnv(ENV.friendshipsTable)),
);

export const blocksRepo = once(
  () => new BlocksRepo(sharedDocumentClient(), requireEnv(ENV.blocksTable)),
);

export const historyRepo = once(
  () => new HistoryRepo(sharedDocumentClient(), requireEnv(ENV.historyTable), logger),
);

export const notifier = once(() => new ManagementApiNotifier(sharedManagementClient(), logger));

/**
 * The dependencies of storing and republishing positions, and of settings: the stream, the users
 * table and the tunables are checked at cold start (called at module scope); Redis connects on
 * first use.
 */
export function positionWiring() {
  const users = usersRepo();
  const base = {
    publisher: publisher(),
    tunables: tunables(),
    now,
    telemetry: powertoolsTelemetry,
    log: logger,
  };
  return async () => {
    const r = await redis();
    return { ...base, positions: r.positions, settings: { users, cache: r.settingsCache } };
  };
}

/** The dependencies of the WebSocket session use cases: positions, plus friendships and Redis state. */
export function sessionWiring(): () => Promise<SessionDeps> {
  const positions = positionWiring();
  const friends = friendshipsRepo();
  return async () => {
    const r = await redis();
    return { ...(await positions()), friends, connections: r.connections, audience: r.audience };
  };
}

/**
 * The dependencies of deciding reporting cadences (app/cadence.ts): Redis, the users table (the
 * settings the cache misses), and @connections to tell clients of a change.
 */
export function cadenceWiring(): () => Promise<CadenceDeps> {
  const base = {
    users: usersRepo(),
    notifier: notifier(),
    rule: tunables(),
    now,
    telemetry: powertoolsTelemetry,
    log: logger,
  };
  return async () => {
    const r = await redis();
    return {
      ...base,
      cadence: r.cadence,
      positions: r.positions,
      settings: { users: base.users, cache: r.settingsCache },
    };
  };
}

/**
 * Decide users' reporting cadence again: the callback that use cases changing someone's audience
 * take (settings, friendships and blocks, the end of a share link).
 */
export function cadenceReviewer(): (userIds: readonly string[]) => Promise<void> {
  const cadence = cadenceWiring();
  return async (userIds) => void (await reviewCadences(await cadence(), userIds));
}

/**
 * Friend requests, friendships and blocks (HTTP): the tables; ending a friendship also stops the
 * two following each other (Redis), tells their connections, and decides their cadence again.
 */
export function relationsWiring() {
  const base = {
    users: usersRepo(),
    friendships: friendshipsRepo(),
    blocks: blocksRepo(),
    notifier: notifier(),
    now,
    reviewCadences: cadenceReviewer(),
  };
  return async () => ({ ...base, audience: (await redis()).audience });
}

/** The session's dependencies, for the routes that change who watches whom (their cadence). */
export function sessionWithCadenceWiring(): () => Promise<SessionDeps & CadenceAware> {
  const session = sessionWiring();
  const cadence = cadenceWiring();
  return async () => ({ ...(await session()), cadence: await cadence() });
}

export function fanoutWiring(): () => Promise<FanoutDeps> {
  const t = tunables();
  const base = {
    users: usersRepo(),
    notifier: notifier(),
    publisher: publisher(),
    config: { radiusM: t.radiusM, leaveMarginM: t.leaveMarginM },
    concurrency: t.postConcurrency,
    budgetPerS: t.pushBudgetPerS,
  };
  return async () => {
    const r = await redis();
    return {
      audience: r.audience,
      positions: r.positions,
      connections: r.connections,
      settings: { users: base.users, cache: r.settingsCache },
      notifier: base.notifier,
      publisher: base.publisher,
      budget: new RedisPushBudget(r.client, base.budgetPerS, now),
      config: base.config,
      now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      concurrency: base.concurrency,
      telemetry: powertoolsTelemetry,
      shares: { names: base.users, viewers: r.shareViewers },
    };
  };
}

// ---- Share links ------------------------------------------------------------------------------

export const shareLinksRepo = once(
  () => new ShareLinksRepo(sharedDocumentClient(), requireEnv(ENV.shareLinksTable)),
);

export const closer = once(() => new ManagementApiCloser(sharedManagementClient()));

/** The end of a link's viewers (revocation, expiry): Redis, and posts and closes. */
export function shareEndWiring(): () => Promise<EndLinkDeps> {
  const base = { notifier: notifier(), closer: closer(), reviewCadences: cadenceReviewer() };
  return async () => ({ ...base, viewers: (await redis()).shareViewers });
}

/** How link expiry is timed: `stream` in AWS, `timer` on the local stack (adapters say why). */
export const shareExpiry = once((): ShareExpiryScheduler => {
  const mode = requireEnv(ENV.shareExpiry);
  if (mode === "stream") return new TableStreamExpiry();
  if (mode !== "timer")
    throw new ConfigError(`environment variable ${ENV.shareExpiry} must be stream or timer`);
  const end = shareEndWiring();
  return new TimerExpiry(
    async (link) => endShareLink(await end(), link.userId, link.linkId),
    logger,
  );
});

/**
 * The least `expiresInS` a new link may ask for: the protocol's 60 s, unless the local stack's
 * tests lower it (the CDK stack never sets the variable).
 */
export const shareMinExpiresS = once(() =>
  optionalEnv(ENV.shareLinkMinExpiresS) === undefined
    ? MIN_SHARE_EXPIRES_IN_S
    : numberEnv(ENV.shareLinkMinExpiresS, MIN_SHARE_EXPIRES_IN_S, process.env, { min: 1 }),
);

/** The owner's routes: the table, the expiry timer, the link URL, and the end of viewers. */
export function shareLinksWiring(): () => Promise<ShareLinksDeps & EndLinkDeps> {
  const base = {
    links: shareLinksRepo(),
    expiry: shareExpiry(),
    random: (bytes: number) => randomBytes(bytes),
    baseUrl: requireEnv(ENV.shareLinkBaseUrl),
    now,
  };
  const end = shareEndWiring();
  return async () => ({ ...base, ...(await end()) });
}

/** A viewer's $connect: the registry, the link's consistent read, and the republish of the user. */
export function viewerWiring(): () => Promise<ViewerConnectDeps> {
  const positions = positionWiring();
  const links = shareLinksRepo();
  return async () => {
    const r = await redis();
    return { ...(await positions()), links, viewers: r.shareViewers };
  };
}

/** The dependencies of the nearby-people search: the cell index, positions, settings, relations. */
export function peopleWiring(): () => Promise<PeopleDeps> {
  const base = {
    users: usersRepo(),
    friends: friendshipsRepo(),
    blocks: blocksRepo(),
    tunables: tunables(),
    now,
  };
  return async () => {
    const r = await redis();
    return {
      ...base,
      positions: r.positions,
      index: r.cellIndex,
      settings: { users: base.users, cache: r.settingsCache },
    };
  };
}
