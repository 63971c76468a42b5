import { describe, expect, it } from "vitest";
import { block, listBlocks, unblock } from "../../../functions/app/blocks.ts";
import { acceptRequest, listRequests, requestFriend } from "../../../functions/app/friends.ts";
import { MAX_BLOCKS_PER_USER } from "../../../functions/domain/limits.ts";
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

describe("block", () => {
  it("records the block, listed for the blocker only, idempotently with its first time", async () => {
    // Prepare
    const w = await people();

    // Act
    await block(w.blocking, "alice", "bob");
    w.clock.advance(1000);
    await block(w.blocking, "alice", "bob");

    // Assess
    expect(await listBlocks(w.blocking, "alice")).toEqual({
      blocks: [{ userId: "bob", displayName: "BOB", since: T0 }],
    });
    expect(await listBlocks(w.blocking, "bob")).toEqual({ blocks: [] });
    expect(await w.blocks.between("bob", "alice")).toBe(true);
  });

  it("refuses oneself (400) and an unknown user (404), storing nothing", async () => {
    // Prepare
    const w = await people();

    // Act
    const self = block(w.blocking, "alice", "alice");
    const unknown = block(w.blocking, "alice", "zed");

    // Assess
    await expect(self).rejects.toMatchObject({ code: "invalid_request" });
    await expect(unknown).rejects.toMatchObject({ code: "not_found" });
    expect(w.blocks.size()).toBe(0);
  });

  it("ends a friendship at once: both stop following each other and get away", async () => {
    // Prepare
    const w = await people();
    w.friendships.befriend("alice", "bob");
    await w.online("bob", "b1", north(1000));
    await w.online("alice", "a1", HOME);
    await w.deliver(); // b1 is told alice is nearby
    w.notifier.clear();

    // Act
    await block(w.blocking, "alice", "bob");

    // Assess
    expect(await w.friendships.get("alice", "bob")).toBeNull();
    expect(await w.friendships.get("bob", "alice")).toBeNull();
    expect(w.notifier.updatesTo("b1")).toEqual([
      { userId: "alice", state: "away", at: expect.any(Number) },
    ]);
    expect(w.notifier.updatesTo("a1")).toEqual([
      { userId: "bob", state: "away", at: expect.any(Number) },
    ]);
    expect(w.audience.followedBy("b1")).toEqual([]);
    expect(w.audience.followedBy("a1")).toEqual([]);
  });

  it("deletes a pending request either way", async () => {
    // Prepare
    const w = await people();
    await requestFriend(w.friends, "bob", "alice");
    await requestFriend(w.friends, "carol", "alice");

    // Act
    await block(w.blocking, "alice", "bob");
    await block(w.blocking, "carol", "alice");

    // Assess
    expect(await listRequests(w.friends, "alice")).toEqual({ incoming: [], outgoing: [] });
    expect(w.notifier.posts).toEqual([]);
  });

  it(`refuses a block beyond ${MAX_BLOCKS_PER_USER} with conflict, but not a repeat`, async () => {
    // Prepare
    const w = await people();
    await block(w.blocking, "alice", "bob");
    for (let i = 1; i < MAX_BLOCKS_PER_USER; i++) await w.blocks.block("alice", `u${i}`, T0);

    // Act
    const over = block(w.blocking, "alice", "carol");
    const repeat = block(w.blocking, "alice", "bob");

    // Assess
    await expect(over).rejects.toMatchObject({ code: "conflict" });
    await expect(repeat).resolves.toBeUndefined();
    expect(await w.blocks.between("alice", "carol")).toBe(false);
  });
});

describe("friend requests and blocks", () => {
  it("answers a request either way as for a missing user, with the same message", async () => {
    // Prepare
    const w = await people();
    await block(w.blocking, "alice", "bob");

    // Act
    const fromBlocked = requestFriend(w.friends, "bob", "alice");
    const fromBlocker = requestFriend(w.friends, "alice", "bob");
    const missing = requestFriend(w.friends, "bob", "zed");

    // Assess
    await expect(fromBlocked).rejects.toMatchObject({
      code: "not_found",
      message: "user alice does not exist",
    });
    await expect(fromBlocker).rejects.toMatchObject({
      code: "not_found",
      message: "user bob does not exist",
    });
    await expect(missing).rejects.toMatchObject({
      code: "not_found",
      message: "user zed does not exist",
    });
    expect(await w.friendships.get("alice", "bob")).toBeNull();
  });

  it("does not accept a request that raced a block", async () => {
    // Prepare: the request was written after the block deleted the pending ones.
    const w = await people();
    await w.blocks.block("alice", "bob", T0);
    await w.friendships.putPair(
      { userId: "bob", friendId: "alice", status: "outgoing", since: T0 },
      { userId: "alice", friendId: "bob", status: "incoming", since: T0 },
    );

    // Act
    const accepted = acceptRequest(w.friends, "alice", "bob");

    // Assess
    await expect(accepted).rejects.toMatchObject({ code: "not_found" });
  });

  it("lets them ask again after unblocking; a block the other way stays", async () => {
    // Prepare
    const w = await people();
    await block(w.blocking, "alice", "bob");
    await block(w.blocking, "bob", "alice");

    // Act
    await unblock(w.blocking, "alice", "bob");
    const stillBlocked = requestFriend(w.friends, "alice", "bob");
    await unblock(w.blocking, "bob", "alice");
    await unblock(w.blocking, "bob", "alice");

    // Assess
    await expect(stillBlocked).rejects.toMatchObject({ code: "not_found" });
    expect(await requestFriend(w.friends, "alice", "bob")).toEqual({
      status: "pending",
      created: true,
    });
    expect(w.blocks.size()).toBe(0);
  });
});
