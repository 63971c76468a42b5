// Use cases of a WebSocket session: connect, disconnect, init (announce + snapshot + subscribe),
// paging the snapshot, and following or unfollowing one friend.
import type { Tunables } from "../config.ts";
import { slowCadenceS } from "../domain/cadence.ts";
import { InvalidRequestError, NotFriendsError, RateLimitedError } from "../domain/errors.ts";
import {
  CONNECT_WINDOW_MS,
  CONNECTS_PER_WINDOW,
  MAX_CONNECTIONS_PER_USER,
} from "../domain/limits.ts";
import { type CadenceDeps, reviewCadences } from "./cadence.ts";
import { type LocationDeps, recordLocation } from "./location.ts";
import type { Audience, ConnectionRegistry, FriendshipRepository, PositionStore } from "./ports.ts";
import type { SettingsDeps } from "./settings.ts";
import {
  decodeCursor,
  type FriendPosition,
  nearbyFriends,
  type Page,
  page,
  type SnapshotDeps,
} from "./snapshot.ts";

export interface SessionDeps extends LocationDeps {
  positions: LocationDeps["positions"] & Pick<PositionStore, "positions">;
  connections: Pick<ConnectionRegistry, "open" | "add" | "remove">;
  audience: Pick<Audience, "subscribe" | "unsubscribe" | "setNearbyFlags">;
  friends: Pick<FriendshipRepository, "friendIds" | "get">;
  settings: SettingsDeps;
  tunables: Tunables;
}

/** Use cases that change who watches whom, so whose reporting cadence may change (app/cadence.ts). */
export interface CadenceAware {
  cadence: CadenceDeps;
}

const snapshotDeps = (deps: SessionDeps): SnapshotDeps => ({
  positions: deps.positions,
  settings: deps.settings,
  rule: deps.tunables,
  now: deps.now,
});

export const DEFAULT_PAGE_SIZE = 20;

/** Register a new connection; a user over their connection cap or handshake rate is refused. */
export async function connect(
  deps: SessionDeps,
  userId: string,
  connectionId: string,
): Promise<void> {
  const refusal = await deps.connections.open(userId, connectionId, deps.now());
  if (refusal === "too_many_connections")
    throw new RateLimitedError(
      `at most ${MAX_CONNECTIONS_PER_USER} connections per user may be open at once`,
    );
  if (refusal === "too_many_connects")
    throw new RateLimitedError(
      `at most ${CONNECTS_PER_WINDOW} connections per user may be opened in ${CONNECT_WINDOW_MS / 1000} s`,
    );
}

/**
 * Forget the connection; when it was the user's last, tell friends the user went offline. The
 * friends it followed have one watcher less: their cadence is decided again.
 */
export async function disconnect(
  deps: SessionDeps & CadenceAware,
  userId: string,
  connectionId: string,
): Promise<void> {
  const { offline, followed } = await deps.connections.remove(userId, connectionId);
  if (offline) await deps.publisher.publish({ v: 1, kind: "offline", userId, at: deps.now() });
  await reviewCadences(deps.cadence, followed);
}

export interface InitInput {
  userId: string;
  connectionId: string;
  lat: number;
  lon: number;
  accuracyM?: number | undefined;
  ts?: number | undefined;
  limit?: number | undefined;
}

export interface InitResult extends Page {
  serverTime: number;
  radiusM: number;
  /** How often the client is asked to report its position (docs/PROTOCOL.md §2.11). */
  reportEveryS: number;
  self: { lat: number; lon: number; at: number };
}

export async function init(
  deps: SessionDeps & CadenceAware,
  input: InitInput,
): Promise<InitResult> {
  // Read before any write, so that a failing friendships table leaves nothing half done.
  const friendIds = await deps.friends.friendIds(input.userId);
  // `init` (re)registers the connection: after Redis lost its state, this is how a client's
  // session comes back (the frame gate told it to send `init`).
  if (!(await deps.connections.add(input.userId, input.connectionId, deps.now()))) {
    // A late `init` of a closed connection ($disconnect ran first): nothing to set up.
    throw new InvalidRequestError("this connection closed before its init was handled");
  }
  const written = await recordLocation(deps, input);
  // A frame that arrived after a newer one of the same connection did not move the user: the
  // reply and the snapshot are of the position stored, not of the late frame's.
  const self = written.stale
    ? ((await deps.positions.positions([input.userId])).get(input.userId) ?? input)
    : input;
  await deps.audience.subscribe(input.userId, input.connectionId, friendIds);
  const all = await nearbyFriends(snapshotDeps(deps), input.userId, self, friendIds);
  // The snapshot replaces what the client held: exactly these friends are now nearby to it.
  const sub = { connectionId: input.connectionId, userId: input.userId };
  await deps.audience.setNearbyFlags(all.map((f) => [f.userId, sub, true] as const));
  // This connection now watches every friend: those within reach may have to report faster. The
  // user's own cadence goes in the reply (and to their other connections, if it changed).
  const cadences = await reviewCadences(deps.cadence, [input.userId, ...friendIds], {
    except: input.connectionId,
    near: { from: self, always: input.userId },
  });
  return {
    serverTime: deps.now(),
    radiusM: deps.tunables.radiusM,
    reportEveryS: cadences.get(input.userId) ?? slowCadenceS(deps.cadence.rule),
    self: { lat: self.lat, lon: self.lon, at: written.at },
    ...page(all, 0, input.limit ?? DEFAULT_PAGE_SIZE),
  };
}

/** The next page of the snapshot, computed from the user's current position. */
export async function nextPage(
  deps: SessionDeps,
  userId: string,
  cursor: string,
  limit: number | undefined,
): Promise<Page> {
  const offset = decodeCursor(cursor);
  const self = (await deps.positions.positions([userId])).get(userId);
  if (!self) return { friends: [], cursor: null };
  const friendIds = await deps.friends.friendIds(userId);
  const all = await nearbyFriends(snapshotDeps(deps), userId, self, friendIds);
  return page(all, offset, limit ?? DEFAULT_PAGE_SIZE);
}

/** Follow one friend; the reply carries their position when they are online and within the radius. */
export async function subscribe(
  deps: SessionDeps & CadenceAware,
  userId: string,
  connectionId: string,
  friendId: string,
): Promise<FriendPosition | null> {
  const relation = await deps.friends.get(userId, friendId);
  if (relation?.status !== "friends") throw new NotFriendsError(friendId);
  await deps.audience.subscribe(userId, connectionId, [friendId]);
  await reviewCadences(deps.cadence, [friendId]);
  const self = (await deps.positions.positions([userId])).get(userId);
  if (!self) return null;
  const [nearby] = await nearbyFriends(snapshotDeps(deps), userId, self, [friendId]);
  if (nearby) {
    await deps.audience.setNearbyFlags([[friendId, { connectionId, userId }, true]]);
  }
  return nearby ?? null;
}

export async function unsubscribe(
  deps: SessionDeps & CadenceAware,
  userId: string,
  connectionId: string,
  friendId: string,
): Promise<void> {
  await deps.audience.unsubscribe(userId, connectionId, friendId);
  await reviewCadences(deps.cadence, [friendId]);
}
