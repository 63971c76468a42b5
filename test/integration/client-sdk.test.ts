// The client SDK (client/) against a running stack: two users through the SDK's WebSocket session
// and its HTTP part, as the live map and the simulator will use them.
import { afterEach, describe, expect, it } from "vitest";
import {
  type ConnectOptions,
  createHttpClient,
  type FriendPosition,
  type HttpClient,
  type LocationInput,
  type NearbyFriendsClient,
  NearbyFriendsError,
} from "../../client/index.ts";
import { at, httpUrl, newUser, type TestUser } from "./client.ts";
import { next, SdkSessions } from "./sdk.ts";

const sdk = new SdkSessions();
afterEach(() => sdk.closeAll());

/** A session of `user`, at `position` for its first `init` when given. */
const session = (
  user: TestUser,
  position?: LocationInput,
  options: Partial<ConnectOptions> = {},
): NearbyFriendsClient => sdk.connect(user, { ...(position ? { position } : {}), ...options });

const api = (user: TestUser): HttpClient =>
  createHttpClient({ url: httpUrl(), token: async () => user.token });

/** Two new users made friends through the SDK's HTTP part. */
async function friends(): Promise<{ alice: TestUser; bob: TestUser }> {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  expect(await api(alice).sendFriendRequest(bob.userId)).toEqual({ status: "pending" });
  expect(await api(bob).acceptFriendRequest(alice.userId)).toEqual({ status: "friends" });
  return { alice, bob };
}

const near = (f: FriendPosition, metres: number) => Math.abs(f.distanceM - metres) <= 2;

