// Use case: the nearby-friends snapshot (init / nearbyFriends): friends online and within the
// radius, nearest first, paged with an opaque cursor.
import type { RedisStore } from "../adapters/redis-store.ts";
import { InvalidRequestError } from "../domain/errors.ts";
import { haversineM, type LatLon } from "../domain/geo.ts";

export interface FriendPosition {
  userId: string;
  lat: number;
  lon: number;
  distanceM: number;
  at: number;
  precision: "precise" | "approximate";
}

export interface SnapshotDeps {
  store: Pick<RedisStore, "positions">;
  radiusM: number;
}

/** Every friend within the radius of `self`, nearest first (ties by userId, so pages are stable). */
export async function nearbyFriends(
  deps: SnapshotDeps,
  self: LatLon,
  friendIds: readonly string[],
): Promise<FriendPosition[]> {
  const positions = await deps.store.positions(friendIds);
  const out: FriendPosition[] = [];
  for (const [userId, p] of positions) {
    const distanceM = Math.round(haversineM(self, p));
    if (distanceM <= deps.radiusM) {
      out.push({ userId, lat: p.lat, lon: p.lon, distanceM, at: p.at, precision: "precise" });
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
