// Use case: fan a batch of stream records out to the connections of subscribed friends. Two
// rounds of Redis reads and one of writes per batch whatever its size (and however many friends), one push per recipient connection, bounded
// concurrency of posts; dead connections are cleaned up, failed pushes fail only their records.
import type { Notifier } from "../adapters/connection-notifier.ts";
import type { EventPublisher } from "../adapters/kinesis-publisher.ts";
import type { FlagChange, RedisStore } from "../adapters/redis-store.ts";
import { mapWithConcurrency } from "../domain/concurrency.ts";
import {
  type FanoutConfig,
  latestPerUser,
  planFanout,
  type StreamRecord,
} from "../domain/fanout-plan.ts";
import { isShareAll, type Settings, visibilityFor } from "../domain/settings.ts";
import { resolveSettings, type SettingsDeps } from "./settings.ts";

export interface FanoutDeps {
  store: Pick<
    RedisStore,
    "moverStates" | "positions" | "setNearbyFlags" | "removeSubscriptions" | "forgetDeadConnection"
  >;
  settings: SettingsDeps;
  notifier: Notifier;
  publisher: EventPublisher;
  config: FanoutConfig;
  now: () => number;
  concurrency: number;
}

export interface FanoutResult {
  failedSequenceNumbers: string[];
  posts: number;
  gone: number;
}

export async function fanOut(
  deps: FanoutDeps,
  records: readonly StreamRecord[],
): Promise<FanoutResult> {
  const latest = latestPerUser(records, deps.now(), deps.config.maxAgeMs);
  if (latest.length === 0) return { failedSequenceNumbers: [], posts: 0, gone: 0 };

  const moverIds = latest.map((r) => r.event.userId);
  // Round 1: each mover's audience (connections, their users, nearby flags), published marker and
  // cached settings.
  const movers = await deps.store.moverStates(moverIds);
  const cached = new Map<string, Settings>();
  for (const [u, m] of movers) if (m.settings) cached.set(u, m.settings);
  const settings = await resolveSettings(deps.settings, moverIds, cached);
  const now = deps.now();
  const viewers = new Set<string>();
  for (const m of movers.values()) for (const s of m.subscribers) viewers.add(s.userId);
  // Round 2: where the audience is.
  const positions = await deps.store.positions([...viewers]);

  const plan = planFanout({
    records: latest,
    movers,
    positions,
    config: deps.config,
    visibility: (mover, viewer) => {
      const s = settings.get(mover);
      return s === undefined || isShareAll(s) ? "precise" : visibilityFor(s, viewer, now);
    },
  });

  const results = await mapWithConcurrency(plan.pushes, deps.concurrency, (push) =>
    deps.notifier.post(push.connectionId, { type: "friends", updates: push.updates }),
  );

  const failed = new Set<string>();
  const gone: string[] = [];
  const flags: FlagChange[] = [];
  const dead: [string, { connectionId: string; userId: string }][] = [];
  plan.pushes.forEach((push, i) => {
    const result = results[i];
    const sub = { connectionId: push.connectionId, userId: push.viewerId };
    if (result === "sent") {
      for (const f of push.nearbyAdd) flags.push([f, sub, true]);
      for (const f of push.nearbyRemove) flags.push([f, sub, false]);
    } else if (result === "gone") {
      gone.push(push.connectionId);
      for (const u of push.updates) dead.push([u.userId, sub]);
    } else {
      for (const s of push.sequenceNumbers) failed.add(s);
    }
  });

  // Round 3: the state changes, in one round trip.
  await Promise.all([deps.store.setNearbyFlags(flags), deps.store.removeSubscriptions(dead)]);
  // Dead connections are cleaned up together, so their Redis commands share round trips.
  await Promise.all(
    gone.map(async (connectionId) => {
      const { offline, userId } = await deps.store.forgetDeadConnection(connectionId);
      if (offline && userId !== null) {
        await deps.publisher.publish({ v: 1, kind: "offline", userId, at: deps.now() });
      }
    }),
  );
  return { failedSequenceNumbers: [...failed], posts: plan.pushes.length, gone: gone.length };
}
