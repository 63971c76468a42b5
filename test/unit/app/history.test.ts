import { describe, expect, it } from "vitest";
import { eraseHistory, queryHistory, writeHistory } from "../../../functions/app/history.ts";
import type { PositionEvent } from "../../../functions/domain/events.ts";
import { geohashEncode, INDEX_CELL_PRECISION } from "../../../functions/domain/geo.ts";
import { T0, world } from "../../support/fakes.ts";
import { HOME, north } from "../../support/places.ts";

const position = (
  userId: string,
  at: number,
  more: Partial<PositionEvent> = {},
): PositionEvent => ({
  v: 1,
  kind: "position",
  userId,
  ...HOME,
  at,
  ...more,
});

describe("writeHistory", () => {
  it("writes each position under its time and sequence number, with its expiry", async () => {
    // Prepare
    const w = world();
    const records = [
      { sequenceNumber: "00000001", event: position("alice", T0, { clientTs: 5, accuracyM: 8 }) },
      { sequenceNumber: "00000002", event: position("alice", T0 + 1000) },
    ];

    // Act
    const failed = await writeHistory(w.historyWrite, records);

    // Assess
    expect(failed).toEqual([]);
    expect(w.history.itemsOf("alice")).toEqual([
      {
        userId: "alice",
        sk: `${T0 + 1000}#00000002`,
        ...HOME,
        at: T0 + 1000,
        expiresAt: Math.floor((T0 + 1000) / 1000) + w.tunables.historyRetentionDays * 86_400,
      },
      {
        userId: "alice",
        sk: `${T0}#00000001`,
        ...HOME,
        at: T0,
        clientTs: 5,
        accuracyM: 8,
        expiresAt: Math.floor(T0 / 1000) + w.tunables.historyRetentionDays * 86_400,
      },
    ]);
  });

  it("returns the sequence numbers of the items that could not be written", async () => {
    // Prepare
    const w = world();
    w.history.rejects = (item) => item.userId === "bob";
    const records = [
      { sequenceNumber: "00000001", event: position("alice", T0) },
      { sequenceNumber: "00000002", event: position("bob", T0) },
      { sequenceNumber: "00000003", event: position("alice", T0 + 1) },
      { sequenceNumber: "00000004", event: position("bob", T0 + 1) },
    ];

    // Act
    const failed = await writeHistory(w.historyWrite, records);

    // Assess
    expect(failed).toEqual(["00000002", "00000004"]);
    expect(w.history.itemsOf("alice")).toHaveLength(2);
  });

  it("overwrites instead of duplicating a re-delivered record", async () => {
    // Prepare
    const w = world();
    const records = [{ sequenceNumber: "00000001", event: position("alice", T0) }];
    await writeHistory(w.historyWrite, records);

    // Act
    await writeHistory(w.historyWrite, records);

    // Assess
    expect(w.history.itemsOf("alice")).toHaveLength(1);
  });
});

describe("queryHistory", () => {
  it("lists a time range newest first, paged with a cursor", async () => {
    // Prepare
    const w = world();
    await writeHistory(
      w.historyWrite,
      [0, 1, 2, 3, 4].map((i) => ({
        sequenceNumber: String(i).padStart(8, "0"),
        event: position("alice", T0 + i * 1000),
      })),
    );

    // Act
    const first = await queryHistory({ history: w.history }, "alice", {
      from: T0 + 1000,
      to: T0 + 3000,
      limit: 2,
    });
    const second = await queryHistory({ history: w.history }, "alice", {
      from: T0 + 1000,
      to: T0 + 3000,
      limit: 2,
      cursor: first.cursor ?? undefined,
    });

    // Assess
    expect(first.items.map((i) => i.at)).toEqual([T0 + 3000, T0 + 2000]);
    expect(first.items[0]).toEqual({ ...HOME, at: T0 + 3000, clientTs: null, accuracyM: null });
    expect(first.cursor).not.toBeNull();
    expect(second.items.map((i) => i.at)).toEqual([T0 + 1000]);
    expect(second.cursor).toBeNull();
  });

  it("refuses a cursor the server did not issue", async () => {
    // Prepare
    const w = world();

    // Act
    const outcome = queryHistory({ history: w.history }, "alice", { limit: 10, cursor: "%%%" });

    // Assess
    await expect(outcome).rejects.toMatchObject({ code: "invalid_request" });
  });
});

describe("eraseHistory", () => {
  it("erases the position, publishes offline and deletes the history", async () => {
    // Prepare
    const w = world();
    await w.online("alice", "a1", HOME);
    await writeHistory(
      w.historyWrite,
      w.publisher
        .take()
        .flatMap((r) =>
          r.event.kind === "position" ? [{ sequenceNumber: r.sequenceNumber, event: r.event }] : [],
        ),
    );
    w.clock.advance(1000);

    // Act
    await eraseHistory(w.erase, "alice");

    // Assess
    expect(w.positions.stored("alice")).toBeUndefined();
    expect(w.positions.cells.get(geohashEncode(HOME.lat, HOME.lon, INDEX_CELL_PRECISION))).toEqual(
      new Set(),
    );
    expect(w.publisher.take().map((r) => r.event)).toEqual([
      { v: 1, kind: "offline", userId: "alice", at: T0 + 1000 },
    ]);
    expect(w.history.itemsOf("alice")).toEqual([]);
    // The connection stays open and keeps what it follows.
    expect(w.connections.of("alice")).toEqual(["a1"]);
  });

  it("sends away to friends who showed the user nearby, and keeps the user's subscriptions", async () => {
    // Prepare
    const w = world();
    w.friendships.befriend("alice", "bob");
    await w.online("alice", "a1", HOME);
    await w.online("bob", "b1", north(1000));
    w.publisher.take();
    w.clock.advance(1000);

    // Act
    await eraseHistory(w.erase, "alice");
    await w.deliver();

    // Assess
    expect(w.notifier.updatesTo("b1")).toEqual([
      { userId: "alice", state: "away", at: expect.any(Number) },
    ]);
    expect(w.audience.followedBy("a1")).toEqual(["bob"]);
  });
});
