// Nearby people (docs/PROTOCOL.md §2.12): who a user may be shown among strangers, how far the
// coarse cell index is searched for them, and how long an index entry lives. Pure. What a stranger
// is shown of a user (discoverable, not hiding, the cell centre only) is domain/visibility.ts.
import { APPROXIMATE_PRECISION, cellHalfDiagonalM } from "./geo.ts";
import { OUT_OF_ORDER_WINDOW_MS } from "./movement.ts";

export const DEFAULT_PEOPLE_LIMIT = 20;
export const MAX_PEOPLE_LIMIT = 50;

/**
 * Candidates read from each index cell, nearest first by their indexed position. Bounds the work of
 * one search in a crowd; beyond it (more users indexed within reach in one cell, most of them not
 * discoverable), farther discoverable users may be missed (ARCHITECTURE.md §16).
 */
export const CANDIDATES_PER_CELL = 200;

/**
 * How far from the viewer the index is searched. An indexed position may lag the stored one by up
 * to two movement-filter steps (the index is written on published positions and on cell changes,
 * and a filtered position lies within `minMoveM` of the published one), and a stranger is measured
 * from the centre of their precision-6 cell, up to half its diagonal from the real position.
 */
export function peopleSearchRadiusM(t: { radiusM: number; minMoveM: number }): number {
  return t.radiusM + 2 * t.minMoveM + cellHalfDiagonalM(APPROXIMATE_PRECISION);
}

/**
 * How long an index entry lives after the write that made it. Only published positions and cell
 * changes write the index, and a user who keeps sending publishes at least once a heartbeat, so an
 * entry outlives the user's `loc:` (its TTL refreshed by every write) by the heartbeat and the
 * out-of-order window: an online user is always indexed, and an entry past its expiry belongs to
 * a user who is offline.
 */
export function indexEntryLifetimeMs(t: { locationTtlS: number; heartbeatS: number }): number {
  return (t.locationTtlS + t.heartbeatS) * 1000 + OUT_OF_ORDER_WINDOW_MS;
}

/** Whether `userId` is a stranger to `viewerId`: not the viewer, not a friend, no block either way. */
export function isStranger(
  viewerId: string,
  userId: string,
  friends: ReadonlySet<string>,
  blocked: ReadonlySet<string>,
): boolean {
  return userId !== viewerId && !friends.has(userId) && !blocked.has(userId);
}
