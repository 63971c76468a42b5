// Use case: fan a batch of stream records out to the connections of subscribed friends. A record is
// the trigger; what goes out is the mover's newest published position as Redis holds it, once, so
// a backlog delays positions but never loses the latest. Two rounds of Redis reads and one of
// writes per batch whatever its size (and however many friends); one push per recipient
// connection; posts within the shared push budget, with bounded concurrency; dead connections
// cleaned up; failed pushes fail only their records (and are pushed again on the retry). A mover's
// share-link viewers get a `shared` frame per record, through the same budget and clean-up.
import { mapWithConcurrency } from "../domain/concurrency.ts";
import {
  type FanoutConfig,
  latestPerUser,
  type Push,
  planFanout,
  type SharedPush,
  type StreamRecord,
} from "../domain/fanout-plan.ts";
import type { Settings } from "../domain/settings.ts";
import {
  hiddenFromViewers,
  NEW_VIEWER_GRACE_MS,
  NEW_VIEWER_RETRY_MS,
} from "../domain/share-links.ts";
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
  ShareViewerRegistry,
  Telemetry,
  UserRepository,
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
  /** Share-link viewers: the shared users' display names, and the clean-up of gone viewers. */
  shares: {
    names: Pick<UserRepository, "displayNames">;
    viewers: Pick<ShareViewerRegistry, "remove">;
  };
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
  const watched = [...movers].filter(([, m]) => (m.viewers?.length ?? 0) > 0).map(([u]) => u);
  // Round 2: where the audience is, and the names share-link viewers are shown.
  const [positions, displayNames] = await Promise.all([
    deps.positions.positions([...viewers]),
    watched.length > 0
      ? deps.shares.names.displayNames(watched)
      : Promise.resolve(new Map<string, string | null>()),
  ]);

  const plan = planFanout({
    records: latest,
    movers,
    positions,
    config: deps.config,
    visibility: (mover, viewer) => visibilityUnder(settings.get(mover), viewer, now),
    hiddenFromViewers: (mover) => hiddenFromViewers(settings.get(mover), now),
    displayNames,
    now,
  });
  telemetry.count("FanoutStaleDropped", plan.stale);
  telemetry.count("FanoutPushes", plan.pushes.length + plan.shared.length);
  let friendUpdates = 0;
  for (const push of plan.pushes) friendUpdates += push.updates.length;
  telemetry.count("FanoutFriendUpdates", friendUpdates);

  // Lag is measured once per position, when its first push goes out.
  const atOf = new Map(plan.fanned.map((f) => [f.sequenceNumber, f.at]));
  type Outgoing = { friends: Push } | { shared: SharedPush };
  const outgoing: Outgoing[] = [
    ...plan.pushes.map((friends) => ({ friends })),
    ...plan.shared.map((shared) => ({ shared })),
  ];
  const allResults = await postWithinBudget(deps, outgoing, (item) => {
    if ("shared" in item) return postToViewer(deps, item.shared);
    const push = item.friends;
    for (const s of push.sequenceNumbers) {
      const at = atOf.get(s);
      if (at !== undefined) {
        telemetry.milliseconds("FanoutLagMs", Math.max(0, deps.now() - at));
        atOf.delete(s);
      }
    }
    return deps.notifier.post(push.connectionId, { type: "friends", updates: push.updates });
  });
  const results = allResults.slice(0, plan.pushes.length);

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
  const goneViewers: SharedPush[] = [];
  plan.shared.forEach((push, i) => {
    const result = allResults[plan.pushes.length + i];
    if (result === "gone") goneViewers.push(push);
    else if (result !== "sent") failed.add(push.sequenceNumber);
  });
  telemetry.count("GoneConnections", gone.length + goneViewers.length);
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
    ...goneViewers.map((v) => deps.shares.viewers.remove(v.sharedUserId, v.connectionId)),
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
  return {
    failedSequenceNumbers: [...failed],
    posts: outgoing.length,
    gone: gone.length + goneViewers.length,
  };
}

/**
 * A push to a share-link viewer. A viewer's first frame is published during its handshake, so it
 * may reach the gateway before the connection is open there: "gone" from a viewer younger than
 * NEW_VIEWER_GRACE_MS is retried a few times before the viewer counts as gone.
 */
async function postToViewer(
  deps: Pick<FanoutDeps, "notifier" | "now" | "sleep">,
  push: SharedPush,
): Promise<PostResult> {
  for (;;) {
    const result = await deps.notifier.post(push.connectionId, push.frame);
    if (result !== "gone" || deps.now() - push.connectedAt >= NEW_VIEWER_GRACE_MS) return result;
    await deps.sleep(NEW_VIEWER_RETRY_MS);
  }
}

/**
 * Post the pushes, as many at a time as the shared budget grants for the current second; when it
 * grants none, wait for the next second. Under load this is where the fan-out slows down instead
 * of being throttled, and the batches that queue behind it grow: more updates per push.
 */
async function postWithinBudget<T>(
  deps: Pick<FanoutDeps, "budget" | "now" | "sleep" | "concurrency">,
  pushes: readonly T[],
  post: (push: T) => Promise<PostResult>,
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
