// The fan-out engine end to end: every device of every subscribed friend, hysteresis, order,
// reconnects, paging and dead connections (PROTOCOL.md §2.1–2.6).
import { afterEach, describe, expect, it } from "vitest";
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

describe("fan-out", () => {
  it("pushes a move to every device of every subscribed friend with each one's distance", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const carol = await newUser("carol");
    await makeFriends(alice, bob);
    await makeFriends(alice, carol);
    const bobPhone = await sessions.connect(bob.token);
    const bobTablet = await sessions.connect(bob.token);
    const carolPhone = await sessions.connect(carol.token);
    await bobPhone.request({ action: "init", ...at(0) });
    await bobTablet.request({ action: "init", ...at(0) });
    await carolPhone.request({ action: "init", ...at(-2000) });
    const aliceWs = await sessions.connect(alice.token);
    await aliceWs.request({ action: "init", ...at(1000) });
    for (const s of [bobPhone, bobTablet, carolPhone]) await s.next(isPushAbout(alice.userId));

    const marks = [bobPhone, bobTablet, carolPhone].map((s) => s.frames.length);
    aliceWs.send({ action: "location", ...at(1500) });
    const [p1, p2, p3] = await Promise.all(
      [bobPhone, bobTablet, carolPhone].map((s, i) =>
        s.next(isPushAbout(alice.userId), 5000, marks[i]),
      ),
    );
    expect(updateAbout(p1 ?? {}, alice.userId)?.distanceM).toBe(1500);
    expect(updateAbout(p2 ?? {}, alice.userId)?.distanceM).toBe(1500);
    expect(updateAbout(p3 ?? {}, alice.userId)?.distanceM).toBe(3500);
  });

  it("sends one away when a friend leaves the radius, then silence, then nearby on return", async () => {
    const { alice, aliceWs, bobWs } = await friendsOnline(sessions, 0, 7000);

    // Within radius + leave margin: still nearby (no flicker at the edge).
    let mark = bobWs.frames.length;
    aliceWs.send({ action: "location", ...at(8300) });
    expect(
      updateAbout(await bobWs.next(isPushAbout(alice.userId), 5000, mark), alice.userId)?.distanceM,
    ).toBe(8300);

    mark = bobWs.frames.length;
    aliceWs.send({ action: "location", ...at(9000) });
    await bobWs.next(isPushAbout(alice.userId, "away"), 5000, mark);
    aliceWs.send({ action: "location", ...at(9500) });
    aliceWs.send({ action: "location", ...at(10_000) });
    await sleep(700);
    expect(updatesAbout(bobWs, alice.userId, mark)).toEqual([
      { userId: alice.userId, state: "away", at: expect.any(Number) },
    ]);

    mark = bobWs.frames.length;
    aliceWs.send({ action: "location", ...at(8000) });
    const back = await bobWs.next(isPushAbout(alice.userId), 5000, mark);
    expect(updateAbout(back, alice.userId)).toMatchObject({ state: "nearby", distanceM: 8000 });
  });

  it("delivers a burst of 12 quick moves in order, ending at the last position", async () => {
    const { alice, aliceWs, bobWs } = await friendsOnline(sessions, 0, 100);
    const mark = bobWs.frames.length;
    // As fast as the protocol allows: at most 10 frames a second per connection.
    for (let i = 1; i <= 12; i++) {
      aliceWs.send({ action: "location", ...at(100 + i * 100) });
      await sleep(120);
    }
    const last = at(1300);
    await bobWs.next(
      (f) => isPushAbout(alice.userId)(f) && updateAbout(f, alice.userId)?.lat === last.lat,
      8000,
      mark,
    );
    const seen = updatesAbout(bobWs, alice.userId, mark);
    const times = seen.map((u) => u.at ?? 0);
    const distances = seen.map((u) => u.distanceM ?? 0);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(times.length);
    expect(distances).toEqual([...distances].sort((a, b) => a - b));
    expect(seen.at(-1)).toMatchObject({ lat: last.lat, distanceM: 1300 });
    await sleep(300);
    expect(updatesAbout(bobWs, alice.userId, mark).at(-1)).toMatchObject({ lat: last.lat });
  });

  it("shows a reconnecting friend the latest position in the init snapshot", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    await makeFriends(alice, bob);
    const aliceWs = await sessions.connect(alice.token);
    await aliceWs.request({ action: "init", ...at(500) });
    aliceWs.send({ action: "location", ...at(900) });
    await sleep(200);
    const bobWs = await sessions.connect(bob.token);
    const first = await bobWs.request({ action: "init", ...at(0) });
    expect(first.friends).toEqual([
      expect.objectContaining({ userId: alice.userId, lat: at(900).lat, distanceM: 900 }),
    ]);
    await bobWs.close();
    aliceWs.send({ action: "location", ...at(1200) });
    await sleep(200);
    const again = await sessions.connect(bob.token);
    const second = await again.request({ action: "init", ...at(0) });
    expect(second.friends).toEqual([
      expect.objectContaining({ userId: alice.userId, lat: at(1200).lat, distanceM: 1200 }),
    ]);
  });

  it("pages the snapshot nearest first", async () => {
    const bob = await newUser("bob");
    const friends = await Promise.all(["f1", "f2", "f3"].map((n) => newUser(n)));
    const distances = [3000, 1000, 2000];
    for (const [i, f] of friends.entries()) {
      await makeFriends(f, bob);
      const s = await sessions.connect(f.token);
      await s.request({ action: "init", ...at(distances[i] ?? 0) });
    }
    const far = await newUser("far");
    await makeFriends(far, bob);
    await (await sessions.connect(far.token)).request({ action: "init", ...at(9000) });

    const bobWs = await sessions.connect(bob.token);
    const init = await bobWs.request({ action: "init", ...at(0), limit: 2 });
    const ids = friends.map((f) => f.userId);
    expect((init.friends as { userId: string }[]).map((f) => f.userId)).toEqual([ids[1], ids[2]]);
    expect(init.cursor).toEqual(expect.any(String));
    const next = await bobWs.request({ action: "nearbyFriends", cursor: init.cursor, limit: 2 });
    expect(next).toMatchObject({ type: "nearbyFriends", cursor: null });
    expect(
      (next.friends as { userId: string; distanceM: number }[]).map((f) => [f.userId, f.distanceM]),
    ).toEqual([[ids[0], 3000]]);
    expect(await bobWs.request({ action: "nearbyFriends", cursor: "garbage" })).toMatchObject({
      type: "error",
      code: "invalid_request",
    });
  });

  it("tells both sides away when a friendship ends, and stops the pushes", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    await makeFriends(alice, bob);
    const aliceWs = await sessions.connect(alice.token);
    const bobWs = await sessions.connect(bob.token);
    await aliceWs.request({ action: "init", ...at(0) });
    await bobWs.request({ action: "init", ...at(400) });
    await aliceWs.next(isPushAbout(bob.userId));
    const marks = [aliceWs.frames.length, bobWs.frames.length];
    expect((await http("DELETE", `/friends/${bob.userId}`, alice.token)).status).toBe(204);
    await aliceWs.next(isPushAbout(bob.userId, "away"), 5000, marks[0]);
    await bobWs.next(isPushAbout(alice.userId, "away"), 5000, marks[1]);
    bobWs.send({ action: "location", ...at(800) });
    aliceWs.send({ action: "location", ...at(-800) });
    await sleep(700);
    // Nothing after the away (a push of a first position may precede it, never follow it).
    expect(updatesAbout(aliceWs, bob.userId, marks[0]).at(-1)).toEqual({
      userId: bob.userId,
      state: "away",
      at: expect.any(Number),
    });
    expect(updatesAbout(bobWs, alice.userId, marks[1]).at(-1)).toEqual({
      userId: alice.userId,
      state: "away",
      at: expect.any(Number),
    });
    const moved = [at(800).lat, at(-800).lat];
    const leaked = [
      ...updatesAbout(aliceWs, bob.userId),
      ...updatesAbout(bobWs, alice.userId),
    ].filter((u) => moved.includes(u.lat ?? Number.NaN));
    expect(leaked).toEqual([]);
  });
});
