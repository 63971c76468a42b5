import { describe, expect, it } from "vitest";
import { FriendsModel } from "../../../client/model.ts";
import { friend } from "./fakes.ts";

const nearby = (userId: string, at: number, distanceM = 100) => ({
  state: "nearby" as const,
  ...friend(userId, at, distanceM),
});
const away = (userId: string) => ({ state: "away" as const, userId });

describe("FriendsModel pushes", () => {
  it("shows a friend on nearby and removes them on away", () => {
    const model = new FriendsModel();

    const added = model.applyPush([nearby("bob", 10)]);
    const removed = model.applyPush([away("bob")]);

    expect(added).toEqual([{ type: "nearby", friend: friend("bob", 10), previous: undefined }]);
    expect(removed).toEqual([{ type: "away", friend: friend("bob", 10), reason: "away" }]);
    expect(model.friends.size).toBe(0);
  });

  it("never lets `at` go backwards and ignores a repeated push", () => {
    const model = new FriendsModel();
    model.applyPush([nearby("bob", 20, 300)]);

    const older = model.applyPush([nearby("bob", 10, 999)]);
    const repeat = model.applyPush([nearby("bob", 20, 300)]);
    const newer = model.applyPush([nearby("bob", 30, 250)]);

    expect(older).toEqual([]);
    expect(repeat).toEqual([]);
    expect(newer).toEqual([
      { type: "nearby", friend: friend("bob", 30, 250), previous: friend("bob", 20, 300) },
    ]);
    expect(model.friends.get("bob")?.at).toBe(30);
  });

  it("does not bring back a friend who went away through a late repeat of an older push", () => {
    const model = new FriendsModel();
    model.applyPush([nearby("bob", 20)]);
    model.applyPush([away("bob")]);

    const late = model.applyPush([nearby("bob", 20)]);
    const back = model.applyPush([nearby("bob", 21)]);

    expect(late).toEqual([]);
    expect(back.map((d) => d.type)).toEqual(["nearby"]);
    expect(model.friends.has("bob")).toBe(true);
  });

  it("ignores a late away older than the position shown, and a nearby older than an away", () => {
    const model = new FriendsModel();
    model.applyPush([nearby("bob", 10)]);
    model.applyPush([{ state: "away", userId: "bob", at: 20 }]);
    model.applyPush([nearby("bob", 30)]);

    // A repeat of the away at 20, delivered after bob came back at 30.
    const lateAway = model.applyPush([{ state: "away", userId: "bob", at: 20 }]);
    expect(lateAway).toEqual([]);
    expect(model.friends.get("bob")?.at).toBe(30);

    // An away at 40, then a nearby from before it (at 35), delivered late.
    model.applyPush([{ state: "away", userId: "bob", at: 40 }]);
    const lateNearby = model.applyPush([nearby("bob", 35)]);
    expect(lateNearby).toEqual([]);
    expect(model.friends.has("bob")).toBe(false);
  });

  it("ignores away about a friend it does not show", () => {
    expect(new FriendsModel().applyPush([away("bob")])).toEqual([]);
  });
});

describe("FriendsModel snapshots", () => {
  it("replaces the model: missing friends leave, new ones arrive, unchanged ones stay quiet", () => {
    const model = new FriendsModel();
    model.applyPush([nearby("bob", 10), nearby("carol", 10)]);

    const diffs = model.applySnapshot([friend("carol", 10), friend("dave", 5)]);

    expect(diffs).toEqual([
      { type: "nearby", friend: friend("dave", 5), previous: undefined },
      { type: "away", friend: friend("bob", 10), reason: "snapshot" },
    ]);
    expect([...model.friends.keys()].sort()).toEqual(["carol", "dave"]);
  });

  it("keeps a newer pushed position over an older snapshot entry, and takes new distances", () => {
    const model = new FriendsModel();
    model.applyPush([nearby("bob", 30, 100)]);

    const older = model.applySnapshot([friend("bob", 20, 500)]);
    const sameAtNewDistance = model.applySnapshot([friend("bob", 30, 120)]);

    expect(older).toEqual([]);
    expect(model.friends.get("bob")?.at).toBe(30);
    expect(sameAtNewDistance).toEqual([
      { type: "nearby", friend: friend("bob", 30, 120), previous: friend("bob", 30, 100) },
    ]);
  });

  it("lets pushes received while pages were fetched win over the pages", () => {
    const model = new FriendsModel();
    model.applyPush([nearby("bob", 10)]);
    model.beginSnapshot();

    model.applyPush([nearby("erin", 50), away("bob")]);
    model.applySnapshot([friend("bob", 10)]);

    expect([...model.friends.keys()]).toEqual(["erin"]);
  });

  it("removes nobody when the snapshot is incomplete", () => {
    const model = new FriendsModel();
    model.applyPush([nearby("bob", 10)]);

    const diffs = model.applySnapshot([friend("carol", 10)], false);

    expect(diffs.map((d) => d.type)).toEqual(["nearby"]);
    expect([...model.friends.keys()].sort()).toEqual(["bob", "carol"]);
  });

  it("applies a subscribed reply, removing the friend when it is null", () => {
    const model = new FriendsModel();

    model.applySubscribed("bob", friend("bob", 10));
    const gone = model.applySubscribed("bob", null);

    expect(gone).toEqual([{ type: "away", friend: friend("bob", 10), reason: "away" }]);
  });

  it("ignores an unfollowed friend until they are subscribed again", () => {
    const model = new FriendsModel();
    model.applyPush([nearby("bob", 10)]);

    const dropped = model.unfollow("bob");
    const ignoredPush = model.applyPush([nearby("bob", 20)]);
    const ignoredSnapshot = model.applySnapshot([friend("bob", 20)]);
    model.applySubscribed("bob", friend("bob", 20));

    expect(dropped).toEqual([{ type: "away", friend: friend("bob", 10), reason: "unsubscribed" }]);
    expect(ignoredPush).toEqual([]);
    expect(ignoredSnapshot).toEqual([]);
    expect(model.friends.get("bob")?.at).toBe(20);
    expect(model.unfollowedIds.size).toBe(0);
  });

  it("clears everyone on close", () => {
    const model = new FriendsModel();
    model.applyPush([nearby("bob", 10), nearby("carol", 11)]);

    const diffs = model.clear();

    expect(diffs.map((d) => d.type === "away" && d.reason)).toEqual(["closed", "closed"]);
    expect(model.friends.size).toBe(0);
  });
});
