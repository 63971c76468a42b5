// Use case: nearby people (docs/PROTOCOL.md §2.12): discoverable strangers online within the radius
// of the caller's stored position, read through the coarse cell index, each shown only at the
// centre of their precision-6 cell; nearest first.
import type { Tunables } from "../config.ts";
import { cellsWithin, INDEX_CELL_PRECISION } from "../domain/geo.ts";
import {
  CANDIDATES_PER_CELL,
  DEFAULT_PEOPLE_LIMIT,
  isStranger,
  peopleSearchRadiusM,
} from "../domain/people.ts";
import { distanceM, isNearby, shownDistanceM } from "../domain/proximity.ts";
import { strangerPosition, visibleToStranger } from "../domain/visibility.ts";
import type {
  BlockRepository,
  CellIndex,
  Clock,
  FriendshipRepository,
  PositionStore,
  UserRepository,
} from "./ports.ts";
import { resolveSettings, type SettingsDeps } from "./settings.ts";

export interface Person {
  userId: string;
  displayName: string | null;
  lat: number;
  lon: number;
  distanceM: number;
  precision: "approximate";
}

export interface PeopleDeps {
  positions: Pick<PositionStore, "positions">;
  index: CellIndex;
  settings: SettingsDeps;
  friends: Pick<FriendshipRepository, "friendIds">;
  blocks: Pick<BlockRepository, "eitherWay">;
  users: Pick<UserRepository, "displayNames">;
  tunables: Pick<Tunables, "radiusM" | "leaveMarginM" | "minMoveM">;
  now: Clock;
}

/**
 * The discoverable strangers near `viewerId`, nearest first (ties by userId), at most `limit`. A
 * viewer with no stored position (offline: never sent `init` or `location`, or it expired) gets
 * none. Looking does not require being discoverable.
 */
export async function nearbyPeople(
  deps: PeopleDeps,
  viewerId: string,
  limit: number = DEFAULT_PEOPLE_LIMIT,
): Promise<Person[]> {
  const self = (await deps.positions.positions([viewerId])).get(viewerId);
  if (!self) return [];
  const now = deps.now();
  const searchM = peopleSearchRadiusM(deps.tunables);
  const cells = cellsWithin(self, searchM, INDEX_CELL_PRECISION);
  // The index search and the caller's relations are independent: one round of reads.
  const [candidates, friendIds, blocked] = await Promise.all([
    deps.index.near(cells, self, searchM, CANDIDATES_PER_CELL, now),
    deps.friends.friendIds(viewerId),
    deps.blocks.eitherWay(viewerId),
  ]);
  const friends = new Set(friendIds);
  const strangers = candidates.filter((u) => isStranger(viewerId, u, friends, blocked));
  if (strangers.length === 0) return [];
  // Positions (expired ones are absent: offline) and cached settings share a round trip.
  const [positions, cached] = await Promise.all([
    deps.positions.positions(strangers),
    deps.settings.cache.cached(strangers),
  ]);
  const online = [...positions.keys()];
  const settings = await resolveSettings(deps.settings, online, cached);
  const found: Omit<Person, "displayName">[] = [];
  for (const [userId, p] of positions) {
    const s = settings.get(userId);
    if (!s || !visibleToStranger(s, viewerId, now)) continue;
    const shown = strangerPosition(p);
    const d = distanceM(self, shown);
    if (!isNearby(deps.tunables, d, false)) continue;
    found.push({
      userId,
      lat: shown.lat,
      lon: shown.lon,
      distanceM: shownDistanceM(d),
      precision: "approximate",
    });
  }
  found.sort((a, b) => a.distanceM - b.distanceM || (a.userId < b.userId ? -1 : 1));
  const shown = found.slice(0, limit);
  const names = await deps.users.displayNames(shown.map((p) => p.userId));
  return shown.map((p) => ({ ...p, displayName: names.get(p.userId) ?? null }));
}
