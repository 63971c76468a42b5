// Fan-out planning (docs/ARCHITECTURE.md, "Fan-out"), pure: stream records plus what Redis holds in,
// pushes and state changes out. A record is only the trigger: what is pushed is the mover's newest
// published position as Redis holds it, so however late a record is processed, friends get the
// latest position, once. No I/O here, so every rule (latest wins, hysteresis, coalescing, privacy)
// is unit-tested directly.
import type { LocationEvent } from "./events.ts";
import type { LatLon } from "./geo.ts";
import { distanceM, isNearby, type ProximityRule, shownDistanceM } from "./proximity.ts";
import { type SharedFrame, type ShareViewer, sharedFrame } from "./share-links.ts";
import { type FriendVisibility, shownPosition } from "./visibility.ts";

export interface StreamRecord {
  sequenceNumber: string;
  event: LocationEvent;
}

export type FanoutConfig = ProximityRule;

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
  | {
      userId: string;
      state: "away";
      /** The server time of what made the friend away: the position that left the radius or is
       * hidden, or their going offline. */
      at: number;
    };

/** A connection following a user: the connection's user, and whether the followed user is
 * currently reported nearby to it. */
export interface Subscriber {
  connectionId: string;
  userId: string;
  nearby: boolean;
}

export interface PublishedPosition extends LatLon {
  at: number;
}

export interface MoverState {
  subscribers: readonly Subscriber[];
  /** The user's newest published position (absent: offline, or erased). */
  published: PublishedPosition | undefined;
  /** The `at` of the newest published position already fanned out to the subscribers. */
  fannedAt: number | undefined;
  /** The connections watching the user through a live share link (none when absent). */
  viewers?: readonly ShareViewer[];
}

/** A `shared` frame to one share-link viewer's connection. */
export interface SharedPush {
  connectionId: string;
  /** The user it is about (their `sview:` entry is removed if the connection is gone). */
  sharedUserId: string;
  /** When the viewer joined (a young one that looks gone is retried: NEW_VIEWER_GRACE_MS). */
  connectedAt: number;
  frame: SharedFrame;
  sequenceNumber: string;
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
  /** One frame per share-link viewer connection of each mover with news. */
  shared: SharedPush[];
  /** The movers whose published position went out: mark them fanned once their pushes succeed. */
  fanned: { userId: string; at: number; sequenceNumber: string }[];
  /** Records with nothing left to deliver: their mover's position had gone out already (or the
   * mover is offline and an `offline` record follows, or came back after this `offline` one). */
  stale: number;
}

/**
 * Latest record per user, in stream order of their last appearance: an older record of a user
 * already seen is dropped.
 */
export function latestPerUser(records: readonly StreamRecord[]): StreamRecord[] {
  const latest = new Map<string, StreamRecord>();
  for (const r of records) {
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
  /** Share-link viewers: whether a mover hides from them (ghost mode, sharing off). */
  hiddenFromViewers?: (moverId: string) => boolean;
  /** Display names of the movers that have viewers. */
  displayNames?: ReadonlyMap<string, string | null>;
  /** Now: a viewer whose link expired is never served, even before the expiry ends it. */
  now?: number;
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

  let stale = 0;
  const fanned: Plan["fanned"] = [];
  const shared: SharedPush[] = [];
  for (const { sequenceNumber, event } of input.records) {
    const mover = input.movers.get(event.userId);
    if (!mover) continue;
    const published = mover.published;
    let position: PublishedPosition | undefined;
    if (event.kind === "position") {
      // Latest wins: the newest published position, unless it went out already.
      if (!published || (mover.fannedAt !== undefined && published.at <= mover.fannedAt)) {
        stale++;
        continue;
      }
      position = published;
      fanned.push({ userId: event.userId, at: published.at, sequenceNumber });
    } else if (published && published.at > event.at) {
      // Back online since this `offline` record: its position goes out with its own record.
      stale++;
      continue;
    }

    if (mover.viewers && mover.viewers.length > 0) {
      const hidden = input.hiddenFromViewers?.(event.userId) ?? false;
      const displayName = input.displayNames?.get(event.userId) ?? null;
      for (const viewer of mover.viewers) {
        if (input.now !== undefined && viewer.expiresAt <= input.now) continue;
        shared.push({
          connectionId: viewer.connectionId,
          sharedUserId: event.userId,
          connectedAt: viewer.connectedAt,
          frame: sharedFrame({
            userId: event.userId,
            displayName,
            position,
            precision: viewer.precision,
            hidden,
          }),
          sequenceNumber,
        });
      }
    }

    // What made the mover away: this position (out of the radius, or hidden), or going offline.
    const awayAt = position?.at ?? event.at;
    const away = (sub: Subscriber) => {
      const p = pushFor(sub);
      p.updates.push({ userId: event.userId, state: "away", at: awayAt });
      p.sequenceNumbers.push(sequenceNumber);
      p.nearbyRemove.push(event.userId);
    };
    // Per mover, not per subscriber: the hot loop below allocates only for pushes.
    let approximate: LatLon | undefined;
    for (const sub of mover.subscribers) {
      const viewer = sub.userId;
      if (viewer === event.userId) continue;
      const wasNearby = sub.nearby;
      if (position === undefined) {
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
      let shown: LatLon = position;
      if (seen === "approximate") {
        approximate ??= shownPosition(position, "approximate");
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
          at: position.at,
          precision: seen,
        });
        p.sequenceNumbers.push(sequenceNumber);
        if (!wasNearby) p.nearbyAdd.push(event.userId);
      } else if (wasNearby) {
        away(sub);
      }
    }
  }
  return { pushes: [...pushes.values()], shared, fanned, stale };
}
