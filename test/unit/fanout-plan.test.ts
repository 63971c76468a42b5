import { describe, expect, it } from "vitest";
import type { LocationEvent } from "../../functions/domain/events.ts";
import {
  latestPerUser,
  type MoverState,
  type PlanInput,
  type PublishedPosition,
  planFanout as planFanoutPure,
  type StreamRecord,
} from "../../functions/domain/fanout-plan.ts";
import { geohashEncode, haversineM, type LatLon } from "../../functions/domain/geo.ts";

const NOW = 1_763_770_000_000;
const HOME = { lat: 37.5665, lon: 126.978 };
const north = (m: number): LatLon => ({ lat: HOME.lat + m / 111_195, lon: HOME.lon });
const config = { radiusM: 8047, leaveMarginM: 500 };

let seq = 0;
const position = (userId: string, p: LatLon, at = NOW): StreamRecord => ({
  sequenceNumber: String(++seq).padStart(6, "0"),
  event: { v: 1, kind: "position", userId, lat: p.lat, lon: p.lon, at },
});
const offline = (userId: string, at = NOW): StreamRecord => ({
  sequenceNumber: String(++seq).padStart(6, "0"),
  event: { v: 1, kind: "offline", userId, at } as LocationEvent,
});

/** Movers, each with its subscriber connections; a connection's user and who is nearby on it. */
function world(opts: {
  subs: Record<string, string[]>;
  conns: Record<string, { userId: string; nearby?: string[] }>;
  positions: Record<string, LatLon>;
  /** What Redis holds as the mover's newest published position; by default, that of its record. */
  published?: Record<string, PublishedPosition>;
  fannedAt?: Record<string, number>;
  /** Movers with no position in Redis (offline). */
  offline?: string[];
}) {
  const movers = new Map<string, MoverState>(
    Object.entries(opts.subs).map(([u, conns]) => [
      u,
      {
        subscribers: conns.map((c) => ({
          connectionId: c,
          userId: opts.conns[c]?.userId ?? "someone",
          nearby: opts.conns[c]?.nearby?.includes(u) ?? false,
        })),
        published: opts.published?.[u],
        fannedAt: opts.fannedAt?.[u],
      },
    ]),
  );
  return {
    movers,
    positions: new Map(Object.entries(opts.positions)),
    config,
    offline: new Set(opts.offline ?? []),
  };
}

/**
 * The plan, with Redis holding each mover's newest published position: the one given to world(),
 * else the position of the mover's record (the common case: the record is the newest).
 */
function planFanout(input: PlanInput & { offline?: Set<string> }) {
  const movers = new Map(input.movers);
  for (const { event } of input.records) {
    const m = movers.get(event.userId);
    if (!m || m.published || event.kind !== "position" || input.offline?.has(event.userId))
      continue;
    movers.set(event.userId, { ...m, published: { lat: event.lat, lon: event.lon, at: event.at } });
  }
  return planFanoutPure({ ...input, movers });
}

describe("latestPerUser", () => {
  it("keeps the latest record per user, however old: a late record still triggers a push", () => {
    const a1 = position("alice", north(0), NOW - 3000);
    const b1 = position("bob", north(10), NOW - 2000);
    const a2 = position("alice", north(100), NOW - 1000);
    const old = position("carol", north(0), NOW - 310_000);
    const out = latestPerUser([a1, b1, a2, old]);
    expect(out).toEqual([b1, a2, old]);
  });

  it("never lets an older record replace a newer one of the same user", () => {
    const newer = position("alice", north(100), NOW - 1000);
    const older = position("alice", north(0), NOW - 2000);
    expect(latestPerUser([newer, older])).toEqual([newer]);
  });
});

