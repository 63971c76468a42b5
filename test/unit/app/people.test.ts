import { describe, expect, it } from "vitest";
import { block } from "../../../functions/app/blocks.ts";
import { recordLocation } from "../../../functions/app/location.ts";
import { nearbyPeople } from "../../../functions/app/people.ts";
import { haversineM, type LatLon, snapToCellCentre } from "../../../functions/domain/geo.ts";
import { indexEntryLifetimeMs } from "../../../functions/domain/people.ts";
import type { Settings } from "../../../functions/domain/settings.ts";
import { T0, type World, world } from "../../support/fakes.ts";
import { HOME, north } from "../../support/places.ts";

const DISCOVERABLE: Partial<Settings> = { discoverable: true };

/** A user with a profile and settings, online at `at` (a `location` frame). */
async function stranger(w: World, userId: string, at: LatLon, settings = DISCOVERABLE) {
  await w.users.put({ userId, displayName: userId.toUpperCase() });
  await w.users.putSettings(userId, { ...(await w.users.getSettings(userId)), ...settings });
  await recordLocation(w.session, { userId, ...at });
}

describe("nearbyPeople", () => {
  it("lists discoverable strangers at their cell centres, nearest first, distance from the centre", async () => {
    // Prepare
    const w = world();
    await stranger(w, "alice", HOME, {});
    await stranger(w, "far", north(3000));
    await stranger(w, "near", north(1200));

    // Act
    const people = await nearbyPeople(w.people, "alice");

    // Assess
    const shown = (p: LatLon) => snapToCellCentre(p, 6);
    expect(people).toEqual([
      {
        userId: "near",
        displayName: "NEAR",
        ...shown(north(1200)),
        distanceM: Math.round(haversineM(HOME, shown(north(1200)))),
        precision: "approximate",
      },
      {
        userId: "far",
        displayName: "FAR",
        ...shown(north(3000)),
        distanceM: Math.round(haversineM(HOME, shown(north(3000)))),
        precision: "approximate",
      },
    ]);
    expect(people[0]?.lat).not.toBe(north(1200).lat);
  });

  it("keeps to the limit and the radius (measured from the cell centre)", async () => {
    // Prepare
    const w = world();
    await stranger(w, "alice", HOME, {});
    for (let i = 1; i <= 5; i++) await stranger(w, `p${i}`, north(i * 1000));
    await stranger(w, "outside", north(w.tunables.radiusM + 1500));

    // Act
    const two = await nearbyPeople(w.people, "alice", 2);
    const all = await nearbyPeople(w.people, "alice", 50);

    // Assess
    expect(two.map((p) => p.userId)).toEqual(["p1", "p2"]);
    expect(all.map((p) => p.userId)).toEqual(["p1", "p2", "p3", "p4", "p5"]);
  });

  it("never shows a user who is not discoverable, in ghost mode, or hidden from the viewer", async () => {
    // Prepare
    const w = world();
    await stranger(w, "alice", HOME, {});
    await stranger(w, "shy", north(100), {});
    await stranger(w, "ghost", north(200), { discoverable: true, sharing: "off" });
    await stranger(w, "timed", north(300), {
      discoverable: true,
      sharing: "off",
      ghostUntil: T0 + 60_000,
    });
    await stranger(w, "hides", north(400), { discoverable: true, friends: { alice: "hidden" } });
    await stranger(w, "precise", north(500), { discoverable: true, friends: { alice: "precise" } });

    // Act
    const now = await nearbyPeople(w.people, "alice");
    w.clock.advance(60_000);
    const later = await nearbyPeople(w.people, "alice");

    // Assess: per-friend precision never applies to strangers (cell centre only).
    expect(now.map((p) => p.userId)).toEqual(["precise"]);
    expect(now[0]?.lat).toBe(snapToCellCentre(north(500), 6).lat);
    expect(later.map((p) => p.userId).sort()).toEqual(["precise", "timed"]);
  });

  it("never shows friends, blocked users either way, or the viewer", async () => {
    // Prepare
    const w = world();
    await stranger(w, "alice", HOME);
    await stranger(w, "friend", north(100));
    await stranger(w, "blockedByAlice", north(200));
    await stranger(w, "blockedAlice", north(300));
    await stranger(w, "other", north(400));
    w.friendships.befriend("alice", "friend");
    await block(w.blocking, "alice", "blockedByAlice");
    await block(w.blocking, "blockedAlice", "alice");

    // Act
    const people = await nearbyPeople(w.people, "alice");

    // Assess
    expect(people.map((p) => p.userId)).toEqual(["other"]);
  });

  it("never shows a user whose position expired or who went offline, and prunes their entry", async () => {
    // Prepare
    const w = world();
    await stranger(w, "alice", HOME);
    await stranger(w, "quiet", north(100));
    await stranger(w, "gone", north(200));
    await w.online("gone", "g1", north(200));
    await w.connections.remove("gone", "g1");
    w.clock.advance(w.tunables.locationTtlS * 1000);
    await recordLocation(w.session, { userId: "alice", ...HOME }); // alice stays online

    // Act
    const people = await nearbyPeople(w.people, "alice");
    w.clock.advance(indexEntryLifetimeMs(w.tunables));
    await recordLocation(w.session, { userId: "alice", ...HOME });
    await nearbyPeople(w.people, "alice");

    // Assess
    expect(people).toEqual([]);
    expect(w.positions.indexed.has("quiet")).toBe(false);
  });

  it("answers an empty list to a viewer with no stored position, reading nothing else", async () => {
    // Prepare
    const w = world();
    await stranger(w, "bob", north(100));
    w.blocks.faults.fail("eitherWay");

    // Act
    const people = await nearbyPeople(w.people, "alice");

    // Assess
    expect(people).toEqual([]);
  });

  it("needs no discoverable flag to look", async () => {
    // Prepare
    const w = world();
    await stranger(w, "alice", HOME, { discoverable: false, sharing: "off" });
    await stranger(w, "bob", north(100));

    // Act
    const people = await nearbyPeople(w.people, "alice");

    // Assess
    expect(people.map((p) => p.userId)).toEqual(["bob"]);
  });

  it("finds a stranger across a cell boundary", async () => {
    // Prepare: just south and just north of a precision-4 cell edge.
    const w = world();
    const edge = { lat: 37.6171875, lon: 126.978 }; // a multiple of 180/2^10 degrees
    await stranger(w, "alice", north(-500, edge), {});
    await stranger(w, "bob", north(500, edge));

    // Act
    const people = await nearbyPeople(w.people, "alice");

    // Assess
    expect(people.map((p) => p.userId)).toEqual(["bob"]);
  });
});

describe("the location write path and the cell index", () => {
  it("writes the index on published positions and cell changes, not on filtered frames", async () => {
    // Prepare
    const w = world();
    await recordLocation(w.session, { userId: "alice", ...HOME });

    // Act
    w.clock.advance(1000);
    await recordLocation(w.session, { userId: "alice", ...north(5) }); // filtered
    w.clock.advance(w.tunables.heartbeatS * 1000);
    await recordLocation(w.session, { userId: "alice", ...north(5) }); // heartbeat: published

    // Assess
    expect(w.positions.indexWrites).toEqual(["alice", "alice"]);
    expect(w.positions.indexed.get("alice")?.expiresAt).toBe(
      w.clock.now() + indexEntryLifetimeMs(w.tunables),
    );
  });
});
