import { describe, expect, it } from "vitest";
import { fanOut } from "../../../functions/app/fanout.ts";
import { recordLocation } from "../../../functions/app/location.ts";
import { connect, subscribe } from "../../../functions/app/session.ts";
import { haversineM, type LatLon } from "../../../functions/domain/geo.ts";
import { T0, type World, world } from "../../support/fakes.ts";
import { HOME, north } from "../../support/places.ts";

const move = (w: World, userId: string, p: LatLon) =>
  recordLocation(w.session, { userId, connectionId: `${userId}-1`, ...p });

const nearby = (userId: string, p: LatLon, at: number) => ({
  userId,
  state: "nearby",
  ...p,
  distanceM: Math.round(haversineM(HOME, p)),
  at,
  precision: "precise",
});

describe("fanOut", () => {
  it("sends one push per recipient connection per batch, with the latest position of each mover", async () => {
    // Prepare
    const w = world();
    w.friendships.befriend("alice", "bob");
    w.friendships.befriend("alice", "carol");
    await w.online("bob", "bob-1", north(1000));
    await w.online("carol", "carol-1", north(2000));
    await w.online("alice", "a1", HOME);
    await w.online("alice", "a2", HOME);
    w.publisher.take();
    w.clock.advance(1000);
    await move(w, "bob", north(1100));
    w.clock.advance(1000);
    await move(w, "carol", north(2100));
    w.clock.advance(1000);
    await move(w, "bob", north(1200));
    w.clock.advance(250);

    // Act
    const result = await w.deliver();

    // Assess
    const updates = [
      nearby("carol", north(2100), T0 + 2000),
      nearby("bob", north(1200), T0 + 3000),
    ];
    expect(w.notifier.framesTo("a1")).toEqual([{ type: "friends", updates }]);
    expect(w.notifier.framesTo("a2")).toEqual([{ type: "friends", updates }]);
    expect(w.notifier.posts).toHaveLength(2);
    expect(result).toEqual({ failedSequenceNumbers: [], posts: 2, gone: 0 });
    expect(w.telemetry.counts.get("FanoutRecords")).toBe(3);
    expect(w.telemetry.counts.get("FanoutPushes")).toBe(2);
    expect(w.telemetry.counts.get("FanoutFriendUpdates")).toBe(4);
    expect(w.telemetry.counts.get("FanoutStaleDropped")).toBe(0);
    // One lag value per record pushed (not per push): clock − the record's server time.
    expect(w.telemetry.durations.get("FanoutLagMs")).toEqual([1250, 250]);
  });

  it("delivers each mover's newest position however late its record is processed", async () => {
    // Prepare: bob moved once, 30 s before the batch is processed; carol moved twice, and only her
    // first record is in the batch (the second is still in the stream).
    const w = world();
    for (const friend of ["bob", "carol"]) w.friendships.befriend("alice", friend);
    await w.online("alice", "a1", HOME);
    for (const friend of ["bob", "carol"]) {
      await connect(w.session, friend, `${friend}-1`);
      await move(w, friend, north(9000));
    }
    w.publisher.take();
    w.clock.set(T0 + 1000);
    await move(w, "bob", north(1000));
    w.clock.set(T0 + 31_000);
    await move(w, "carol", north(2000));
    const batch = w.publisher.take();
    w.clock.set(T0 + 31_002);
    await move(w, "carol", north(2100));
    const next = w.publisher.take();

    // Act
    const result = await fanOut(w.fanout, batch);

    // Assess: bob's old record still delivers; carol's first record delivers her newest position.
    expect(w.notifier.updatesTo("a1")).toEqual([
      nearby("bob", north(1000), T0 + 1000),
      nearby("carol", north(2100), T0 + 31_002),
    ]);
    expect(result.posts).toBe(1);
    expect(w.telemetry.counts.get("FanoutStaleDropped") ?? 0).toBe(0);
    expect(w.telemetry.durations.get("FanoutLagMs")).toEqual([30_002, 0]);

    // Act 2: carol's second record arrives: her position went out already.
    const again = await fanOut(w.fanout, next);

    // Assess 2
    expect(again.posts).toBe(0);
    expect(w.notifier.posts).toHaveLength(1);
    expect(w.telemetry.counts.get("FanoutStaleDropped")).toBe(1);
  });

  it("pushes nothing twice: a re-delivered batch finds its positions fanned out already", async () => {
    // Prepare
    const w = world();
    w.friendships.befriend("alice", "bob");
    await w.online("alice", "a1", HOME);
    await w.online("bob", "bob-1", north(1000));
    const batch = w.publisher.take();
    await fanOut(w.fanout, batch);
    const postsBefore = w.notifier.posts.length;

    // Act: the same records again, as an at-least-once stream may deliver them.
    const result = await fanOut(w.fanout, batch);

    // Assess
    expect(result).toEqual({ failedSequenceNumbers: [], posts: 0, gone: 0 });
    expect(w.notifier.posts).toHaveLength(postsBefore);
    expect(w.telemetry.counts.get("FanoutStaleDropped")).toBe(2);
  });

  it("keeps pushes within the shared budget: the rest wait for the next second", async () => {
    // Prepare: 5 viewers follow alice; the budget is 2 pushes a second.
    const w = world({ tunables: { pushBudgetPerS: 2 } });
    const viewers = ["v1", "v2", "v3", "v4", "v5"];
    for (const v of viewers) w.friendships.befriend("alice", v);
    for (const v of viewers) await w.online(v, `${v}-1`, north(500));
    await w.online("alice", "a1", HOME);
    w.publisher.take();
    w.clock.advance(1000);
    await move(w, "alice", north(100));
    const started = w.clock.now();

    // Act
    const result = await w.deliver();

    // Assess: all 5 delivered, in 3 seconds of budget (2 + 2 + 1), never more than 2 in a second.
    expect(result.posts).toBe(5);
    expect(w.notifier.posts).toHaveLength(5);
    expect(w.budget.takes.map((t) => t.granted).filter((g) => g > 0)).toEqual([2, 2, 1]);
    expect(w.clock.now() - started).toBeGreaterThanOrEqual(2000);
  });

  it("forgets a gone connection and publishes offline when it was its user's last", async () => {
    // Prepare
    const w = world();
    w.friendships.befriend("alice", "bob");
    w.friendships.befriend("alice", "carol");
    await w.online("alice", "a1", HOME);
    await w.online("bob", "bob-1", north(1000));
    await w.online("carol", "carol-1", north(2000));
    w.publisher.take();
    w.notifier.respond("a1", "gone");
    w.clock.advance(1000);
    await move(w, "bob", north(1100));

    // Act
    const result = await w.deliver();

    // Assess
    expect(result).toEqual({ failedSequenceNumbers: [], posts: 1, gone: 1 });
    expect(w.telemetry.counts.get("GoneConnections")).toBe(1);
    expect(w.connections.of("alice")).toEqual([]);
    expect(w.audience.followedBy("a1")).toEqual([]);
    expect(w.audience.subscribersOf("bob").map((s) => s.connectionId)).toEqual([]);
    expect(w.audience.subscribersOf("carol").map((s) => s.connectionId)).toEqual([]);
    expect(w.positions.stored("alice")).toBeUndefined();
    expect(w.publisher.take().map((r) => r.event)).toEqual([
      { v: 1, kind: "offline", userId: "alice", at: T0 + 1000 },
    ]);
  });

  it("tells friends who showed the user nearby that a gone last connection went offline", async () => {
    // Prepare
    const w = world();
    w.friendships.befriend("alice", "bob");
    await w.online("alice", "a1", HOME);
    await w.online("bob", "bob-1", north(1000));
    w.publisher.take();
    w.notifier.respond("a1", "gone");
    w.clock.advance(1000);
    await move(w, "bob", north(1100));
    await w.deliver();
    w.notifier.clear();

    // Act
    await w.deliver();

    // Assess
    expect(w.notifier.updatesTo("bob-1")).toEqual([
      { userId: "alice", state: "away", at: expect.any(Number) },
    ]);
    expect(w.audience.nearbyFlag("alice", { connectionId: "bob-1", userId: "bob" })).toBe(false);
  });

  it("does not publish offline when the gone connection was not the user's last", async () => {
    // Prepare
    const w = world();
    w.friendships.befriend("alice", "bob");
    await w.online("alice", "a1", HOME);
    await w.online("alice", "a2", HOME);
    await w.online("bob", "bob-1", north(1000));
    w.publisher.take();
    w.notifier.respond("a1", "gone");
    w.clock.advance(1000);
    await move(w, "bob", north(1100));

    // Act
    const result = await w.deliver();

    // Assess
    expect(result.gone).toBe(1);
    expect(w.connections.of("alice")).toEqual(["a2"]);
    expect(w.positions.stored("alice")).toBeDefined();
    expect(w.publisher.events.filter((e) => e.kind === "offline")).toEqual([]);
    expect(w.audience.nearbyFlag("bob", { connectionId: "a2", userId: "alice" })).toBe(true);
  });

  it("fails only the records a failed post carried, and sets no flag for it", async () => {
    // Prepare
    const w = world();
    w.friendships.befriend("alice", "bob");
    w.friendships.befriend("dave", "carol");
    await w.online("alice", "a1", HOME);
    await w.online("dave", "d1", HOME);
    await w.online("bob", "bob-1", north(1000));
    await w.online("carol", "carol-1", north(2000));
    const batch = w.publisher.take();
    const bobSeq = batch.find((r) => r.event.userId === "bob")?.sequenceNumber;
    w.notifier.respond("a1", "failed");

    // Act
    const result = await fanOut(w.fanout, batch);

    // Assess
    expect(bobSeq).toBeDefined();
    expect(result.failedSequenceNumbers).toEqual([bobSeq]);
    expect(result.gone).toBe(0);
    expect(w.audience.nearbyFlag("bob", { connectionId: "a1", userId: "alice" })).toBe(false);
    expect(w.audience.nearbyFlag("carol", { connectionId: "d1", userId: "dave" })).toBe(true);
    expect(w.connections.of("alice")).toEqual(["a1"]);
  });

  it("sends one away when a nearby friend leaves the radius plus the margin, and clears the flag", async () => {
    // Prepare
    const w = world();
    const { radiusM, leaveMarginM } = w.tunables;
    const gone = north(radiusM + leaveMarginM + 100);
    w.friendships.befriend("alice", "bob");
    await w.online("bob", "bob-1", north(1000));
    await w.online("alice", "a1", HOME);
    w.publisher.take();
    w.clock.advance(1000);
    await move(w, "bob", gone);

    // Act
    await w.deliver();
    w.clock.advance(1000);
    await move(w, "bob", north(radiusM + leaveMarginM + 1000));
    await w.deliver();

    // Assess
    expect(haversineM(HOME, gone)).toBeGreaterThan(radiusM + leaveMarginM);
    expect(w.notifier.posts).toEqual([
      {
        connectionId: "a1",
        frame: {
          type: "friends",
          updates: [{ userId: "bob", state: "away", at: expect.any(Number) }],
        },
      },
    ]);
    expect(w.audience.nearbyFlag("bob", { connectionId: "a1", userId: "alice" })).toBe(false);
  });

  it("pushes nothing to a follower whose user has no stored position", async () => {
    // Prepare
    const w = world();
    w.friendships.befriend("alice", "bob");
    await connect(w.session, "alice", "a1");
    await subscribe(w.session, "alice", "a1", "bob");
    await w.online("bob", "bob-1", north(1000));

    // Act
    const result = await w.deliver();

    // Assess
    expect(result.posts).toBe(0);
    expect(w.notifier.posts).toEqual([]);
  });

  it("shows an approximate position at its cell centre", async () => {
    // Prepare
    const w = world();
    w.friendships.befriend("alice", "bob");
    await w.users.putSettings("bob", {
      sharing: "on",
      ghostUntil: null,
      friends: { alice: "approximate" },
      discoverable: false,
    });
    await w.online("alice", "a1", HOME);
    w.publisher.take();
    await connect(w.session, "bob", "bob-1");
    await move(w, "bob", north(1000));

    // Act
    await w.deliver();

    // Assess
    const [update] = w.notifier.updatesTo("a1");
    expect(update).toMatchObject({ userId: "bob", state: "nearby", precision: "approximate" });
    expect(update).not.toMatchObject(north(1000));
    expect(w.settingsCache.entries.get("bob")?.friends).toEqual({ alice: "approximate" });
  });
});
