// Use case: fan a batch of stream records out to the connections of subscribed friends. Two
// rounds of Redis reads and one of writes per batch whatever its size, one push per recipient connection, bounded
// concurrency of posts; dead connections are cleaned up, failed pushes fail only their records.
import type { Notifier } from "../adapters/connection-notifier.ts";
import type { EventPublisher } from "../adapters/kinesis-publisher.ts";
import type { RedisStore } from "../adapters/redis-store.ts";
import { mapWithConcurrency } from "../domain/concurrency.ts";
import {
  type FanoutConfig,
  latestPerUser,
  planFanout,
  type StreamRecord,
} from "../domain/fanout-plan.ts";
import { DEFAULT_SETTINGS, visibilityFor } from "../domain/settings.ts";
import { resolveSettings, type SettingsDeps } from "./settings.ts";

export interface FanoutDeps {
  store: Pick<
    RedisStore,
    | "moverStates"
    | "connectionStates"
    | "positions"
    | "applyFanoutChanges"
    | "forgetDeadConnection"
    | "cachedSettings"
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
  // Round 1: subscribers, published marker and cached settings of every mover.
  const [movers, cached] = await Promise.all([
    deps.store.moverStates(moverIds),
    deps.store.cachedSettings(moverIds),
  ]);
  const settings = await resolveSettings(deps.settings, moverIds, cached);
  const now = deps.now();
  const subscribers = [...movers.values()].flatMap((m) => m.subscribers);
  const connectionIds = [...new Set(subscribers.map((s) => s.connectionId))];
  const viewers = [...new Set(subscribers.map((s) => s.userId))];
  // Round 2: which of those connections are alive, who is nearby on each, where their users are.
  const [connections, positions] = await Promise.all([
    deps.store.connectionStates(connectionIds),
    deps.store.positions(viewers),
  ]);

  const plan = planFanout({
    records: latest,
    movers,
    connections,
    positions,
    config: deps.config,
    visibility: (mover, viewer) =>
      visibilityFor(settings.get(mover) ?? DEFAULT_SETTINGS, viewer, now),
  });

  const results = await mapWithConcurrency(plan.pushes, deps.concurrency, (push) =>
    deps.notifier.post(push.connectionId, { type: "friends", updates: push.updates }),
  );

  const failed = new Set<string>();
  const gone: string[] = [];
  const nearbyAdd: [string, string][] = [];
  const nearbyRemove: [string, string][] = [];
  const deadSubscriptions = [...plan.deadSubscriptions];
  plan.pushes.forEach((push, i) => {
    const result = results[i];
    if (result === "sent") {
      for (const f of push.nearbyAdd) nearbyAdd.push([push.connectionId, f]);
      for (const f of push.nearbyRemove) nearbyRemove.push([push.connectionId, f]);
    } else if (result === "gone") {
      gone.push(push.connectionId);
      for (const u of push.updates) {
        deadSubscriptions.push([
          u.userId,
          { connectionId: push.connectionId, userId: push.viewerId },
        ]);
      }
    } else {
      for (const s of push.sequenceNumbers) failed.add(s);
    }
  });

  await deps.store.applyFanoutChanges({ nearbyAdd, nearbyRemove, deadSubscriptions });
  for (const connectionId of gone) {
    const { offline, userId } = await deps.store.forgetDeadConnection(connectionId);
    if (offline && userId !== null) {
      await deps.publisher.publish({ v: 1, kind: "offline", userId, at: deps.now() });
    }
  }
  return { failedSequenceNumbers: [...failed], posts: plan.pushes.length, gone: gone.length };
}
