// Nearby people and blocks end to end: discoverable strangers near the caller, shown only at the
// centre of their precision-6 cell; friends, blocked users (either way), users hiding and users
// offline never shown; the blocks API and what a block does to friendships and friend requests.
import { afterEach, describe, expect, it } from "vitest";
import { haversineM, type LatLon, snapToCellCentre } from "../../functions/domain/geo.ts";
import {
  type Frame,
  http,
  isPushAbout,
  makeFriends,
  newUser,
  north,
  Sessions,
  type TestUser,
} from "./client.ts";

const sessions = new Sessions();
afterEach(() => sessions.closeAll());

interface Person {
  userId: string;
  displayName: string | null;
  lat: number;
  lon: number;
  distanceM: number;
  precision: string;
}

/** A place of each test's own (users of other tests stay far away), inland or not. */
const place = (): LatLon => ({ lat: -40 + Math.random() * 80, lon: -170 + Math.random() * 340 });
const from = (base: LatLon, m: number) => north(base.lat, base.lon, m);

/** A new user online at `p` (init), discoverable unless told otherwise. */
async function online(name: string, p: LatLon, settings: object = { discoverable: true }) {
  const user = await newUser(name);
  const put = await http("PUT", "/me/settings", user.token, settings);
  expect(put.status).toBe(200);
  const ws = await sessions.connect(user.token);
  const init = await ws.request({ action: "init", ...p });
  expect(init.type).toBe("init");
  return { ...user, ws };
}

async function people(
  ws: { request: (f: Record<string, unknown>) => Promise<Frame> },
  limit?: number,
) {
  const reply = await ws.request({ action: "nearbyPeople", ...(limit ? { limit } : {}) });
  expect(reply.type).toBe("nearbyPeople");
  return reply.people as Person[];
}

const ids = (list: Person[]) => list.map((p) => p.userId);

