// Use case: fan a batch of stream records out to the connections of subscribed friends. A record is
// the trigger; what goes out is the mover's newest published position as Redis holds it, once, so
// a backlog delays positions but never loses the latest. Two rounds of Redis reads and one of
// writes per batch whatever its size (and however many friends); one push per recipient
// connection; posts within the shared push budget, with bounded concurrency; dead connections
// cleaned up; failed pushes fail only their records (and are pushed again on the retry).
import { mapWithConcurrency } from "../domain/concurrency.ts";
import {
  type FanoutConfig,
  latestPerUser,
  type Push,
  planFanout,
  type StreamRecord,
} from "../domain/fanout-plan.ts";
import type { Settings } from "../domain/settings.ts";
import { visibilityUnder } from "../domain/visibility.ts";
import type {
  Audience,
  Clock,
  ConnectionRegistry,
  EventPublisher,
  FlagChange,
  Notifier,
  PositionStore,
  PostResult,
  PushBudget,
  Telemetry,
} from "./ports.ts";
import { resolveSettings, type SettingsDeps } from "./settings.ts";

export interface FanoutDeps {
  audience: Pick<Audience, "moverStates" | "setNearbyFlags" | "removeSubscriptions" | "markFanned">;
  positions: Pick<PositionStore, "positions">;
  connections: Pick<ConnectionRegistry, "forgetDead">;
  settings: SettingsDeps;
  notifier: Notifier;
  publisher: EventPublisher;
  budget: PushBudget;
  config: FanoutConfig;
  now: Clock;
  sleep: (ms: number) => Promise<void>;
  concurrency: number;
  telemetry: Telemetry;
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
  const { telemetry } = deps;
  telemetry.count("FanoutRecords", records.length);
  const latest = latestPerUser(records);
  if (latest.length === 0) return { failedSequenceNumbers: [], posts: 0, gone: 0 };

  const moverIds = latest.map((r) => r.event.userId);
  // Round 1: each mover's audience (connections, their users, nearby flags), newest published
  // position, what of it went out already, and cached settings.
  const movers = await deps.audience.moverStates(moverIds);
  const cached = new Map<string, Settings>();
  for (const [u, m] of movers) if (m.settings) cached.set(u, m.settings);
  const settings = await resolveSettings(deps.settings, moverIds, cached);
  const now = deps.now();
  const viewers = new Set<string>();
  for (const m of movers.values()) for (const s of m.subscribers) viewers.add(s.userId);
  // Round 2: where the audience is.
  const positions = await deps.positions.positions([...viewers]);

  const plan = planFanout({
    records: latest,
    movers,
    positions,
    config: deps.config,
    visibility: (mover, viewer) => visibilityUnder(settings.get(mover), viewer, now),
  });
  telemetry.count("FanoutStaleDropped", plan.stale);
  telemetry.count("FanoutPushes", plan.pushes.length);
  let friendUpdates = 0;
  for (const push of plan.pushes) friendUpdates += push.updates.length;
  telemetry.count("FanoutFriendUpdates", friendUpdates);

  // Lag is measured once per position, when its first push goes out.
  const atOf = new Map(plan.fanned.map((f) => [f.sequenceNumber, f.at]));
  const results = await postWithinBudget(deps, plan.pushes, (push) => {
    for (const s of push.sequenceNumbers) {
      const at = atOf.get(s);
      if (at !== undefined) {
        telemetry.milliseconds("FanoutLagMs", Math.max(0, deps.now() - at));
        atOf.delete(s);
      }
    }
    return deps.notifier.post(push.connectionId, { type: "friends", updates: push.updates });
  });

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
  telemetry.count("GoneConnections", gone.length);
  // A mover whose pushes all went out is marked fanned; one with a failed push is not, so the
  // retry of its record pushes its position again.
  const fanned = plan.fanned
    .filter((f) => !failed.has(f.sequenceNumber))
    .map((f) => [f.userId, f.at] as const);

  // Round 3: the state changes, in one round trip.
  await Promise.all([
    deps.audience.setNearbyFlags(flags),
    deps.audience.removeSubscriptions(dead),
    deps.audience.markFanned(fanned),
  ]);
  // Dead connections are cleaned up together, so their Redis commands share round trips.
  await Promise.all(
    gone.map(async (connectionId) => {
      const { offline, userId } = await deps.connections.forgetDead(connectionId);
      if (offline && userId !== null) {
        await deps.publisher.publish({ v: 1, kind: "offline", userId, at: deps.now() });
      }
    }),
  );
  return { failedSequenceNumbers: [...failed], posts: plan.pushes.length, gone: gone.length };
}

/**
 * Post the pushes, as many at a time as the shared budget grants for the current second; when it
 * grants none, wait for the next second. Under load this is where the fan-out slows down instead
 * of being throttled, and the batches that queue behind it grow: more updates per push.
 */
async function postWithinBudget(
  deps: Pick<FanoutDeps, "budget" | "now" | "sleep" | "concurrency">,
  pushes: readonly Push[],
  post: (push: Push) => Promise<PostResult>,
): Promise<PostResult[]> {
  const results: PostResult[] = [];
  while (results.length < pushes.length) {
    const granted = await deps.budget.take(pushes.length - results.length);
    if (granted === 0) {
      await deps.sleep(1000 - (deps.now() % 1000));
      continue;
    }
    const slice = pushes.slice(results.length, results.length + granted);
    results.push(...(await mapWithConcurrency(slice, deps.concurrency, post)));
  }
  return results;
}
