import { describe, expect, it } from "vitest";
import {
  acceptRequest,
  getProfile,
  listFriends,
  listRequests,
  removeRequest,
  requestFriend,
  unfriend,
  updateProfile,
} from "../../../functions/app/friends.ts";
import { T0, world } from "../../support/fakes.ts";
import { HOME, north } from "../../support/places.ts";

/** A world where alice, bob and carol have profiles. */
async function people() {
  const w = world();
  for (const userId of ["alice", "bob", "carol"]) {
    await w.users.put({ userId, displayName: userId.toUpperCase() });
  }
  return w;
}

describe("friend requests", () => {
  it("records a request in both directions", async () => {
    // Prepare
    const w = await people();

    // Act
    const out = await requestFriend(w.friends, "alice", "bob");

    // Assess
    expect(out).toEqual({ status: "pending", created: true });
    expect(await w.friendships.get("alice", "bob")).toEqual({
      userId: "alice",
      friendId: "bob",
      status: "outgoing",
      since: T0,
    });
    expect(await w.friendships.get("bob", "alice")).toMatchObject({ status: "incoming" });
    expect(await listRequests(w.friends, "bob")).toEqual({
      incoming: [{ userId: "alice", at: T0 }],
      outgoing: [],
    });
  });

  it("answers pending again to a repeated request, keeping its time", async () => {
    // Prepare
    const w = await people();
    await requestFriend(w.friends, "alice", "bob");
    w.clock.advance(1000);

    // Act
    const out = await requestFriend(w.friends, "alice", "bob");

    // Assess
    expect(out).toEqual({ status: "pending", created: true });
    expect(await listRequests(w.friends, "alice")).toEqual({
      incoming: [],
      outgoing: [{ userId: "bob", at: T0 }],
    });
  });

  it("makes two users friends when the other had already asked", async () => {
    // Prepare
    const w = await people();
    await requestFriend(w.friends, "alice", "bob");
    w.clock.advance(1000);

    // Act
    const out = await requestFriend(w.friends, "bob", "alice");

    // Assess
    expect(out).toEqual({ status: "friends", created: false });
    expect(await w.friendships.friendIds("alice")).toEqual(["bob"]);
    expect(await w.friendships.friendIds("bob")).toEqual(["alice"]);
    expect(await w.friendships.get("alice", "bob")).toMatchObject({ since: T0 + 1000 });
  });

  it("refuses oneself, an unknown user, and someone already a friend", async () => {
    // Prepare
    const w = await people();
    w.friendships.befriend("alice", "carol");

    // Act
    const self = requestFriend(w.friends, "alice", "alice");
    const unknown = requestFriend(w.friends, "alice", "zed");
    const already = requestFriend(w.friends, "alice", "carol");

    // Assess
    await expect(self).rejects.toMatchObject({ code: "invalid_request" });
    await expect(unknown).rejects.toMatchObject({ code: "not_found" });
    await expect(already).rejects.toMatchObject({ code: "conflict" });
    expect(await w.friendships.list("alice")).toHaveLength(1);
  });

  it("accepts an incoming request, and again when already friends", async () => {
    // Prepare
    const w = await people();
    await requestFriend(w.friends, "alice", "bob");
    w.clock.advance(1000);

    // Act
    const accepted = await acceptRequest(w.friends, "bob", "alice");
    const again = await acceptRequest(w.friends, "bob", "alice");

    // Assess
    expect(accepted).toEqual({ status: "friends" });
    expect(again).toEqual({ status: "friends" });
    expect(await listFriends(w.friends, "alice")).toEqual({
      friends: [{ userId: "bob", displayName: "BOB", since: T0 + 1000 }],
    });
    expect(await listFriends(w.friends, "bob")).toEqual({
      friends: [{ userId: "alice", displayName: "ALICE", since: T0 + 1000 }],
    });
  });

  it("does not accept one's own outgoing request, or none at all", async () => {
    // Prepare
    const w = await people();
    await requestFriend(w.friends, "alice", "bob");

    // Act
    const own = acceptRequest(w.friends, "alice", "bob");
    const none = acceptRequest(w.friends, "alice", "carol");

    // Assess
    await expect(own).rejects.toMatchObject({ code: "not_found" });
    await expect(none).rejects.toMatchObject({ code: "not_found" });
    expect(await w.friendships.friendIds("alice")).toEqual([]);
  });

  it("declines an incoming and cancels an outgoing request, idempotently", async () => {
    // Prepare
    const w = await people();
    await requestFriend(w.friends, "alice", "bob");
    await requestFriend(w.friends, "carol", "alice");

    // Act
    await removeRequest(w.friends, "bob", "alice");
    await removeRequest(w.friends, "alice", "carol");
    await removeRequest(w.friends, "alice", "carol");

    // Assess
    expect(await w.friendships.list("alice")).toEqual([]);
    expect(await w.friendships.list("bob")).toEqual([]);
    expect(await w.friendships.list("carol")).toEqual([]);
  });

  it("never ends a friendship when removing a request", async () => {
    // Prepare
    const w = await people();
    w.friendships.befriend("alice", "bob");

    // Act
    await removeRequest(w.friends, "alice", "bob");

    // Assess
    expect(await w.friendships.friendIds("alice")).toEqual(["bob"]);
  });

  it("lists friends in user id order, with a null name for a friend without a profile", async () => {
    // Prepare
    const w = await people();
    w.friendships.befriend("alice", "carol");
    w.friendships.befriend("alice", "bob");
    w.friendships.befriend("alice", "nameless");

    // Act
    const out = await listFriends(w.friends, "alice");

    // Assess
    expect(out.friends.map((f) => [f.userId, f.displayName])).toEqual([
      ["bob", "BOB"],
      ["carol", "CAROL"],
      ["nameless", null],
    ]);
  });
});

