import { describe, expect, it } from "vitest";
import { recordLocation } from "../../../functions/app/location.ts";
import {
  connect,
  disconnect,
  init,
  nextPage,
  subscribe,
  unsubscribe,
} from "../../../functions/app/session.ts";
import { encodeCursor } from "../../../functions/app/snapshot.ts";
import { RateLimitedError } from "../../../functions/domain/errors.ts";
import {
  APPROXIMATE_PRECISION,
  haversineM,
  snapToCellCentre,
} from "../../../functions/domain/geo.ts";
import { MAX_CONNECTIONS_PER_USER } from "../../../functions/domain/limits.ts";
import type { Settings } from "../../../functions/domain/settings.ts";
import { T0, type World, world } from "../../support/fakes.ts";
import { HOME, north } from "../../support/places.ts";

const settings = (s: Partial<Settings>): Settings => ({
  sharing: "on",
  ghostUntil: null,
  friends: {},
  discoverable: false,
  ...s,
});

/** Friends of alice, each online at the given point (a `location` frame: no init needed). */
async function friendsAt(w: World, places: Record<string, { lat: number; lon: number }>) {
  for (const [userId, p] of Object.entries(places)) {
    w.friendships.befriend("alice", userId);
    await connect(w.session, userId, `${userId}-1`);
    await recordLocation(w.session, { userId, connectionId: `${userId}-1`, ...p });
  }
}

describe("init", () => {
  it("reads the friend list before writing anything", async () => {
    // Prepare
    const w = world();
    await friendsAt(w, { bob: north(1000) });
    w.friendships.faults.fail("friendIds", new Error("ServiceUnavailable"));
    await connect(w.session, "alice", "a1");

    // Act
    const outcome = init(w.session, { userId: "alice", connectionId: "a1", ...HOME });

    // Assess
    await expect(outcome).rejects.toThrow("ServiceUnavailable");
    expect(w.positions.stored("alice")).toBeUndefined();
    expect(w.publisher.events.filter((e) => e.userId === "alice")).toEqual([]);
    expect(w.audience.followedBy("a1")).toEqual([]);
    expect(w.telemetry.counts.get("LocationsReceived")).toBe(1); // bob's, not alice's
  });

  it("answers friends within the radius, nearest first, under their sharing settings", async () => {
    // Prepare
    const w = world();
    const beyond = north(w.tunables.radiusM + 1);
    await friendsAt(w, {
      bob: north(1000),
      carol: north(-3000),
      dave: beyond,
      erin: north(500),
      frank: north(700),
      gina: north(2000),
    });
    await w.users.putSettings("carol", settings({ friends: { alice: "approximate" } }));
    await w.users.putSettings("erin", settings({ friends: { alice: "hidden" } }));
    await w.users.putSettings("frank", settings({ sharing: "off" }));
    await w.users.putSettings("gina", settings({ sharing: "off", ghostUntil: T0 - 1 }));
    await connect(w.session, "alice", "a1");
    w.clock.advance(100);

    // Act
    const reply = await init(w.session, {
      userId: "alice",
      connectionId: "a1",
      ...HOME,
      accuracyM: 5,
    });

    // Assess
    expect(haversineM(HOME, beyond)).toBeGreaterThan(w.tunables.radiusM);
    const carolShown = snapToCellCentre(north(-3000), APPROXIMATE_PRECISION);
    expect(reply).toEqual({
      serverTime: T0 + 100,
      radiusM: w.tunables.radiusM,
      // No friend's connection follows alice: nobody watches her.
      reportEveryS: w.tunables.reportSlowS,
      self: { ...HOME, at: T0 + 100 },
      friends: [
        { userId: "bob", ...north(1000), distanceM: 1000, at: T0, precision: "precise" },
        { userId: "gina", ...north(2000), distanceM: 2000, at: T0, precision: "precise" },
        {
          userId: "carol",
          ...carolShown,
          distanceM: Math.round(haversineM(HOME, carolShown)),
          at: T0,
          precision: "approximate",
        },
      ],
      cursor: null,
    });
    // The connection follows every friend; exactly those in the snapshot are nearby on it.
    const a1 = { connectionId: "a1", userId: "alice" };
    expect(w.audience.followedBy("a1").sort()).toEqual(
      ["bob", "carol", "dave", "erin", "frank", "gina"].sort(),
    );
    expect(w.audience.nearbyFlag("bob", a1)).toBe(true);
    expect(w.audience.nearbyFlag("carol", a1)).toBe(true);
    expect(w.audience.nearbyFlag("dave", a1)).toBe(false);
    expect(w.audience.nearbyFlag("erin", a1)).toBe(false);
  });

  it("caches the settings it read from the table", async () => {
    // Prepare
    const w = world();
    await friendsAt(w, { bob: north(1000) });
    await w.users.putSettings("bob", settings({ friends: { alice: "approximate" } }));

    // Act
    await w.online("alice", "a1", HOME);
    await nextPage(w.session, "alice", encodeCursor(0), 20);

    // Assess
    // bob's for the snapshot (once: cached), alice's own for her reporting cadence.
    expect(w.users.settingsReads).toEqual([["bob"], ["alice"]]);
    expect(w.settingsCache.entries.get("bob")?.friends).toEqual({ alice: "approximate" });
  });

  it("resets what the connection shows: a friend no longer in the snapshot is not nearby", async () => {
    // Prepare
    const w = world();
    await friendsAt(w, { bob: north(1000) });
    await w.online("alice", "a1", HOME);
    await recordLocation(w.session, { userId: "bob", ...north(9000) });

    // Act
    w.clock.advance(1000);
    const reply = await init(w.session, { userId: "alice", connectionId: "a1", ...HOME });

    // Assess
    expect(reply.friends).toEqual([]);
    expect(w.audience.nearbyFlag("bob", { connectionId: "a1", userId: "alice" })).toBe(false);
  });
});

