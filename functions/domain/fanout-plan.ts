// Fan-out planning (docs/ARCHITECTURE.md, "Fan-out"), pure: stream records plus what Redis holds in, pushes and state
// changes out. No I/O here, so every rule (latest wins, staleness, hysteresis, coalescing, privacy)
// is unit-tested directly.
import type { LocationEvent } from "./events.ts";
import type { LatLon } from "./geo.ts";
import { distanceM, isNearby, type ProximityRule, shownDistanceM } from "./proximity.ts";
import { type FriendVisibility, shownPosition } from "./visibility.ts";

export interface StreamRecord {
  sequenceNumber: string;
  event: LocationEvent;
}

export interface FanoutConfig extends ProximityRule {
  /** Records older than this (server time) are dropped: a late position is worse than none. */
  maxAgeMs: number;
}

export type Visibility = FriendVisibility;

export type FriendUpdate =
  | {
      userId: string;
      state: "nearby";
      lat: number;
      lon: number;
      distanceM: number;
      at: number;
      precision: "precise" | "approximate";
    }
  | { userId: string; state: "away" };

/** A connection following a user: the connection's user, and whether the followed user is
 * currently reported nearby to it. */
export interface Subscriber {
  connectionId: string;
  userId: string;
  nearby: boolean;
}

export interface MoverState {
  subscribers: readonly Subscriber[];
  /** When the user's newest position was published; an older record has been superseded. */
  publishedAt: number | undefined;
}

export interface Push {
  connectionId: string;
  viewerId: string;
  updates: FriendUpdate[];
  /** The records this push carries news of: they fail if the push fails. */
  sequenceNumbers: string[];
  nearbyAdd: string[];
  nearbyRemove: string[];
}

export interface Plan {
  pushes: Push[];
  /** Records skipped because a newer position of the same user was published already. */
  superseded: number;
}

/** A record older than `maxAgeMs` (server time) is dropped: a late position is worse than none. */
export const isTooOld = (r: StreamRecord, now: number, maxAgeMs: number): boolean =>
  now - r.event.at > maxAgeMs;

/**
 * Latest record per user, in stream order of their last appearance. A record older than
 * `maxAgeMs` is dropped; so is one older than a record of the same user already seen.
 */
export function latestPerUser(
  records: readonly StreamRecord[],
  now: number,
  maxAgeMs: number,
): StreamRecord[] {
  const latest = new Map<string, StreamRecord>();
  for (const r of records) {
    if (isTooOld(r, now, maxAgeMs)) continue;
    const prev = latest.get(r.event.userId);
    if (prev && prev.event.at > r.event.at) continue;
    latest.delete(r.event.userId);
    latest.set(r.event.userId, r);
  }
  return [...latest.values()];
}

export interface PlanInput {
  records: readonly StreamRecord[];
  movers: ReadonlyMap<string, MoverState>;
  /** Current positions of the subscribers' users (absent: offline). */
  positions: ReadonlyMap<string, LatLon>;
  config: FanoutConfig;
  visibility?: (moverId: string, viewerId: string) => Visibility;
}

const everyonePrecise = (): Visibility => "precise";

/** Plan the pushes for records already reduced to the latest per user. */
export function planFanout(input: PlanInput): Plan {
  const visibility = input.visibility ?? everyonePrecise;
  const pushes = new Map<string, Push>();
  const pushFor = ({ connectionId, userId: viewerId }: Subscriber): Push => {
    let p = pushes.get(connectionId);
    if (!p) {
      p = {
        connectionId,
        viewerId,
        updates: [],
        sequenceNumbers: [],
        nearbyAdd: [],
        nearbyRemove: [],
      };
      pushes.set(connectionId, p);
    }
    return p;
  };

  let superseded = 0;
  for (const { sequenceNumber, event } of input.records) {
    const mover = input.movers.get(event.userId);
    if (!mover) continue;
    if (
      event.kind === "position" &&
      mover.publishedAt !== undefined &&
      event.at < mover.publishedAt
    ) {
      superseded++;
      continue;
    }

    const away = (sub: Subscriber) => {
      const p = pushFor(sub);
      p.updates.push({ userId: event.userId, state: "away" });
      p.sequenceNumbers.push(sequenceNumber);
      p.nearbyRemove.push(event.userId);
    };
    // Per mover, not per subscriber: the hot loop below allocates only for pushes.
    let approximate: LatLon | undefined;
    for (const sub of mover.subscribers) {
      const viewer = sub.userId;
      if (viewer === event.userId) continue;
      const wasNearby = sub.nearby;
      if (event.kind === "offline") {
        if (wasNearby) away(sub);
        continue;
      }
      const seen = visibility(event.userId, viewer);
      if (seen === "hidden") {
        if (wasNearby) away(sub);
        continue;
      }
      const viewerAt = input.positions.get(viewer);
      if (!viewerAt) continue;
      let shown: LatLon = event;
      if (seen === "approximate") {
        approximate ??= shownPosition(event, "approximate");
        shown = approximate;
      }
      const d = distanceM(viewerAt, shown);
      if (isNearby(input.config, d, wasNearby)) {
        const p = pushFor(sub);
        p.updates.push({
          userId: event.userId,
          state: "nearby",
          lat: shown.lat,
          lon: shown.lon,
          distanceM: shownDistanceM(d),
          at: event.at,
          precision: seen,
        });
        p.sequenceNumbers.push(sequenceNumber);
        if (!wasNearby) p.nearbyAdd.push(event.userId);
      } else if (wasNearby) {
        away(sub);
      }
    }
  }
  return { pushes: [...pushes.values()], superseded };
}
