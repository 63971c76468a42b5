// Visibility and precision (docs/PROTOCOL.md §3): how a viewer may see a user under the user's
// sharing settings, and the position shown at each precision. Pure.
import { APPROXIMATE_PRECISION, type LatLon, snapToCellCentre } from "./geo.ts";
import type { Settings } from "./settings.ts";

export type FriendVisibility = "precise" | "approximate" | "hidden";

/** How `viewerId` may see the owner of `settings` at time `now`. */
export function visibilityFor(settings: Settings, viewerId: string, now: number): FriendVisibility {
  if (settings.sharing === "off" && (settings.ghostUntil === null || now < settings.ghostUntil))
    return "hidden";
  return settings.friends[viewerId] ?? "precise";
}

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