describe("profiles", () => {
  it("answers a null name for a user without a profile, and stores an update", async () => {
    // Prepare
    const w = world();

    // Act
    const before = await getProfile(w.friends, "alice");
    await updateProfile(w.friends, "alice", "Alice");
    const after = await getProfile(w.friends, "alice");

    // Assess
    expect(before).toEqual({ userId: "alice", displayName: null });
    expect(after).toEqual({ userId: "alice", displayName: "Alice" });
  });
});

describe("unfriend", () => {
  it("ends the friendship and sends away, both sides, to the connections that showed the other nearby", async () => {
    // Prepare
    const w = await people();
    w.friendships.befriend("alice", "bob");
    w.friendships.befriend("alice", "carol");
    await w.online("alice", "a2", HOME); // bob offline: a2 follows him, not shown nearby
    await w.online("bob", "b1", north(1000));
    await w.online("alice", "a1", HOME);

    // Act
    await unfriend(w.unfriend, "alice", "bob");

    // Assess
    expect(await w.friendships.get("alice", "bob")).toBeNull();
    expect(await w.friendships.get("bob", "alice")).toBeNull();
    expect(w.notifier.posts).toEqual(
      expect.arrayContaining([
        {
          connectionId: "a1",
          frame: {
            type: "friends",
            updates: [{ userId: "bob", state: "away", at: expect.any(Number) }],
          },
        },
        {
          connectionId: "b1",
          frame: {
            type: "friends",
            updates: [{ userId: "alice", state: "away", at: expect.any(Number) }],
          },
        },
      ]),
    );
    expect(w.notifier.posts).toHaveLength(2);
    expect(w.audience.subscribersOf("bob")).toEqual([]);
    expect(w.audience.subscribersOf("alice").map((s) => s.connectionId)).toEqual([]);
    expect(w.audience.followedBy("a1")).toEqual(["carol"]);
    expect(w.audience.followedBy("a2")).toEqual(["carol"]);
    expect(w.audience.followedBy("b1")).toEqual([]);
  });

  it("refuses to unfriend someone who is not a friend", async () => {
    // Prepare
    const w = await people();
    await requestFriend(w.friends, "alice", "bob");

    // Act
    const outcome = unfriend(w.unfriend, "alice", "bob");

    // Assess
    await expect(outcome).rejects.toMatchObject({ code: "not_found" });
    expect(await w.friendships.get("alice", "bob")).toMatchObject({ status: "outgoing" });
    expect(w.notifier.posts).toEqual([]);
  });
});