describe("nearbyPeople", () => {
  it("shows discoverable strangers at their cell centres, nearest first, with the distance from the centre, up to the limit", async () => {
    const base = place();
    const alice = await online("alice", base, {});
    const far = await online("far", from(base, 4000));
    const near = await online("near", from(base, 900));
    const mid = await online("mid", from(base, 2500));

    const list = await people(alice.ws);

    expect(ids(list)).toEqual([near.userId, mid.userId, far.userId]);
    for (const [p, real] of [
      [list[0], from(base, 900)],
      [list[1], from(base, 2500)],
      [list[2], from(base, 4000)],
    ] as const) {
      const centre = snapToCellCentre(real, 6);
      expect(p).toEqual({
        userId: p?.userId,
        displayName: expect.any(String),
        lat: centre.lat,
        lon: centre.lon,
        distanceM: Math.round(haversineM(base, centre)),
        precision: "approximate",
      });
      expect(p?.lat).not.toBe(real.lat);
    }
    expect(list[0]?.displayName).toBe("near");
    expect(ids(await people(alice.ws, 2))).toEqual([near.userId, mid.userId]);
  });

  it("never shows a user who is not discoverable, and follows the setting both ways", async () => {
    const base = place();
    const alice = await online("alice", base, {});
    const shy = await online("shy", from(base, 500), {});

    expect(await people(alice.ws)).toEqual([]);
    await http("PUT", "/me/settings", shy.token, { discoverable: true });
    expect(ids(await people(alice.ws))).toEqual([shy.userId]);
    await http("PUT", "/me/settings", shy.token, { discoverable: false });
    expect(await people(alice.ws)).toEqual([]);
  });

  it("never shows friends; looking needs no discoverable flag", async () => {
    const base = place();
    const alice = await online("alice", base, {});
    const friend = await online("friend", from(base, 500));
    const stranger = await online("stranger", from(base, 700));
    await makeFriends(alice, friend);

    expect(ids(await people(alice.ws))).toEqual([stranger.userId]);
    // The friend, discoverable, does not see alice: she is not discoverable.
    expect(ids(await people(friend.ws))).toEqual([stranger.userId]);
  });

  it("never shows a user blocked either way, until the block is lifted", async () => {
    const base = place();
    const alice = await online("alice", base);
    const blockedByAlice = await online("blocked", from(base, 300));
    const blocksAlice = await online("blocker", from(base, 600));
    const other = await online("other", from(base, 900));

    expect(ids(await people(alice.ws))).toEqual([
      blockedByAlice.userId,
      blocksAlice.userId,
      other.userId,
    ]);
    expect(
      (await http("POST", "/blocks", alice.token, { userId: blockedByAlice.userId })).status,
    ).toBe(204);
    expect(
      (await http("POST", "/blocks", blocksAlice.token, { userId: alice.userId })).status,
    ).toBe(204);

    expect(ids(await people(alice.ws))).toEqual([other.userId]);
    expect(ids(await people(blockedByAlice.ws))).not.toContain(alice.userId);
    expect(ids(await people(blocksAlice.ws))).not.toContain(alice.userId);

    await http("DELETE", `/blocks/${blockedByAlice.userId}`, alice.token);
    expect(ids(await people(alice.ws))).toEqual([blockedByAlice.userId, other.userId]);
  });

  it("hides a user in ghost mode, and shows them again when it is turned off", async () => {
    const base = place();
    const alice = await online("alice", base, {});
    const ghost = await online("ghost", from(base, 400), { discoverable: true, sharing: "off" });
    const hides = await online("hides", from(base, 800), { discoverable: true });
    await http("PUT", "/me/settings", hides.token, { friends: { [alice.userId]: "hidden" } });

    expect(await people(alice.ws)).toEqual([]);
    await http("PUT", "/me/settings", ghost.token, { sharing: "on" });
    expect(ids(await people(alice.ws))).toEqual([ghost.userId]);
  });

  it("never shows a user who went offline", async () => {
    const base = place();
    const alice = await online("alice", base, {});
    const bob = await online("bob", from(base, 400));
    expect(ids(await people(alice.ws))).toEqual([bob.userId]);

    await bob.ws.close();
    let list = await people(alice.ws);
    for (let i = 0; i < 20 && list.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 100)); // $disconnect runs after the close
      list = await people(alice.ws);
    }
    expect(list).toEqual([]);
  });

  it("answers an empty list to a caller with no stored position, and refuses a bad limit", async () => {
    const base = place();
    await online("bob", from(base, 100));
    const alice = await newUser("alice");
    const ws = await sessions.connect(alice.token);
    // A session needs no `init` for this frame; without a position there is no list.
    await ws.request({ action: "ping" });
    const reply = await ws.request({ action: "nearbyPeople" });
    expect(reply).toMatchObject({ type: "nearbyPeople", people: [] });

    for (const limit of [0, 51, 2.5, "10"]) {
      const bad = await ws.request({ action: "nearbyPeople", limit });
      expect(bad).toMatchObject({
        type: "error",
        code: "invalid_request",
        message: "limit must be an integer between 1 and 50",
      });
    }
  });
});

