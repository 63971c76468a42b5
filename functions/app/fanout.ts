// Use case: fan a batch of stream records out to the connections of subscribed friends. Two
// rounds of Redis reads and one of writes per batch whatever its size (and however many friends),
// one push per recipient connection, bounded concurrency of posts; dead connections are cleaned
// up, failed pushes fail only their records.
import { mapWithConcurrency } from "../domain/concurrency.ts";
import {
  type FanoutConfig,
  isTooOld,
  latestPerUser,
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
  Telemetry,
} from "./ports.ts";
import { resolveSettings, type SettingsDeps } from "./settings.ts";

export interface FanoutDeps {
  audience: Pick<Audience, "moverStates" | "setNearbyFlags" | "removeSubscriptions">;
  positions: Pick<PositionStore, "positions">;
  connections: Pick<ConnectionRegistry, "forgetDead">;
  settings: SettingsDeps;
  notifier: Notifier;
  publisher: EventPublisher;
  config: FanoutConfig;
  now: Clock;
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
  const received = deps.now();
  telemetry.count("FanoutRecords", records.length);
  const tooOld = records.filter((r) => isTooOld(r, received, deps.config.maxAgeMs)).length;
  const latest = latestPerUser(records, received, deps.config.maxAgeMs);
  if (latest.length === 0) {
    telemetry.count("FanoutStaleDropped", tooOld);
    return { failedSequenceNumbers: [], posts: 0, gone: 0 };
  }

  const moverIds = latest.map((r) => r.event.userId);
  // Round 1: each mover's audience (connections, their users, nearby flags), published marker and
  // cached settings.
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
  telemetry.count("FanoutStaleDropped", tooOld + plan.superseded);
  telemetry.count("FanoutPushes", plan.pushes.length);
  let friendUpdates = 0;
  for (const push of plan.pushes) friendUpdates += push.updates.length;
  telemetry.count("FanoutFriendUpdates", friendUpdates);

  // Lag is measured once per record, when its first push goes out.
  const atOf = new Map(latest.map((r) => [r.sequenceNumber, r.event.at]));
  const results = await mapWithConcurrency(plan.pushes, deps.concurrency, (push) => {
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

  // Round 3: the state changes, in one round trip.
  await Promise.all([deps.audience.setNearbyFlags(flags), deps.audience.removeSubscriptions(dead)]);
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
