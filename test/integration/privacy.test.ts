// Sharing settings and data erasure end to end: ghost mode, per-friend precision, DELETE /me/history.
import { afterEach, describe, expect, it } from "vitest";
import { snapToCellCentre } from "../../functions/domain/geo.ts";
import {
  at,
  friendsOnline,
  http,
  isPushAbout,
  makeFriends,
  newUser,
  Sessions,
  sleep,
  updateAbout,
  updatesAbout,
} from "./client.ts";

const sessions = new Sessions();
afterEach(() => sessions.closeAll());

describe("settings API", () => {
  it("starts from sharing with everyone precisely, and validates changes", async () => {
    const alice = await newUser("alice");
    expect(await http("GET", "/me/settings", alice.token)).toEqual({
      status: 200,
      body: { sharing: "on", ghostUntil: null, friends: {}, discoverable: false },
    });
    for (const [body, field] of [
      [{ sharing: "maybe" }, "sharing"],
      [{ ghostUntil: "tomorrow" }, "ghostUntil"],
      [{ friends: { bob: "blurry" } }, "friends"],
      [{ friends: { "not valid!": "hidden" } }, "friends"],
      [{ colour: "red" }, "colour"],
      [{ discoverable: "yes" }, "discoverable"],
    ] as const) {
      const res = await http("PUT", "/me/settings", alice.token, body);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({
        error: { code: "invalid_request", message: expect.stringContaining(field) },
      });
    }
    const put = await http("PUT", "/me/settings", alice.token, {
      friends: { bob: "approximate", carol: "hidden", dave: "precise" },
    });
    expect(put).toEqual({
      status: 200,
      body: {
        sharing: "on",
        ghostUntil: null,
        friends: { bob: "approximate", carol: "hidden" },
        discoverable: false,
      },
    });
    expect((await http("PUT", "/me/settings", alice.token, { sharing: "off" })).body).toEqual({
      sharing: "off",
      ghostUntil: null,
      friends: { bob: "approximate", carol: "hidden" },
      discoverable: false,
    });
  });
});

