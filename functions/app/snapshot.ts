// Use case: the nearby-friends snapshot (init / nearbyFriends / subscribe): friends online, sharing
// with the viewer and within the radius, nearest first, paged with an opaque cursor.
import { InvalidRequestError } from "../domain/errors.ts";
import type { LatLon } from "../domain/geo.ts";
import { distanceM, isNearby, type ProximityRule, shownDistanceM } from "../domain/proximity.ts";
import { shownPosition, visibilityUnder } from "../domain/visibility.ts";
import type { Clock, PositionStore } from "./ports.ts";
import { resolveSettings, type SettingsDeps } from "./settings.ts";

export interface FriendPosition {
  userId: string;
  lat: number;
  lon: number;
  distanceM: number;
  at: number;
  precision: "precise" | "approximate";
}

export interface SnapshotDeps {
  positions: Pick<PositionStore, "positions">;
  settings: SettingsDeps;
  rule: ProximityRule;
  now: Clock;
}

/** Every friend the viewer may see within the radius of `self`, nearest first (ties by userId). */
export async function nearbyFriends(
  deps: SnapshotDeps,
  viewerId: string,
  self: LatLon,
  friendIds: readonly string[],
): Promise<FriendPosition[]> {
  // Positions and cached settings share a round trip (auto-pipelining); misses go to the table.
  const [positions, cached] = await Promise.all([
    deps.positions.positions(friendIds),
    deps.settings.cache.cached(friendIds),
  ]);
  const online = [...positions.keys()];
  const settings = await resolveSettings(deps.settings, online, cached);
  const now = deps.now();
  const out: FriendPosition[] = [];
  for (const [userId, p] of positions) {
    const visibility = visibilityUnder(settings.get(userId), viewerId, now);
    if (visibility === "hidden") continue;
    const shown = shownPosition(p, visibility);
    const d = distanceM(self, shown);
    // A snapshot starts afresh: the entry rule (nothing is shown nearby to this connection yet).
    if (isNearby(deps.rule, d, false)) {
      out.push({
        userId,
        lat: shown.lat,
        lon: shown.lon,
        distanceM: shownDistanceM(d),
        at: p.at,
        precision: visibility,
      });
    }
  }
  return out.sort((a, b) => a.distanceM - b.distanceM || (a.userId < b.userId ? -1 : 1));
}

export interface Page {
  friends: FriendPosition[];
  cursor: string | null;
}

export function encodeCursor(offset: number): string {
  return Buffer.from(JSON.stringify({ o: offset })).toString("base64url");
}

export function decodeCursor(cursor: string): number {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    const o = (value as { o?: unknown })?.o;
    if (typeof o === "number" && Number.isInteger(o) && o >= 0) return o;
  } catch {
    // fall through
  }
  throw new InvalidRequestError("cursor is not a cursor this server issued");
}

export function page(all: readonly FriendPosition[], offset: number, limit: number): Page {
  const friends = all.slice(offset, offset + limit);
  const next = offset + limit;
  return { friends, cursor: next < all.length ? encodeCursor(next) : null };
}
