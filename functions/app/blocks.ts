// Use cases of blocks (docs/PROTOCOL.md §3): blocking ends a friendship and any pending request
// between the two, at once for their connections; unblocking restores nothing; listing shows only
// whom the caller blocked.
import { ConflictError, InvalidRequestError, NotFoundError } from "../domain/errors.ts";
import { MAX_BLOCKS_PER_USER } from "../domain/limits.ts";
import { endFriendship, type UnfriendDeps } from "./friends.ts";
import type { BlockRepository, Clock, UserRepository } from "./ports.ts";

export interface BlockDeps
  extends Pick<UnfriendDeps, "friendships" | "audience" | "notifier" | "reviewCadences"> {
  users: Pick<UserRepository, "get" | "displayNames">;
  blocks: Pick<BlockRepository, "block" | "unblock" | "blockedBy">;
  now: Clock;
}

/**
 * `me` blocks `other`: idempotent (a repeat keeps the first time). The block is stored first, so
 * that no friend request can slip between it and the end of the friendship.
 */
export async function block(deps: BlockDeps, me: string, other: string): Promise<void> {
  if (me === other) throw new InvalidRequestError("userId must not be your own");
  const [profile, blocked] = await Promise.all([deps.users.get(other), deps.blocks.blockedBy(me)]);
  if (!profile) throw new NotFoundError(`user ${other} does not exist`);
  if (!blocked.some((b) => b.userId === other) && blocked.length >= MAX_BLOCKS_PER_USER) {
    throw new ConflictError(
      `you have blocked ${MAX_BLOCKS_PER_USER} users, the most allowed: unblock someone first`,
    );
  }
  await deps.blocks.block(me, other, deps.now());
  const relation = await deps.friendships.get(me, other);
  if (relation?.status === "friends") await endFriendship(deps, me, other);
  else if (relation) await deps.friendships.deletePair(me, other);
}

/** Lift `me`'s block of `other`; idempotent. A block the other way stays, and no friendship returns. */
export async function unblock(deps: BlockDeps, me: string, other: string): Promise<void> {
  await deps.blocks.unblock(me, other);
}

/** The users `me` blocked (never those who blocked `me`), ordered by userId. */
export async function listBlocks(deps: BlockDeps, me: string) {
  const blocked = await deps.blocks.blockedBy(me);
  const names = await deps.users.displayNames(blocked.map((b) => b.userId));
  return {
    blocks: blocked.map((b) => ({
      userId: b.userId,
      displayName: names.get(b.userId) ?? null,
      since: b.since,
    })),
  };
}
