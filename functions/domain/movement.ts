// The movement filter: whether a location write is stale, which server time it is stored at, and
// whether it is published. The Redis script WRITE_LOCATION_LUA applies this same rule atomically;
// test/redis/movement-filter.test.ts runs random sequences through both to keep them in step.
import { haversineM, type LatLon } from "./geo.ts";

/**
 * How far back (ms) a frame's device time may be behind the stored one and still be taken for a
 * frame that arrived out of order; further back is a clock change, and the frame is accepted.
 */
export const OUT_OF_ORDER_WINDOW_MS = 30_000;

export interface MovementPolicy {
  /** A move from the last published position shorter than this (metres) is not published... */
  minMoveM: number;
  /** ...unless this long (ms of server time) has passed since the last publication. */
  heartbeatMs: number;
}

/** The last published position and its server time. */
export interface PublishedPosition extends LatLon {
  at: number;
}

/** What the filter reads of a user's stored position; every field may be missing. */
export interface StoredMovementState {
  /** Server time (ms) of the stored position. */
  at?: number;
  /** Device time (ms) of the stored position and the connection that sent it, stored together. */
  ts?: number;
  tsConnectionId?: string;
  published?: PublishedPosition;
}

export interface MovementInput extends LatLon {
  /** Server time (ms, an integer) of the write. */
  at: number;
  clientTs?: number;
  connectionId?: string;
}

export interface MovementDecision {
  /** The frame is older than one already stored from its connection: nothing but presence is kept. */
  stale: boolean;
  /** The server time the position is stored at (the stored one when stale). */
  at: number;
  publish: boolean;
  /** The state after the write. */
  next: StoredMovementState;
}

/** A connection id counts only when non-empty (the script receives "" for none). */
const hasConnection = (id: string | undefined): id is string => id !== undefined && id !== "";

function isOutOfOrder(prev: StoredMovementState, input: MovementInput): boolean {
  if (input.clientTs === undefined || prev.ts === undefined) return false;
  if (!hasConnection(input.connectionId) || prev.tsConnectionId !== input.connectionId) {
    return false;
  }
  return input.clientTs < prev.ts && prev.ts - input.clientTs <= OUT_OF_ORDER_WINDOW_MS;
}

/** Decide a write against the stored state (null when the user has none). Pure. */
export function decideWrite(
  prev: StoredMovementState | null,
  input: MovementInput,
  policy: MovementPolicy,
): MovementDecision {
  // `ts` is only ever stored together with `at`, so a stale frame always has a stored time.
  if (prev?.at !== undefined && isOutOfOrder(prev, input)) {
    return { stale: true, at: prev.at, publish: false, next: { ...prev } };
  }
  const prevAt = prev?.at;
  const at = prevAt !== undefined && input.at <= prevAt ? prevAt + 1 : input.at;
  const published = prev?.published;
  const publish =
    published === undefined ||
    at - published.at >= policy.heartbeatMs ||
    haversineM(published, input) >= policy.minMoveM;
  const nextPublished = publish ? { lat: input.lat, lon: input.lon, at } : published;
  const next: StoredMovementState = {
    at,
    ...(input.clientTs !== undefined && hasConnection(input.connectionId)
      ? { ts: input.clientTs, tsConnectionId: input.connectionId }
      : {}),
    ...(nextPublished === undefined ? {} : { published: nextPublished }),
  };
  return { stale: false, at, publish, next };
}