describe("client SDK session", () => {
  it("shows a friend nearby at the right distance, follows their moves, and drops them when they leave", async () => {
    // Prepare: bob online first, then alice 500 m away.
    const { alice, bob } = await friends();
    const bobClient = session(bob, at(0));
    await next(bobClient, "init");
    const aliceNearby = next(bobClient, "nearby", (f) => f.userId === alice.userId);
    const aliceClient = session(alice, at(500));
    const aliceInit = next(aliceClient, "init");

    // Act 1 / Assess 1: bob is told alice is nearby, and alice's snapshot holds bob.
    const [shown] = await aliceNearby;
    expect(shown).toMatchObject({ userId: alice.userId, precision: "precise", ...at(500) });
    expect(near(shown, 500)).toBe(true);
    await aliceInit;
    expect(aliceClient.friends.get(bob.userId)?.distanceM).toBeCloseTo(500, -1);
    expect(aliceClient.state).toBe("open");

    // Act 2: alice moves to 1 500 m.
    const moved = next(bobClient, "nearby", (f) => f.userId === alice.userId && near(f, 1500));
    aliceClient.updateLocation(at(1500));

    // Assess 2: bob's model follows, `at` moving forward.
    const [after, before] = await moved;
    expect(after.at).toBeGreaterThan(before?.at ?? 0);
    expect(bobClient.friends.get(alice.userId)).toEqual(after);

    // Act 3: alice closes her client (her last connection).
    const away = next(bobClient, "away", (f) => f.userId === alice.userId);
    aliceClient.close();

    // Assess 3
    const [gone, reason] = await away;
    expect(reason).toBe("away");
    expect(gone.userId).toBe(alice.userId);
    expect(bobClient.friends.has(alice.userId)).toBe(false);
  });

  it("waits for the first position before init, and answers requests before it", async () => {
    const { alice, bob } = await friends();
    const bobClient = session(bob, at(0));
    await next(bobClient, "init");
    const aliceClient = session(alice);
    await next(aliceClient, "state", (s) => s === "open");

    const pong = await aliceClient.ping();
    expect(pong.serverTime).toBeGreaterThan(0);
    const inited = next(aliceClient, "init");
    aliceClient.updateLocation({ ...at(300), accuracyM: 10 });

    const [info] = await inited;
    expect(info.self).toMatchObject(at(300));
    expect(info.radiusM).toBeGreaterThan(0);
    expect([...aliceClient.friends.keys()]).toEqual([bob.userId]);
  });

  it("follows a friendship made after init through subscribe, and unsubscribe drops the friend", async () => {
    // Prepare: alice online; carol becomes her friend afterwards and comes online nearby.
    const alice = await newUser("alice");
    const carol = await newUser("carol");
    const aliceClient = session(alice, at(0));
    await next(aliceClient, "init");
    const carolClient = session(carol, at(200));
    await next(carolClient, "init");
    await api(carol).sendFriendRequest(alice.userId);
    await api(alice).acceptFriendRequest(carol.userId);

    // Act 1
    const shown = await aliceClient.subscribe(carol.userId);

    // Assess 1
    expect(shown).toMatchObject({ userId: carol.userId, ...at(200) });
    expect(aliceClient.friends.has(carol.userId)).toBe(true);

    // Act 2
    const away = next(aliceClient, "away", (f) => f.userId === carol.userId);
    await aliceClient.unsubscribe(carol.userId);

    // Assess 2: dropped at once, and carol's moves no longer reach alice.
    expect((await away)[1]).toBe("unsubscribed");
    carolClient.updateLocation(at(400));
    await new Promise((r) => setTimeout(r, 1500));
    expect(aliceClient.friends.has(carol.userId)).toBe(false);
  });

  it("rejects a subscribe to someone who is not a friend with not_friends", async () => {
    const alice = await newUser("alice");
    const mallory = await newUser("mallory");
    const aliceClient = session(alice, at(0));
    await next(aliceClient, "init");

    const error = await aliceClient.subscribe(mallory.userId).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NearbyFriendsError);
    expect(error).toMatchObject({ code: "not_friends" });
    expect(aliceClient.state).toBe("open");
  });

  it("fetches every page of a large snapshot", async () => {
    // Prepare: alice with 5 friends online around her, and a page size of 2.
    const alice = await newUser("alice");
    const others = await Promise.all([1, 2, 3, 4, 5].map((i) => newUser(`f${i}`)));
    for (const [i, other] of others.entries()) {
      await api(alice).sendFriendRequest(other.userId);
      await api(other).acceptFriendRequest(alice.userId);
      const c = session(other, at(100 * (i + 1)));
      await next(c, "init");
    }

    // Act
    const aliceClient = session(alice, at(0), { pageSize: 2 });
    await next(aliceClient, "init");

    // Assess
    expect([...aliceClient.friends.keys()].sort()).toEqual(others.map((o) => o.userId).sort());
  });

  it("takes the reporting cadence from the init reply and follows the cadence push", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    await api(alice).sendFriendRequest(bob.userId);
    await api(bob).acceptFriendRequest(alice.userId);
    const aliceClient = session(alice, at(0), { followCadence: true });
    const cadences: number[] = [];
    aliceClient.on("cadence", (s) => cadences.push(s));
    await next(aliceClient, "init");
    expect(aliceClient.reportEveryS).toBe(300); // nobody watches her yet
    expect(aliceClient.session?.reportEveryS).toBe(300);

    // bob connects 1 km away: his connection watches alice.
    const told = next(aliceClient, "cadence", (s) => s === 10);
    const bobClient = session(bob, at(1000), { followCadence: true });
    await next(bobClient, "init");
    await told;

    expect(bobClient.reportEveryS).toBe(10);
    expect(aliceClient.reportEveryS).toBe(10);
    expect(cadences).toEqual([300, 10]);
  });
});

describe("client SDK: blocks, share links, nearby people", () => {
  it("blocks and unblocks, creates, lists and revokes share links, and lists discoverable people", async () => {
    const alice = await newUser("alice");
    const erin = await newUser("erin");
    const mallory = await newUser("mallory");

    await api(alice).block(mallory.userId);
    expect((await api(alice).listBlocks()).map((b) => b.userId)).toEqual([mallory.userId]);
    await api(alice).unblock(mallory.userId);
    expect(await api(alice).listBlocks()).toEqual([]);

    const link = await api(alice).createShareLink({ expiresInS: 600, precision: "approximate" });
    expect(link.token.length).toBeGreaterThan(40);
    const listed = await api(alice).listShareLinks();
    expect(listed).toEqual([
      {
        id: link.id,
        precision: "approximate",
        createdAt: expect.any(Number),
        expiresAt: link.expiresAt,
      },
    ]);
    await api(alice).revokeShareLink(link.id);
    expect(await api(alice).listShareLinks()).toEqual([]);

    // erin, a stranger, is discoverable 2 km away; alice lists her at a cell centre.
    await api(erin).updateSettings({ discoverable: true });
    const erinClient = session(erin, at(2000));
    await next(erinClient, "init");
    const aliceClient = session(alice, at(0));
    await next(aliceClient, "init");
    const people = await aliceClient.nearbyPeople(5);
    expect(people.map((p) => [p.userId, p.precision])).toEqual([[erin.userId, "approximate"]]);
  });
});