describe("privacy in the snapshot and the pushes", () => {
  it("hides a user in ghost mode at once, and shows them again when it ends", async () => {
    const { alice, bob, aliceWs, bobWs } = await friendsOnline(sessions, 0, 600);

    let mark = bobWs.frames.length;
    await http("PUT", "/me/settings", alice.token, { sharing: "off" });
    await bobWs.next(isPushAbout(alice.userId, "away"), 5000, mark);
    aliceWs.send({ action: "location", ...at(1200) });
    await sleep(600);
    expect(updatesAbout(bobWs, alice.userId, mark)).toEqual([
      { userId: alice.userId, state: "away", at: expect.any(Number) },
    ]);
    const other = await sessions.connect(bob.token);
    expect((await other.request({ action: "init", ...at(0) })).friends).toEqual([]);
    expect(await other.request({ action: "subscribe", friendId: alice.userId })).toMatchObject({
      type: "subscribed",
      friend: null,
    });

    mark = bobWs.frames.length;
    await http("PUT", "/me/settings", alice.token, { sharing: "on" });
    const back = await bobWs.next(isPushAbout(alice.userId), 5000, mark);
    expect(updateAbout(back, alice.userId)).toMatchObject({
      distanceM: 1200,
      precision: "precise",
    });
  });

  it("ends ghost mode by itself at ghostUntil", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    await makeFriends(alice, bob);
    await http("PUT", "/me/settings", alice.token, {
      sharing: "off",
      ghostUntil: Date.now() + 1500,
    });
    const aliceWs = await sessions.connect(alice.token);
    await aliceWs.request({ action: "init", ...at(300) });
    const bobWs = await sessions.connect(bob.token);
    expect((await bobWs.request({ action: "init", ...at(0) })).friends).toEqual([]);
    await sleep(1600);
    const mark = bobWs.frames.length;
    aliceWs.send({ action: "location", ...at(400) });
    const push = await bobWs.next(isPushAbout(alice.userId), 5000, mark);
    expect(updateAbout(push, alice.userId)).toMatchObject({ distanceM: 400 });
  });

  it("shows one friend an approximate position and hides the user from another", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const carol = await newUser("carol");
    const dave = await newUser("dave");
    for (const f of [bob, carol, dave]) await makeFriends(alice, f);
    await http("PUT", "/me/settings", alice.token, {
      friends: { [bob.userId]: "approximate", [carol.userId]: "hidden" },
    });
    const real = at(2000);
    const aliceWs = await sessions.connect(alice.token);
    await aliceWs.request({ action: "init", ...real });

    const bobWs = await sessions.connect(bob.token);
    const carolWs = await sessions.connect(carol.token);
    const daveWs = await sessions.connect(dave.token);
    type Seen = { userId: string; lat: number; lon: number; precision: string; distanceM: number };
    const bobInit = (await bobWs.request({ action: "init", ...at(0) })).friends as Seen[];
    const carolInit = (await carolWs.request({ action: "init", ...at(0) })).friends as Seen[];
    const daveInit = (await daveWs.request({ action: "init", ...at(0) })).friends as Seen[];
    expect(bobInit).toEqual([
      expect.objectContaining({ userId: alice.userId, precision: "approximate" }),
    ]);
    expect(bobInit[0]?.lat).not.toBe(real.lat);
    expect(Math.abs((bobInit[0]?.distanceM ?? 0) - 2000)).toBeLessThan(1000);
    expect(carolInit).toEqual([]);
    expect(daveInit).toEqual([
      expect.objectContaining({ lat: real.lat, precision: "precise", distanceM: 2000 }),
    ]);

    const marks = {
      bob: bobWs.frames.length,
      carol: carolWs.frames.length,
      dave: daveWs.frames.length,
    };
    const moved = at(2500);
    aliceWs.send({ action: "location", ...moved });
    // (A push of alice's first position may still arrive after the snapshots: match the move.)
    const toDave = await daveWs.next(
      (f) => updateAbout(f, alice.userId)?.lat === moved.lat,
      5000,
      marks.dave,
    );
    expect(updateAbout(toDave, alice.userId)).toMatchObject({
      precision: "precise",
      distanceM: 2500,
    });
    // PROTOCOL.md §2.6: the centre of the precision-6 geohash cell that holds the real position.
    const cell = snapToCellCentre(moved, 6);
    const toBob = await bobWs.next(
      (f) => updateAbout(f, alice.userId)?.lat === cell.lat,
      5000,
      marks.bob,
    );
    expect(updateAbout(toBob, alice.userId)).toMatchObject({
      lon: cell.lon,
      precision: "approximate",
    });
    expect(
      updatesAbout(bobWs, alice.userId, marks.bob).every((u) => u.precision === "approximate"),
    ).toBe(true);
    await sleep(300);
    expect(updatesAbout(carolWs, alice.userId, marks.carol)).toEqual([]);
  });

  it("erases history and the current position on DELETE /me/history, and friends see the user go", async () => {
    const { alice, bob, bobWs } = await friendsOnline(sessions, 0, 700);
    let items: unknown[] = [];
    // History is written from the stream behind a 5 s batching window (lib/stream-consumers.ts).
    for (let i = 0; i < 150 && items.length === 0; i++) {
      await sleep(100);
      items = ((await http("GET", "/me/history", alice.token)).body as { items: unknown[] }).items;
    }
    expect(items).toHaveLength(1);

    const mark = bobWs.frames.length;
    expect((await http("DELETE", "/me/history", alice.token)).status).toBe(204);
    expect((await http("GET", "/me/history", alice.token)).body).toEqual({
      items: [],
      cursor: null,
    });
    await bobWs.next(isPushAbout(alice.userId, "away"), 5000, mark);
    const other = await sessions.connect(bob.token);
    expect((await other.request({ action: "init", ...at(0) })).friends).toEqual([]);
  });
});
