// The friends model, pure: which friends are nearby and where, built from init snapshots,
// `subscribed` replies and `friends` pushes by the rules of docs/PROTOCOL.md §2.6; every change is
// returned as a diff, which the client turns into events.
import type { FriendPosition, FriendUpdate } from "./types.ts";

/** Why a friend left the model. */
export type AwayReason =
  /** The server said so: an `away` push, or a `subscribed` reply without a position. */
  | "away"
  /** A new snapshot (after init) no longer lists them. */
  | "snapshot"
  /** This client unsubscribed from them. */
  | "unsubscribed"
  /** The client was closed. */
  | "closed";

export type ModelDiff =
  | { type: "nearby"; friend: FriendPosition; previous: FriendPosition | undefined }
  | { type: "away"; friend: FriendPosition; reason: AwayReason };

export class FriendsModel {
  private readonly shown = new Map<string, FriendPosition>();
  /** The greatest `at` seen per friend, kept after they leave, so that a late repeat is ignored. */
  private readonly greatestAt = new Map<string, number>();
  /** Friends this client unsubscribed from: nothing about them is applied until followed again. */
  private readonly unfollowed = new Set<string>();
  /** Friends a push or reply told about since the snapshot in progress began. */
  private touched: Set<string> | null = null;

  /** The nearby friends, by userId (a live view: copy it to keep it). */
  get friends(): ReadonlyMap<string, FriendPosition> {
    return this.shown;
  }

  /**
   * Apply a `friends` push. A `nearby` update is applied only when its `at` is greater than any
   * seen for that friend (repeats and updates older than a snapshot are ignored); `away` removes,
   * unless its `at` is older than the position shown (a late repeat), and counts as seen.
   */
  applyPush(updates: readonly FriendUpdate[]): ModelDiff[] {
    const diffs: ModelDiff[] = [];
    for (const u of updates) {
      if (this.unfollowed.has(u.userId)) continue;
      if (u.state === "nearby") {
        const seen = this.greatestAt.get(u.userId);
        if (seen !== undefined && u.at <= seen) continue;
        this.touched?.add(u.userId);
        diffs.push(this.put(positionOf(u)));
      } else if (u.state === "away") {
        // An `away` older than the position shown is a late repeat: the friend came back since.
        const seen = this.greatestAt.get(u.userId);
        if (u.at !== undefined && seen !== undefined && u.at < seen) continue;
        if (u.at !== undefined) this.greatestAt.set(u.userId, Math.max(seen ?? u.at, u.at));
        this.touched?.add(u.userId);
        const diff = this.remove(u.userId, "away");
        if (diff) diffs.push(diff);
      }
    }
    return diffs;
  }

  /**
   * Apply a `subscribed` reply: the friend is followed again, and shown at `friend` (unless the
   * model holds a newer position) or removed when it is null.
   */
  applySubscribed(friendId: string, friend: FriendPosition | null): ModelDiff[] {
    this.unfollowed.delete(friendId);
    this.touched?.add(friendId);
    if (friend === null) {
      const diff = this.remove(friendId, "away");
      return diff ? [diff] : [];
    }
    const diff = this.putUnlessOlder(friend);
    return diff ? [diff] : [];
  }

  /**
   * Start a snapshot made of several pages: pushes and replies applied from now until
   * `applySnapshot` win over the pages, which were computed earlier.
   */
  beginSnapshot(): void {
    this.touched = new Set();
  }

  /**
   * Replace the model with a snapshot (the init reply and its pages): friends it lists are shown
   * (unless the model holds a newer position for them), friends it does not list are removed
   * with reason "snapshot", except those a push told about since `beginSnapshot`. With
   * `complete` false (a page could not be fetched), nobody is removed.
   */
  applySnapshot(friends: readonly FriendPosition[], complete = true): ModelDiff[] {
    const touched = this.touched ?? new Set<string>();
    this.touched = null;
    const diffs: ModelDiff[] = [];
    const listed = new Set<string>();
    for (const f of friends) {
      if (this.unfollowed.has(f.userId) || touched.has(f.userId)) continue;
      listed.add(f.userId);
      const diff = this.putUnlessOlder(f);
      if (diff) diffs.push(diff);
    }
    if (complete) {
      for (const userId of [...this.shown.keys()]) {
        if (listed.has(userId) || touched.has(userId)) continue;
        const diff = this.remove(userId, "snapshot");
        if (diff) diffs.push(diff);
      }
    }
    return diffs;
  }

  /** Stop applying anything about a friend (after `unsubscribe`), removing them. */
  unfollow(friendId: string): ModelDiff[] {
    this.unfollowed.add(friendId);
    const diff = this.remove(friendId, "unsubscribed");
    return diff ? [diff] : [];
  }

  /** The friends this client unsubscribed from (the client repeats it after every init). */
  get unfollowedIds(): ReadonlySet<string> {
    return this.unfollowed;
  }

  /** Remove everyone (the client was closed). */
  clear(reason: AwayReason = "closed"): ModelDiff[] {
    this.touched = null;
    const diffs: ModelDiff[] = [];
    for (const userId of [...this.shown.keys()]) {
      const diff = this.remove(userId, reason);
      if (diff) diffs.push(diff);
    }
    return diffs;
  }

  private putUnlessOlder(friend: FriendPosition): ModelDiff | undefined {
    const current = this.shown.get(friend.userId);
    if (current && current.at > friend.at) return undefined;
    if (current && sameAs(current, friend)) return undefined;
    return this.put(friend);
  }

  private put(friend: FriendPosition): ModelDiff {
    const previous = this.shown.get(friend.userId);
    const copy = positionOf(friend);
    this.shown.set(friend.userId, copy);
    const seen = this.greatestAt.get(friend.userId);
    if (seen === undefined || copy.at > seen) this.greatestAt.set(friend.userId, copy.at);
    return { type: "nearby", friend: copy, previous };
  }

  private remove(userId: string, reason: AwayReason): ModelDiff | undefined {
    const friend = this.shown.get(userId);
    if (!friend) return undefined;
    this.shown.delete(userId);
    return { type: "away", friend, reason };
  }
}

function positionOf(f: FriendPosition): FriendPosition {
  return {
    userId: f.userId,
    lat: f.lat,
    lon: f.lon,
    distanceM: f.distanceM,
    at: f.at,
    precision: f.precision,
  };
}

function sameAs(a: FriendPosition, b: FriendPosition): boolean {
  return (
    a.at === b.at &&
    a.lat === b.lat &&
    a.lon === b.lon &&
    a.distanceM === b.distanceM &&
    a.precision === b.precision
  );
}
