// The fan-out planner and share-link viewers: one `shared` frame per viewer connection for each
// mover with news, at the link's precision, hidden while the mover hides, none to an expired link;
// friends' pushes are unchanged by viewers.
import { describe, expect, it } from "vitest";
import {
  type MoverState,
  planFanout,
  type StreamRecord,
} from "../../functions/domain/fanout-plan.ts";
import { snapToCellCentre } from "../../functions/domain/geo.ts";
import type { ShareViewer } from "../../functions/domain/share-links.ts";

const NOW = 1_763_770_000_000;
const HOME = { lat: 37.5665, lon: 126.978 };
const config = { radiusM: 8047, leaveMarginM: 500 };

const record = (kind: "position" | "offline", at = NOW): StreamRecord => ({
  sequenceNumber: "000001",
  event:
    kind === "position"
      ? { v: 1, kind, userId: "alice", ...HOME, at }
      : { v: 1, kind, userId: "alice", at },
});

const viewer = (connectionId: string, over: Partial<ShareViewer> = {}): ShareViewer => ({
  connectionId,
  linkId: "L1",
  precision: "precise",
  expiresAt: NOW + 60_000,
  connectedAt: NOW - 1000,
  ...over,
});

const mover = (viewers: ShareViewer[], published = true): MoverState => ({
  subscribers: [{ connectionId: "bob-1", userId: "bob", nearby: false }],
  published: published ? { ...HOME, at: NOW } : undefined,
  fannedAt: undefined,
  viewers,
});

const plan = (m: MoverState, r: StreamRecord, hidden = false) =>
  planFanout({
    records: [r],
    movers: new Map([["alice", m]]),
    positions: new Map([["bob", HOME]]),
    config,
    hiddenFromViewers: () => hidden,
    displayNames: new Map([["alice", "Alice"]]),
    now: NOW,
  });

describe("planFanout with share-link viewers", () => {
  it("plans one shared frame per viewer, at each link's precision, beside the friends' push", () => {
    const p = plan(
      mover([viewer("v1"), viewer("v2", { linkId: "L2", precision: "approximate" })]),
      record("position"),
    );
    expect(p.shared).toEqual([
      {
        connectionId: "v1",
        sharedUserId: "alice",
        connectedAt: NOW - 1000,
        sequenceNumber: "000001",
        frame: {
          type: "shared",
          userId: "alice",
          displayName: "Alice",
          ...HOME,
          at: NOW,
          precision: "precise",
          state: "live",
        },
      },
      expect.objectContaining({
        connectionId: "v2",
        frame: expect.objectContaining({
          ...snapToCellCentre(HOME, 6),
          precision: "approximate",
          state: "live",
        }),
      }),
    ]);
    expect(p.pushes.map((push) => push.connectionId)).toEqual(["bob-1"]);
    expect(p.fanned).toEqual([{ userId: "alice", at: NOW, sequenceNumber: "000001" }]);
  });

  it("tells viewers hidden while the mover hides, and offline on an offline record", () => {
    expect(plan(mover([viewer("v1")]), record("position"), true).shared[0]?.frame).toEqual({
      type: "shared",
      userId: "alice",
      state: "hidden",
    });
    expect(plan(mover([viewer("v1")], false), record("offline")).shared[0]?.frame).toEqual({
      type: "shared",
      userId: "alice",
      displayName: "Alice",
      state: "offline",
    });
  });

  it("serves no viewer whose link expired, even before the expiry ends it", () => {
    const p = plan(mover([viewer("v1", { expiresAt: NOW }), viewer("v2")]), record("position"));
    expect(p.shared.map((s) => s.connectionId)).toEqual(["v2"]);
  });

  it("sends viewers nothing for a position that went out already", () => {
    const m = { ...mover([viewer("v1")]), fannedAt: NOW };
    const p = plan(m, record("position"));
    expect(p.shared).toEqual([]);
    expect(p.stale).toBe(1);
  });

  it("changes nothing for friends: the same pushes with or without viewers", () => {
    const withViewers = plan(mover([viewer("v1")]), record("position"));
    const without = plan(mover([]), record("position"));
    expect(withViewers.pushes).toEqual(without.pushes);
    expect(without.shared).toEqual([]);
  });
});
