// Use cases of profiles and friendships (docs/PROTOCOL.md §3): requests, acceptance, listing, removal.
import { ConflictError, InvalidRequestError, NotFoundError } from "../domain/errors.ts";
import type {
  Audience,
  BlockRepository,
  Clock,
  FriendshipRepository,
  Notifier,
  UserProfile,
  UserRepository,
} from "./ports.ts";

export interface FriendsDeps {
  users: Pick<UserRepository, "get" | "put" | "displayNames">;
  friendships: Pick<FriendshipRepository, "get" | "list" | "putPair" | "deletePair">;
  /** A block either way makes the other user look missing to friend requests. */
  blocks: Pick<BlockRepository, "between">;
  now: Clock;
}

export async function getProfile(
  deps: Pick<FriendsDeps, "users">,
  userId: string,
): Promise<UserProfile> {
  return (await deps.users.get(userId)) ?? { userId, displayName: null };
}

export async function updateProfile(
  deps: Pick<FriendsDeps, "users">,
  userId: string,
  displayName: string,
): Promise<UserProfile> {
  const profile = { userId, displayName };
  await deps.users.put(profile);
  return profile;
}

/**
 * Ask `other` to be friends; when `other` had already asked, the two become friends. A block
 * either way answers exactly as a missing user does, so that a block is not revealed.
 */
export async function requestFriend(
  deps: FriendsDeps,
  me: string,
  other: string,
): Promise<{ status: "pending" | "friends"; created: boolean }> {
  if (me === other) throw new InvalidRequestError("userId must not be your own");
  const [profile, blocked] = await Promise.all([
    deps.users.get(other),
    deps.blocks.between(me, other),
  ]);
  if (!profile || blocked) throw new NotFoundError(`user ${other} does not exist`);
  const existing = await deps.friendships.get(me, other);
  if (existing?.status === "friends")
    throw new ConflictError(`you are already friends with ${other}`);
  const since = deps.now();
  if (existing?.status === "incoming") {
    await deps.friendships.putPair(
      { userId: me, friendId: other, status: "friends", since },
      { userId: other, friendId: me, status: "friends", since },
    );
    return { status: "friends", created: false };
  }
  if (existing?.status !== "outgoing") {
    await deps.friendships.putPair(
      { userId: me, friendId: other, status: "outgoing", since },
      { userId: other, friendId: me, status: "incoming", since },
    );
  }
  return { status: "pending", created: true };
}

export async function listRequests(deps: FriendsDeps, me: string) {
  const all = await deps.friendships.list(me);
  const pick = (status: string) =>
    all.filter((f) => f.status === status).map((f) => ({ userId: f.friendId, at: f.since }));
  return { incoming: pick("incoming"), outgoing: pick("outgoing") };
}

export async function acceptRequest(
  deps: FriendsDeps,
  me: string,
  other: string,
): Promise<{ status: "friends" }> {
  const existing = await deps.friendships.get(me, other);
  if (existing?.status === "friends") return { status: "friends" };
  // A block deletes the requests between the two; one that raced the block is not accepted.
  if (existing?.status !== "incoming" || (await deps.blocks.between(me, other)))
    throw new NotFoundError(`there is no friend request from ${other}`);
  const since = deps.now();
  await deps.friendships.putPair(
    { userId: me, friendId: other, status: "friends", since },
    { userId: other, friendId: me, status: "friends", since },
  );
  return { status: "friends" };
}

/** Decline an incoming or cancel an outgoing request. Idempotent; never removes a friendship. */
export async function removeRequest(deps: FriendsDeps, me: string, other: string): Promise<void> {
  const existing = await deps.friendships.get(me, other);
  if (existing && existing.status !== "friends") await deps.friendships.deletePair(me, other);
}

export async function listFriends(deps: FriendsDeps, me: string) {
  const friends = (await deps.friendships.list(me)).filter((f) => f.status === "friends");
  const names = await deps.users.displayNames(friends.map((f) => f.friendId));
  return {
    friends: friends.map((f) => ({
      userId: f.friendId,
      displayName: names.get(f.friendId) ?? null,
      since: f.since,
    })),
  };
}

export interface UnfriendDeps extends FriendsDeps {
  audience: Pick<Audience, "unlink">;
  notifier: Notifier;
  /** Decide these users' reporting cadence again (app/cadence.ts): each lost a watcher. */
  reviewCadences(userIds: readonly string[]): Promise<void>;
}

/** End a friendship: both sides stop following each other at once and get `away` where shown nearby. */
export async function unfriend(deps: UnfriendDeps, me: string, other: string): Promise<void> {
  const existing = await deps.friendships.get(me, other);
  if (existing?.status !== "friends") throw new NotFoundError(`${other} is not your friend`);
  await endFriendship(deps, me, other);
}

/**
 * Delete the friendship of two users (known to be friends) and stop every connection of either
 * following the other at once; each that showed the other nearby gets `away`.
 */
export async function endFriendship(
  deps: Pick<UnfriendDeps, "friendships" | "audience" | "notifier" | "now" | "reviewCadences">,
  me: string,
  other: string,
): Promise<void> {
  await deps.friendships.deletePair(me, other);
  const [mine, theirs] = await Promise.all([
    deps.audience.unlink(me, other),
    deps.audience.unlink(other, me),
  ]);
  const at = deps.now();
  await Promise.all([
    ...mine.map((c) =>
      deps.notifier.post(c, { type: "friends", updates: [{ userId: other, state: "away", at }] }),
    ),
    ...theirs.map((c) =>
      deps.notifier.post(c, { type: "friends", updates: [{ userId: me, state: "away", at }] }),
    ),
  ]);
  await deps.reviewCadences([me, other]);
}
