// Use case: the nearby-friends snapshot (init / nearbyFriends / subscribe): friends online, sharing
// with the viewer and within the radius, nearest first, paged with an opaque cursor.
import type { RedisStore } from "../adapters/redis-store.ts";
import { InvalidRequestError } from "../domain/errors.ts";
import { haversineM, type LatLon } from "../domain/geo.ts";
import { shownPosition, visibilityFor } from "../domain/settings.ts";
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
  store: Pick<RedisStore, "positions" | "cachedSettings">;
  settings: SettingsDeps;
  radiusM: number;
  now: () => number;
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
    deps.store.positions(friendIds),
    deps.store.cachedSettings(friendIds),
  ]);
  const online = [...positions.keys()];
  const settings = await resolveSettings(deps.settings, online, cached);
  const now = deps.now();
  const out: FriendPosition[] = [];
  for (const [userId, p] of positions) {
    const s = settings.get(userId);
    const visibility = s ? visibilityFor(s, viewerId, now) : "precise";
    if (visibility === "hidden") continue;
    const shown = shownPosition(p, visibility);
    const distanceM = Math.round(haversineM(self, shown));
    if (distanceM <= deps.radiusM) {
      out.push({
        userId,
        lat: shown.lat,
        lon: shown.lon,
        distanceM,
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