describe("blocks API", () => {
  const block = (by: TestUser, userId: string) => http("POST", "/blocks", by.token, { userId });

  it("blocks idempotently, lists the caller's blocks only, and unblocks idempotently", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const carol = await newUser("carol");

    expect(await block(alice, bob.userId)).toEqual({ status: 204, body: null });
    expect(await block(alice, bob.userId)).toEqual({ status: 204, body: null });
    expect(await block(carol, alice.userId)).toEqual({ status: 204, body: null });

    const list = await http("GET", "/blocks", alice.token);
    expect(list).toEqual({
      status: 200,
      body: { blocks: [{ userId: bob.userId, displayName: "bob", since: expect.any(Number) }] },
    });
    expect((await http("GET", "/blocks", bob.token)).body).toEqual({ blocks: [] });

    expect((await http("DELETE", `/blocks/${bob.userId}`, alice.token)).status).toBe(204);
    expect((await http("DELETE", `/blocks/${bob.userId}`, alice.token)).status).toBe(204);
    expect((await http("GET", "/blocks", alice.token)).body).toEqual({ blocks: [] });
    expect(
      (await http("POST", "/friends/requests", alice.token, { userId: bob.userId })).status,
    ).toBe(201);

    // A block each way: lifting one keeps the other.
    expect(await block(alice, carol.userId)).toEqual({ status: 204, body: null });
    expect((await http("DELETE", `/blocks/${carol.userId}`, alice.token)).status).toBe(204);
    expect((await http("GET", "/blocks", carol.token)).body).toEqual({
      blocks: [{ userId: alice.userId, displayName: "alice", since: expect.any(Number) }],
    });
    const req = await http("POST", "/friends/requests", alice.token, { userId: carol.userId });
    expect(req.status).toBe(404);
  });

  it("refuses oneself, an unknown user and bad input with the protocol's errors", async () => {
    const alice = await newUser("alice");
    expect(await block(alice, alice.userId)).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request", message: expect.stringContaining("userId") } },
    });
    expect(await block(alice, "nobody-at-all-x")).toMatchObject({
      status: 404,
      body: { error: { code: "not_found" } },
    });
    expect(await http("POST", "/blocks", alice.token, { userId: "not valid!" })).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request", message: expect.stringContaining("userId") } },
    });
    expect(await http("POST", "/blocks", alice.token, "{")).toMatchObject({
      status: 400,
      body: { error: { code: "invalid_request" } },
    });
    expect((await http("DELETE", "/blocks/%ff", alice.token)).status).toBe(400);
    expect((await http("GET", "/blocks")).status).toBe(401);
  });

  it("answers friend requests either way with 404 exactly as for a missing user", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    await http("POST", "/friends/requests", bob.token, { userId: alice.userId }); // pending
    expect((await block(alice, bob.userId)).status).toBe(204);

    expect((await http("GET", "/friends/requests", alice.token)).body).toEqual({
      incoming: [],
      outgoing: [],
    });
    const missing = await http("POST", "/friends/requests", bob.token, { userId: "nobody-x" });
    for (const [from, to] of [
      [bob, alice],
      [alice, bob],
    ] as const) {
      const res = await http("POST", "/friends/requests", from.token, { userId: to.userId });
      expect(res.status).toBe(404);
      expect(res.body).toEqual({
        error: {
          code: "not_found",
          message: (missing.body as { error: { message: string } }).error.message.replace(
            "nobody-x",
            to.userId,
          ),
        },
      });
    }
    expect((await http("POST", `/friends/requests/${bob.userId}/accept`, alice.token)).status).toBe(
      404,
    );
  });

  it("ends a friendship at once: away on both sides, no more pushes, not friends any more", async () => {
    const base = place();
    const alice = await online("alice", base, {});
    const bob = await online("bob", from(base, 600), {});
    await makeFriends(alice, bob);
    await alice.ws.request({ action: "subscribe", friendId: bob.userId });
    await bob.ws.request({ action: "subscribe", friendId: alice.userId });
    // Bob moves: alice is shown him nearby by a push.
    bob.ws.send({ action: "location", ...from(base, 700) });
    await alice.ws.next(isPushAbout(bob.userId));

    expect((await block(bob, alice.userId)).status).toBe(204);

    await alice.ws.next(isPushAbout(bob.userId, "away"));
    await bob.ws.next(isPushAbout(alice.userId, "away"));
    expect((await http("GET", "/friends", alice.token)).body).toEqual({ friends: [] });
    expect((await http("GET", "/friends", bob.token)).body).toEqual({ friends: [] });
    const mark = alice.ws.frames.length;
    bob.ws.send({ action: "location", ...from(base, 900) });
    const sub = await alice.ws.request({ action: "subscribe", friendId: bob.userId });
    expect(sub).toMatchObject({ type: "error", code: "not_friends" });
    await new Promise((r) => setTimeout(r, 1500));
    expect(alice.ws.frames.slice(mark).filter(isPushAbout(bob.userId))).toEqual([]);
  });
});
