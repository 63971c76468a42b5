import { describe, expect, it } from "vitest";
import { haversineM } from "../../functions/domain/geo.ts";
import {
  decideWrite,
  OUT_OF_ORDER_WINDOW_MS,
  type StoredMovementState,
} from "../../functions/domain/movement.ts";

const policy = { minMoveM: 30, heartbeatMs: 60_000 };
const T0 = 1_763_770_000_000;
const HOME = { lat: 37.5665, lon: 126.978 };
const north = (m: number) => ({ lat: HOME.lat + m / 111_195, lon: HOME.lon });
/** A user whose position HOME was published at T0, sent by connection c1 at device time 5000. */
const publishedAtHome: StoredMovementState = {
  at: T0,
  ts: 5000,
  tsConnectionId: "c1",
  published: { ...HOME, at: T0 },
};

describe("decideWrite: publication", () => {
  it("publishes a user's first position", () => {
    // Prepare
    const input = { ...HOME, at: T0, clientTs: 5000, connectionId: "c1" };

    // Act
    const decision = decideWrite(null, input, policy);

    // Assess
    expect(decision).toEqual({ stale: false, at: T0, publish: true, next: publishedAtHome });
  });

  it("does not publish a move shorter than minMoveM, and keeps the published marker", () => {
    // Prepare
    const input = { ...north(20), at: T0 + 5000 };

    // Act
    const decision = decideWrite(publishedAtHome, input, policy);

    // Assess
    expect(decision).toEqual({
      stale: false,
      at: T0 + 5000,
      publish: false,
      next: { at: T0 + 5000, published: { ...HOME, at: T0 } },
    });
  });

  it("publishes a move of minMoveM or more from the last published position", () => {
    // Prepare
    const there = north(31);
    const exactly = { ...policy, minMoveM: haversineM(HOME, there) };

    // Act
    const moved = decideWrite(publishedAtHome, { ...there, at: T0 + 6000 }, policy);
    const atThreshold = decideWrite(publishedAtHome, { ...there, at: T0 + 6000 }, exactly);

    // Assess
    expect(moved.publish).toBe(true);
    expect(moved.next.published).toEqual({ ...there, at: T0 + 6000 });
    expect(atThreshold.publish).toBe(true);
  });

  it("publishes a heartbeat once heartbeatMs has passed since the last publication", () => {
    // Prepare
    const stayed = { ...north(5) };

    // Act
    const early = decideWrite(publishedAtHome, { ...stayed, at: T0 + 59_999 }, policy);
    const due = decideWrite(publishedAtHome, { ...stayed, at: T0 + 60_000 }, policy);

    // Assess
    expect(early.publish).toBe(false);
    expect(due.publish).toBe(true);
    expect(due.next.published).toEqual({ ...stayed, at: T0 + 60_000 });
  });
});

describe("decideWrite: server time", () => {
  it("keeps a user's times strictly increasing", () => {
    // Prepare
    const prev = { at: T0, published: { ...HOME, at: T0 } };

    // Act
    const same = decideWrite(prev, { ...north(100), at: T0 }, policy);
    const earlier = decideWrite(same.next, { ...north(200), at: T0 - 50 }, policy);

    // Assess
    expect(same).toMatchObject({ stale: false, at: T0 + 1, publish: true });
    expect(earlier).toMatchObject({ stale: false, at: T0 + 2, publish: true });
    expect(earlier.next.published?.at).toBe(T0 + 2);
  });
});

describe("decideWrite: frames arriving out of order", () => {
  it("treats an older frame of the same connection, within the window, as stale", () => {
    // Prepare
    const late = { ...north(500), at: T0 + 100, connectionId: "c1" };

    // Act
    const justOlder = decideWrite(publishedAtHome, { ...late, clientTs: 4999 }, policy);
    const atWindowEdge = decideWrite(
      publishedAtHome,
      { ...late, clientTs: 5000 - OUT_OF_ORDER_WINDOW_MS },
      policy,
    );

    // Assess
    for (const decision of [justOlder, atWindowEdge]) {
      expect(decision).toEqual({ stale: true, at: T0, publish: false, next: publishedAtHome });
    }
  });

  it("accepts a device time further back than the window (a clock change)", () => {
    // Prepare
    const clockChanged = {
      ...north(500),
      at: T0 + 100,
      clientTs: 5000 - OUT_OF_ORDER_WINDOW_MS - 1,
      connectionId: "c1",
    };

    // Act
    const decision = decideWrite(publishedAtHome, clockChanged, policy);

    // Assess
    expect(decision).toMatchObject({ stale: false, at: T0 + 100, publish: true });
    expect(decision.next).toMatchObject({ ts: clockChanged.clientTs, tsConnectionId: "c1" });
  });

  it("accepts an older device time from another connection, a repeated one, or none", () => {
    // Prepare
    const base = { ...north(10), at: T0 + 100 };

    // Act
    const otherConnection = decideWrite(
      publishedAtHome,
      { ...base, clientTs: 4000, connectionId: "c2" },
      policy,
    );
    const sameTs = decideWrite(
      publishedAtHome,
      { ...base, clientTs: 5000, connectionId: "c1" },
      policy,
    );
    const noConnection = decideWrite(
      publishedAtHome,
      { ...base, clientTs: 4000, connectionId: "" },
      policy,
    );
    const noTs = decideWrite(publishedAtHome, { ...base, connectionId: "c1" }, policy);

    // Assess
    expect(otherConnection.stale).toBe(false);
    expect(otherConnection.next).toMatchObject({ ts: 4000, tsConnectionId: "c2" });
    expect(sameTs.stale).toBe(false);
    // Without both a device time and a connection, the stored device time is dropped.
    for (const decision of [noConnection, noTs]) {
      expect(decision.stale).toBe(false);
      expect(decision.next).toEqual({ at: T0 + 100, published: { ...HOME, at: T0 } });
    }
  });
});