describe("planFanout", () => {
  it("pushes a move within the radius to every subscribed connection with its distance", () => {
    const w = world({
      subs: { alice: ["b1", "b2"] },
      conns: { b1: { userId: "bob" }, b2: { userId: "bob" } },
      positions: { bob: HOME },
    });
    const rec = position("alice", north(1300));
    const plan = planFanout({ ...w, records: [rec] });
    expect(plan.pushes.map((p) => p.connectionId)).toEqual(["b1", "b2"]);
    expect(plan.pushes[0]).toEqual({
      connectionId: "b1",
      viewerId: "bob",
      updates: [
        {
          userId: "alice",
          state: "nearby",
          ...north(1300),
          distanceM: 1300,
          at: NOW,
          precision: "precise",
        },
      ],
      sequenceNumbers: [rec.sequenceNumber],
      nearbyAdd: ["alice"],
      nearbyRemove: [],
    });
  });

  it("sends nothing for a friend outside the radius who was not nearby", () => {
    const w = world({
      subs: { alice: ["b1"] },
      conns: { b1: { userId: "bob" } },
      positions: { bob: HOME },
    });
    expect(planFanout({ ...w, records: [position("alice", north(8100))] }).pushes).toEqual([]);
  });

  it("applies hysteresis: a nearby friend stays nearby within radius + margin, then goes away once", () => {
    const w = (nearby: string[]) =>
      world({
        subs: { alice: ["b1"] },
        conns: { b1: { userId: "bob", nearby } },
        positions: { bob: HOME },
      });
    const edge = planFanout({ ...w(["alice"]), records: [position("alice", north(8400))] });
    expect(edge.pushes[0]?.updates[0]).toMatchObject({ state: "nearby", distanceM: 8400 });
    expect(edge.pushes[0]?.nearbyAdd).toEqual([]);

    const notYet = planFanout({ ...w([]), records: [position("alice", north(8400))] });
    expect(notYet.pushes).toEqual([]);

    const gone = planFanout({ ...w(["alice"]), records: [position("alice", north(8600))] });
    expect(gone.pushes[0]).toMatchObject({
      updates: [{ userId: "alice", state: "away", at: expect.any(Number) }],
      nearbyRemove: ["alice"],
    });
    const silent = planFanout({ ...w([]), records: [position("alice", north(8600))] });
    expect(silent.pushes).toEqual([]);
  });

  it("coalesces several movers into one push per connection, one update per friend", () => {
    const w = world({
      subs: { alice: ["b1"], carol: ["b1"], dave: ["b1"] },
      conns: { b1: { userId: "bob" } },
      positions: { bob: HOME },
    });
    const records = latestPerUser([
      position("alice", north(100), NOW - 300),
      position("carol", north(200), NOW - 200),
      position("alice", north(150), NOW - 100),
      position("dave", north(50_000), NOW - 50),
    ]);
    const plan = planFanout({ ...w, records });
    expect(plan.pushes).toHaveLength(1);
    expect(plan.pushes[0]?.updates.map((u) => [u.userId, u.state])).toEqual([
      ["carol", "nearby"],
      ["alice", "nearby"],
    ]);
    expect(plan.pushes[0]?.updates.find((u) => u.userId === "alice")).toMatchObject({
      distanceM: 150,
    });
  });

  it("pushes the mover's newest published position, not the (late) record's own", () => {
    const newest = { ...north(700), at: NOW };
    const w = world({
      subs: { alice: ["b1"] },
      conns: { b1: { userId: "bob" } },
      positions: { bob: HOME },
      published: { alice: newest },
    });
    const late = position("alice", north(10), NOW - 120_000);
    const plan = planFanout({ ...w, records: [late] });
    expect(plan.pushes[0]?.updates).toEqual([
      {
        userId: "alice",
        state: "nearby",
        lat: newest.lat,
        lon: newest.lon,
        distanceM: 700,
        at: NOW,
        precision: "precise",
      },
    ]);
    expect(plan.fanned).toEqual([
      { userId: "alice", at: NOW, sequenceNumber: late.sequenceNumber },
    ]);
    expect(plan.stale).toBe(0);
  });

  it("pushes a published position once: a later record of it finds it fanned out already", () => {
    const w = world({
      subs: { alice: ["b1"] },
      conns: { b1: { userId: "bob" } },
      positions: { bob: HOME },
      published: { alice: { ...north(10), at: NOW } },
      fannedAt: { alice: NOW },
    });
    const plan = planFanout({ ...w, records: [position("alice", north(5), NOW - 5)] });
    expect(plan.pushes).toEqual([]);
    expect(plan.fanned).toEqual([]);
    expect(plan.stale).toBe(1);
    const newer = world({
      subs: { alice: ["b1"] },
      conns: { b1: { userId: "bob" } },
      positions: { bob: HOME },
      published: { alice: { ...north(10), at: NOW + 1000 } },
      fannedAt: { alice: NOW },
    });
    expect(
      planFanout({ ...newer, records: [position("alice", north(5), NOW - 5)] }).pushes,
    ).toHaveLength(1);
  });

  it("pushes nothing for a position record of a mover now offline (an offline record follows)", () => {
    const w = world({
      subs: { alice: ["b1"] },
      conns: { b1: { userId: "bob", nearby: ["alice"] } },
      positions: { bob: HOME },
      offline: ["alice"],
    });
    const plan = planFanout({ ...w, records: [position("alice", north(10))] });
    expect(plan.pushes).toEqual([]);
    expect(plan.stale).toBe(1);
  });

  it("skips an offline record of a mover who came back online after it", () => {
    const w = world({
      subs: { alice: ["b1"] },
      conns: { b1: { userId: "bob", nearby: ["alice"] } },
      positions: { bob: HOME },
      published: { alice: { ...north(10), at: NOW } },
    });
    const plan = planFanout({ ...w, records: [offline("alice", NOW - 2000)] });
    expect(plan.pushes).toEqual([]);
    expect(plan.stale).toBe(1);
  });

  it("reports offline friends away only where they were nearby", () => {
    const w = world({
      subs: { alice: ["b1", "c1"] },
      conns: { b1: { userId: "bob", nearby: ["alice"] }, c1: { userId: "carol" } },
      positions: { bob: HOME, carol: HOME },
    });
    const plan = planFanout({ ...w, records: [offline("alice")] });
    expect(plan.pushes).toEqual([
      expect.objectContaining({
        connectionId: "b1",
        updates: [{ userId: "alice", state: "away", at: expect.any(Number) }],
      }),
    ]);
  });

  it("stamps each away with the time of what caused it: going offline, or the position that left", () => {
    const left = north(20_000);
    const w = world({
      subs: { alice: ["b1"], dave: ["b1"] },
      conns: { b1: { userId: "bob", nearby: ["alice", "dave"] } },
      positions: { bob: HOME },
      published: { dave: { ...left, at: NOW + 7 } },
    });
    const plan = planFanout({
      ...w,
      records: [offline("alice", NOW + 5), position("dave", left, NOW + 7)],
    });
    expect(plan.pushes[0]?.updates).toEqual([
      { userId: "alice", state: "away", at: NOW + 5 },
      { userId: "dave", state: "away", at: NOW + 7 },
    ]);
  });

  it("skips viewers without a position (offline)", () => {
    const w = world({
      subs: { alice: ["b1", "c1"] },
      conns: { b1: { userId: "bob" }, c1: { userId: "carol" } },
      positions: { carol: HOME },
    });
    const plan = planFanout({ ...w, records: [position("alice", north(10))] });
    expect(plan.pushes.map((p) => p.connectionId)).toEqual(["c1"]);
  });

  it("respects privacy: hidden friends are never shown, approximate ones are snapped to a cell centre", () => {
    const w = world({
      subs: { alice: ["b1", "c1"] },
      conns: { b1: { userId: "bob", nearby: ["alice"] }, c1: { userId: "carol" } },
      positions: { bob: HOME, carol: HOME },
    });
    const p = north(2000);
    const plan = planFanout({
      ...w,
      records: [position("alice", p)],
      visibility: (_mover, viewer) => (viewer === "bob" ? "hidden" : "approximate"),
    });
    const [toBob, toCarol] = plan.pushes;
    expect(toBob?.updates).toEqual([{ userId: "alice", state: "away", at: expect.any(Number) }]);
    const shown = toCarol?.updates[0];
    expect(shown).toMatchObject({ state: "nearby", precision: "approximate" });
    if (shown?.state !== "nearby") throw new Error("expected a nearby update");
    expect(geohashEncode(shown.lat, shown.lon, 6)).toBe(geohashEncode(p.lat, p.lon, 6));
    expect(shown.lat).not.toBe(p.lat);
    expect(shown.distanceM).toBe(Math.round(haversineM(HOME, shown)));
  });

  it("never pushes a user's own moves to their own connections", () => {
    const w = world({
      subs: { alice: ["a1"] },
      conns: { a1: { userId: "alice" } },
      positions: { alice: HOME },
    });
    expect(planFanout({ ...w, records: [position("alice", north(10))] }).pushes).toEqual([]);
  });
});
