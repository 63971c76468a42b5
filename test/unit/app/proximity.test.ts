// The snapshot and the fan-out apply one proximity rule (docs/PROTOCOL.md §2.8): entry at the
// radius, inclusive; a friend already shown nearby stays nearby up to radius + leave margin.
import { describe, expect, it } from "vitest";
import { recordLocation } from "../../../functions/app/location.ts";
import { subscribe } from "../../../functions/app/session.ts";
import { haversineM } from "../../../functions/domain/geo.ts";
import { T0, world } from "../../support/fakes.ts";
import { HOME, north } from "../../support/places.ts";

const a1 = { connectionId: "a1", userId: "alice" };
const a2 = { connectionId: "a2", userId: "alice" };

describe("proximity in the snapshot and the fan-out", () => {
  it("keeps a friend between the radius and the leave margin nearby only where already shown", async () => {
    // Prepare
    const w = world();
    const { radiusM, leaveMarginM } = w.tunables;
    const inBand = north(radiusM + 250);
    const stillInBand = north(radiusM + 300);
    w.friendships.befriend("alice", "bob");
    await w.online("bob", "b1", north(1000));
    await w.online("alice", "a1", HOME);
    await recordLocation(w.session, { userId: "bob", connectionId: "b1", ...inBand });
    await w.deliver();
    w.notifier.clear();

    // Act
    const snapshot = await w.online("alice", "a2", HOME);
    w.clock.advance(1000);
    await recordLocation(w.session, { userId: "bob", connectionId: "b1", ...stillInBand });
    await w.deliver();

    // Assess
    for (const p of [inBand, stillInBand]) {
      expect(haversineM(HOME, p)).toBeGreaterThan(radiusM);
      expect(haversineM(HOME, p)).toBeLessThanOrEqual(radiusM + leaveMarginM);
    }
    expect(snapshot.friends).toEqual([]);
    expect(w.notifier.updatesTo("a1")).toEqual([
      {
        userId: "bob",
        state: "nearby",
        ...stillInBand,
        distanceM: Math.round(haversineM(HOME, stillInBand)),
        at: T0 + 1000,
        precision: "precise",
      },
    ]);
    expect(w.notifier.updatesTo("a2")).toEqual([]);
    expect(w.audience.nearbyFlag("bob", a1)).toBe(true);
    expect(w.audience.nearbyFlag("bob", a2)).toBe(false);
  });

  it("counts a friend at exactly the radius as nearby in the snapshot, the subscribe reply and the fan-out", async () => {
    // Prepare
    const edge = north(5000);
    const radiusM = haversineM(HOME, edge);
    const w = world({ tunables: { radiusM } });
    w.friendships.befriend("alice", "bob");
    await w.online("alice", "a1", HOME);
    await w.online("alice", "a2", HOME);

    // Act
    await w.online("bob", "b1", edge);
    await w.deliver();
    const snapshot = await w.online("alice", "a3", HOME);
    const subscribed = await subscribe(w.session, "alice", "a2", "bob");

    // Assess
    const bob = {
      userId: "bob",
      ...edge,
      distanceM: Math.round(radiusM),
      at: T0,
      precision: "precise",
    };
    expect(w.notifier.updatesTo("a1")).toEqual([{ ...bob, state: "nearby" }]);
    expect(snapshot.friends).toEqual([bob]);
    expect(subscribed).toEqual(bob);
  });

  it("leaves a friend just beyond the radius out of both", async () => {
    // Prepare
    const edge = north(5000);
    const w = world({ tunables: { radiusM: haversineM(HOME, edge) } });
    const beyond = { lat: edge.lat + 1e-9, lon: edge.lon };
    w.friendships.befriend("alice", "bob");
    await w.online("alice", "a1", HOME);

    // Act
    await w.online("bob", "b1", beyond);
    await w.deliver();
    const snapshot = await w.online("alice", "a2", HOME);

    // Assess
    expect(haversineM(HOME, beyond)).toBeGreaterThan(w.tunables.radiusM);
    expect(w.notifier.updatesTo("a1")).toEqual([]);
    expect(snapshot.friends).toEqual([]);
  });
});
