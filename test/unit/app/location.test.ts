import { describe, expect, it } from "vitest";
import { recordLocation, republishLocation } from "../../../functions/app/location.ts";
import { UnavailableError } from "../../../functions/domain/errors.ts";
import { geohashEncode, INDEX_CELL_PRECISION } from "../../../functions/domain/geo.ts";
import { T0, world } from "../../support/fakes.ts";
import { HOME, north } from "../../support/places.ts";

const frame = (
  p: { lat: number; lon: number },
  more: { ts?: number; accuracyM?: number } = {},
) => ({
  userId: "alice",
  connectionId: "a1",
  lat: p.lat,
  lon: p.lon,
  ...more,
});

describe("recordLocation", () => {
  it("publishes and counts a user's first position", async () => {
    // Prepare
    const w = world();

    // Act
    const result = await recordLocation(w.session, frame(HOME, { ts: 5000, accuracyM: 12 }));

    // Assess
    expect(result).toEqual({ at: T0, published: true, stale: false });
    expect(w.publisher.events).toEqual([
      { v: 1, kind: "position", userId: "alice", ...HOME, at: T0, clientTs: 5000, accuracyM: 12 },
    ]);
    expect(w.telemetry.counts.get("LocationsReceived")).toBe(1);
    expect(w.telemetry.counts.get("LocationsPublished")).toBe(1);
    expect(w.telemetry.counts.get("LocationsFiltered")).toBeUndefined();
    expect(w.positions.cells.get(geohashEncode(HOME.lat, HOME.lon, INDEX_CELL_PRECISION))).toEqual(
      new Set(["alice"]),
    );
  });

  it("stores but does not publish a 10 m move", async () => {
    // Prepare
    const w = world();
    await recordLocation(w.session, frame(HOME));
    w.clock.advance(5000);

    // Act
    const result = await recordLocation(w.session, frame(north(10)));

    // Assess
    expect(result).toEqual({ at: T0 + 5000, published: false, stale: false });
    expect(w.publisher.events).toHaveLength(1);
    expect(w.telemetry.counts.get("LocationsReceived")).toBe(2);
    expect(w.telemetry.counts.get("LocationsPublished")).toBe(1);
    expect(w.telemetry.counts.get("LocationsFiltered")).toBe(1);
    // The snapshot shows the stored position, not the published one.
    expect((await w.positions.positions(["alice"])).get("alice")).toEqual({
      ...north(10),
      at: T0 + 5000,
    });
  });

  it("publishes a position that did not move once the heartbeat is due", async () => {
    // Prepare
    const w = world();
    await recordLocation(w.session, frame(HOME));
    w.clock.advance(w.tunables.heartbeatS * 1000 - 1);
    await recordLocation(w.session, frame(HOME));
    w.clock.advance(1);

    // Act
    const result = await recordLocation(w.session, frame(HOME));

    // Assess
    expect(result).toEqual({
      at: T0 + w.tunables.heartbeatS * 1000,
      published: true,
      stale: false,
    });
    expect(w.publisher.events.map((e) => e.at)).toEqual([T0, T0 + w.tunables.heartbeatS * 1000]);
  });

  it("only refreshes presence for a frame of the same connection arriving out of order", async () => {
    // Prepare
    const w = world();
    await recordLocation(w.session, frame(HOME, { ts: 10_000 }));
    w.clock.advance(500_000);

    // Act
    const result = await recordLocation(w.session, frame(north(1000), { ts: 9000 }));

    // Assess
    expect(result).toEqual({ at: T0, published: false, stale: true });
    expect(w.publisher.events).toHaveLength(1);
    expect(w.telemetry.counts.get("LocationsFiltered")).toBe(1);
    // Position unchanged, but its TTL restarted: still online past the first write's 600 s.
    w.clock.advance(200_000);
    expect((await w.positions.positions(["alice"])).get("alice")).toEqual({ ...HOME, at: T0 });
  });

  it("accepts an older frame from another connection", async () => {
    // Prepare
    const w = world();
    await recordLocation(w.session, frame(HOME, { ts: 10_000 }));
    w.clock.advance(1000);

    // Act
    const result = await recordLocation(w.session, {
      ...frame(north(1000), { ts: 9000 }),
      connectionId: "a2",
    });

    // Assess
    expect(result).toEqual({ at: T0 + 1000, published: true, stale: false });
  });

  it("answers unavailable when the stream fails, and rolls the marker back so the retry is published", async () => {
    // Prepare
    const w = world();
    await recordLocation(w.session, frame(HOME));
    w.clock.advance(1000);
    w.publisher.faults.fail("publish", new Error("ProvisionedThroughputExceeded"), 1);

    // Act
    const failed = recordLocation(w.session, frame(north(100)));
    await expect(failed).rejects.toBeInstanceOf(UnavailableError);
    await expect(failed).rejects.toMatchObject({ code: "unavailable" });
    const markerAfterFailure = w.positions.stored("alice")?.published;
    w.clock.advance(1000);
    const retry = await recordLocation(w.session, frame(north(100)));

    // Assess
    expect(markerAfterFailure).toEqual({ ...HOME, at: T0 });
    expect(retry).toEqual({ at: T0 + 2000, published: true, stale: false });
    expect(w.publisher.events.map((e) => e.at)).toEqual([T0, T0 + 2000]);
    // The failed position was stored all the same: friends' snapshots show it.
    expect(w.telemetry.counts.get("LocationsReceived")).toBe(3);
    expect(w.telemetry.counts.get("LocationsPublished")).toBe(2);
  });

  it("removes the marker of a first position whose publication failed", async () => {
    // Prepare
    const w = world();
    w.publisher.faults.fail("publish", new Error("down"), 1);

    // Act
    await expect(recordLocation(w.session, frame(HOME))).rejects.toMatchObject({
      code: "unavailable",
    });
    w.clock.advance(10);
    const retry = await recordLocation(w.session, frame(HOME));

    // Assess
    expect(retry.published).toBe(true);
  });

  it("logs a failed rollback and still answers unavailable", async () => {
    // Prepare
    const w = world();
    await recordLocation(w.session, frame(HOME));
    w.clock.advance(1000);
    w.publisher.faults.fail("publish", new Error("stream down"), 1);
    w.positions.faults.fail("rollbackPublish", new Error("redis down"), 1);

    // Act
    const outcome = recordLocation(w.session, frame(north(100)));

    // Assess
    await expect(outcome).rejects.toMatchObject({ name: "UnavailableError", code: "unavailable" });
    expect(w.log.lines).toEqual([
      {
        level: "error",
        message: "rollback of published marker failed",
        detail: { userId: "alice", error: "Error: redis down" },
      },
    ]);
  });
});

describe("republishLocation", () => {
  it("publishes the stored position again without a move and without counting a received frame", async () => {
    // Prepare
    const w = world();
    await recordLocation(w.session, frame(HOME, { accuracyM: 8 }));
    w.clock.advance(1000);

    // Act
    const republished = await republishLocation(w.session, "alice");

    // Assess
    expect(republished).toBe(true);
    expect(w.publisher.events).toEqual([
      { v: 1, kind: "position", userId: "alice", ...HOME, at: T0, accuracyM: 8 },
      { v: 1, kind: "position", userId: "alice", ...HOME, at: T0 + 1000, accuracyM: 8 },
    ]);
    expect(w.telemetry.counts.get("LocationsReceived")).toBe(1);
  });

  it("does nothing for a user who is offline", async () => {
    // Prepare
    const w = world();

    // Act
    const republished = await republishLocation(w.session, "alice");

    // Assess
    expect(republished).toBe(false);
    expect(w.publisher.events).toEqual([]);
  });
});
