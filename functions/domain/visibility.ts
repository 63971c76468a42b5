// Visibility and precision (docs/PROTOCOL.md §3): how a viewer may see a user under the user's
// sharing settings, and the position shown at each precision. Pure.
import { APPROXIMATE_PRECISION, type LatLon, snapToCellCentre } from "./geo.ts";
import type { Settings } from "./settings.ts";

export type FriendVisibility = "precise" | "approximate" | "hidden";

/** Ghost mode: sharing off, with no end or an end still in the future. Hides the user from everyone. */
export function isGhost(settings: Settings, now: number): boolean {
  return settings.sharing === "off" && (settings.ghostUntil === null || now < settings.ghostUntil);
}

/** How `viewerId` may see the owner of `settings` at time `now`. */
export function visibilityFor(settings: Settings, viewerId: string, now: number): FriendVisibility {
  if (isGhost(settings, now)) return "hidden";
  return settings.friends[viewerId] ?? "precise";
}

/**
 * Whether a stranger (`viewerId`, not a friend, no block either way) may see the owner of
 * `settings` among nearby people: only when discoverable, not in ghost mode, and not `hidden`
 * for that viewer. Strangers are shown the precision-6 cell centre only (`strangerPosition`).
 */
export function visibleToStranger(settings: Settings, viewerId: string, now: number): boolean {
  return settings.discoverable && visibilityFor(settings, viewerId, now) !== "hidden";
}

/** The only position a stranger is ever shown: the centre of the ~1.2 km cell. */
export const strangerPosition = (p: LatLon): LatLon => shownPosition(p, "approximate");

/** Whether these settings show every friend the precise position (the default, and the common case). */
export function isShareAll(settings: Settings): boolean {
  if (settings.sharing !== "on") return false;
  for (const _ in settings.friends) return false;
  return true;
}

/** The position a viewer is shown: the real one, or the centre of its ~1.2 km cell. */
export function shownPosition(p: LatLon, visibility: "precise" | "approximate"): LatLon {
  return visibility === "approximate"
    ? snapToCellCentre(p, APPROXIMATE_PRECISION)
    : { lat: p.lat, lon: p.lon };
}

/** Visibility under settings that may be unknown (none stored: the defaults, precise to all). */
export function visibilityUnder(
  settings: Settings | undefined,
  viewerId: string,
  now: number,
): FriendVisibility {
  return settings === undefined || isShareAll(settings)
    ? "precise"
    : visibilityFor(settings, viewerId, now);
}
