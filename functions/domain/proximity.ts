// Who is "nearby" (docs/PROTOCOL.md §4): the one place the radius and its leave margin are applied,
// by the snapshot (init, nearbyFriends, subscribe) and by the fan-out alike. Pure.
import { haversineM, type LatLon } from "./geo.ts";

export interface ProximityRule {
  radiusM: number;
  /** A friend shown nearby stays nearby up to radius + margin, so that GPS jitter at the edge
   * does not flap between `nearby` and `away`. */
  leaveMarginM: number;
}

/**
 * Whether a friend at `distanceM` (unrounded) is nearby: within the radius to enter, within
 * radius + margin to stay when already shown nearby.
 */
export function isNearby(rule: ProximityRule, distanceM: number, wasNearby: boolean): boolean {
  return distanceM <= (wasNearby ? rule.radiusM + rule.leaveMarginM : rule.radiusM);
}

/** The distance as clients see it: whole metres. */
export const shownDistanceM = (distanceM: number): number => Math.round(distanceM);

/** The great-circle distance between a viewer and the position they are shown of a friend. */
export const distanceM = (viewer: LatLon, shown: LatLon): number => haversineM(viewer, shown);