describe("init arriving out of order", () => {
  it("answers with the stored position and measures the snapshot from it, not the late frame's", async () => {
    // Prepare: alice's newer frame (ts 2000) put her at HOME; bob is 7 km north of HOME.
    const w = world();
    w.friendships.befriend("alice", "bob");
    await friendsAt(w, { bob: north(7000) });
    await connect(w.session, "alice", "a1");
    await recordLocation(w.session, {
      userId: "alice",
      connectionId: "a1",
      ...HOME,
      ts: T0 + 2000,
    });
    const late = north(-5000);

    // Act: an init sent before it (ts 1000), 5 km south, arrives late.
    const reply = await init(w.session, {
      userId: "alice",
      connectionId: "a1",
      ...late,
      ts: T0 + 1000,
    });

    // Assess: the stored position stands; bob, 12 km from the late point, is within 8 km of it.
    expect(reply.self).toMatchObject({ lat: HOME.lat, lon: HOME.lon });
    expect(reply.friends.map((f) => f.userId)).toEqual(["bob"]);
    expect(w.positions.stored("alice")).toMatchObject({ lat: HOME.lat, lon: HOME.lon });
  });
});

describe("nextPage", () => {
  it("pages the snapshot with a cursor", async () => {
    // Prepare
    const w = world();
    await friendsAt(w, { bob: north(1000), carol: north(2000), dave: north(3000) });
    await connect(w.session, "alice", "a1");
    const first = await init(w.session, {
      userId: "alice",
      connectionId: "a1",
      ...HOME,
      limit: 2,
    });

    // Act
    const second = await nextPage(w.session, "alice", first.cursor ?? "", 2);

    // Assess
    expect(first.friends.map((f) => f.userId)).toEqual(["bob", "carol"]);
    expect(first.cursor).not.toBeNull();
    expect(second.friends.map((f) => f.userId)).toEqual(["dave"]);
    expect(second.cursor).toBeNull();
  });

  it("refuses a cursor the server did not issue", async () => {
    // Prepare
    const w = world();
    await w.online("alice", "a1", HOME);

    // Act
    const outcome = nextPage(w.session, "alice", "not-a-cursor", 2);

    // Assess
    await expect(outcome).rejects.toMatchObject({ code: "invalid_request" });
  });

  it("answers an empty page to a user without a stored position", async () => {
    // Prepare
    const w = world();
    await friendsAt(w, { bob: north(1000) });

    // Act
    const page = await nextPage(w.session, "alice", encodeCursor(0), 2);

    // Assess
    expect(page).toEqual({ friends: [], cursor: null });
  });
});