describe("client SDK HTTP part", () => {
  it("reads and updates the profile", async () => {
    const alice = await newUser("alice");

    expect(await api(alice).getProfile()).toEqual({ userId: alice.userId, displayName: "alice" });
    expect(await api(alice).updateProfile({ displayName: "  Alice A. " })).toEqual({
      userId: alice.userId,
      displayName: "Alice A.",
    });
    await expect(api(alice).updateProfile({ displayName: "" })).rejects.toMatchObject({
      code: "invalid_request",
      status: 400,
    });
  });

  it("runs the friend request flow", async () => {
    const alice = await newUser("alice");
    const bob = await newUser("bob");
    const carol = await newUser("carol");

    expect(await api(alice).sendFriendRequest(bob.userId)).toEqual({ status: "pending" });
    expect(await api(alice).sendFriendRequest(carol.userId)).toEqual({ status: "pending" });
    const requests = await api(bob).listFriendRequests();
    expect(requests.incoming.map((r) => r.userId)).toEqual([alice.userId]);
    expect(requests.outgoing).toEqual([]);
    await api(carol).deleteFriendRequest(alice.userId);
    expect((await api(alice).listFriendRequests()).outgoing.map((r) => r.userId)).toEqual([
      bob.userId,
    ]);
    expect(await api(bob).acceptFriendRequest(alice.userId)).toEqual({ status: "friends" });
    expect(await api(alice).listFriends()).toEqual([
      { userId: bob.userId, displayName: "bob", since: expect.any(Number) },
    ]);
    await expect(api(alice).sendFriendRequest(bob.userId)).rejects.toMatchObject({
      code: "conflict",
      status: 409,
    });
    await api(bob).removeFriend(alice.userId);
    expect(await api(alice).listFriends()).toEqual([]);
    await expect(api(alice).removeFriend(bob.userId)).rejects.toMatchObject({
      code: "not_found",
      status: 404,
    });
  });

  it("updates settings partially", async () => {
    const alice = await newUser("alice");

    const ghost = await api(alice).updateSettings({
      sharing: "off",
      friends: { bob: "approximate", eve: "precise" },
    });
    const after = await api(alice).updateSettings({ ghostUntil: 4_102_444_800_000 });

    expect(ghost).toEqual({
      sharing: "off",
      ghostUntil: null,
      friends: { bob: "approximate" },
      discoverable: false,
    });
    expect(after).toEqual({
      sharing: "off",
      ghostUntil: 4_102_444_800_000,
      friends: { bob: "approximate" },
      discoverable: false,
    });
    expect(await api(alice).getSettings()).toEqual(after);
  });

  it("lists the published positions in the history, and erases them", async () => {
    const alice = await newUser("alice");
    const aliceClient = session(alice, { ...at(0), accuracyM: 7 });
    await next(aliceClient, "init");
    aliceClient.updateLocation(at(1000));

    let items: { lat: number }[] = [];
    for (let i = 0; i < 40 && items.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 250));
      items = (await api(alice).getHistory({ limit: 10 })).items;
    }

    expect(items.map((h) => h.lat)).toEqual([at(1000).lat, at(0).lat]);
    const page = await api(alice).getHistory({ limit: 1 });
    expect(page.items).toHaveLength(1);
    expect(page.cursor).not.toBeNull();
    await api(alice).deleteHistory();
    expect((await api(alice).getHistory()).items).toEqual([]);
  });

  it("refuses a bad token with unauthorized", async () => {
    const error = await createHttpClient({ url: httpUrl(), token: "garbage" })
      .getProfile()
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(NearbyFriendsError);
    expect(error).toMatchObject({ code: "unauthorized", status: 401 });
  });
});