describe("subscribe and unsubscribe", () => {
  it("refuses a user who is not a friend, oneself included, and subscribes nothing", async () => {
    // Prepare
    const w = world();
    await w.online("alice", "a1", HOME);
    await w.friendships.putPair(
      { userId: "alice", friendId: "mallory", status: "outgoing", since: T0 },
      { userId: "mallory", friendId: "alice", status: "incoming", since: T0 },
    );

    // Act
    const stranger = subscribe(w.session, "alice", "a1", "mallory");
    const self = subscribe(w.session, "alice", "a1", "alice");

    // Assess
    await expect(stranger).rejects.toMatchObject({ name: "NotFriendsError", code: "not_friends" });
    await expect(self).rejects.toMatchObject({ code: "not_friends" });
    expect(w.audience.subscribersOf("mallory")).toEqual([]);
    expect(w.audience.subscribersOf("alice")).toEqual([]);
  });

  it("follows a new friend and answers their position when within the radius", async () => {
    // Prepare
    const w = world();
    await w.online("alice", "a1", HOME);
    await friendsAt(w, { bob: north(1000), carol: north(9000) });

    // Act
    const bob = await subscribe(w.session, "alice", "a1", "bob");
    const carol = await subscribe(w.session, "alice", "a1", "carol");

    // Assess
    expect(bob).toEqual({
      userId: "bob",
      ...north(1000),
      distanceM: 1000,
      at: T0,
      precision: "precise",
    });
    expect(carol).toBeNull();
    expect(w.audience.subscribersOf("bob")).toEqual([
      { connectionId: "a1", userId: "alice", nearby: true },
    ]);
    expect(w.audience.subscribersOf("carol")).toEqual([
      { connectionId: "a1", userId: "alice", nearby: false },
    ]);
  });

  it("answers null, not nearby, to a user without a stored position", async () => {
    // Prepare
    const w = world();
    await friendsAt(w, { bob: north(1000) });

    // Act
    const bob = await subscribe(w.session, "alice", "a1", "bob");

    // Assess
    expect(bob).toBeNull();
    expect(w.audience.subscribersOf("bob")).toEqual([
      { connectionId: "a1", userId: "alice", nearby: false },
    ]);
  });

  it("unsubscribes, also from someone not followed", async () => {
    // Prepare
    const w = world();
    await friendsAt(w, { bob: north(1000) });
    await w.online("alice", "a1", HOME);

    // Act
    await unsubscribe(w.session, "alice", "a1", "bob");
    await unsubscribe(w.session, "alice", "a1", "nobody");

    // Assess
    expect(w.audience.subscribersOf("bob")).toEqual([]);
    expect(w.audience.followedBy("a1")).toEqual([]);
  });
});

describe("connect", () => {
  it("refuses a connection beyond the user's cap as rate_limited, registering nothing", async () => {
    // Prepare
    const w = world();
    for (let i = 1; i <= MAX_CONNECTIONS_PER_USER; i++) await connect(w.session, "alice", `a${i}`);
    // Act
    const refused = connect(w.session, "alice", "a-extra");
    // Assess
    await expect(refused).rejects.toBeInstanceOf(RateLimitedError);
    await expect(refused).rejects.toMatchObject({ code: "rate_limited" });
    expect(w.connections.of("alice")).toHaveLength(MAX_CONNECTIONS_PER_USER);
    expect(w.connections.of("alice")).not.toContain("a-extra");
    await connect(w.session, "bob", "b1");
    expect(w.connections.of("bob")).toEqual(["b1"]);
  });
});

describe("disconnect", () => {
  it("publishes offline and deletes the position when the user's last connection closes", async () => {
    // Prepare
    const w = world();
    await friendsAt(w, { bob: north(1000) });
    await w.online("alice", "a1", HOME);
    w.clock.advance(5000);

    // Act
    await disconnect(w.session, "alice", "a1");

    // Assess
    expect(w.publisher.events.at(-1)).toEqual({
      v: 1,
      kind: "offline",
      userId: "alice",
      at: T0 + 5000,
    });
    expect(w.positions.stored("alice")).toBeUndefined();
    expect(w.audience.subscribersOf("bob")).toEqual([]);
  });

  it("keeps the user offline when a location or init of the closed connection comes after it", async () => {
    // Prepare: API Gateway ran the connection's $disconnect before its last frames.
    const w = world();
    await friendsAt(w, { bob: north(1000) });
    await w.online("alice", "a1", HOME);
    await disconnect(w.session, "alice", "a1");
    const published = w.publisher.events.length;

    // Act
    const late = await recordLocation(w.session, {
      userId: "alice",
      connectionId: "a1",
      ...north(200),
    });
    const lateInit = init(w.session, { userId: "alice", connectionId: "a1", ...north(200) });

    // Assess
    expect(late.published).toBe(false);
    await expect(lateInit).rejects.toMatchObject({ code: "invalid_request" });
    expect(w.positions.stored("alice")).toBeUndefined();
    expect(w.publisher.events).toHaveLength(published);
    expect(w.connections.of("alice")).toEqual([]);
  });

  it("changes nothing for friends when another connection of the user stays open", async () => {
    // Prepare
    const w = world();
    await friendsAt(w, { bob: north(1000) });
    await w.online("alice", "a1", HOME);
    await w.online("alice", "a2", HOME);
    const published = w.publisher.events.length;

    // Act
    await disconnect(w.session, "alice", "a1");

    // Assess
    expect(w.publisher.events).toHaveLength(published);
    expect(w.positions.stored("alice")).toBeDefined();
    expect(w.audience.subscribersOf("bob")).toEqual([
      { connectionId: "a2", userId: "alice", nearby: true },
    ]);
  });
});
