// The client SDK recovering by itself on the local stack (local only: it drops connections and
// restarts Redis): a lost connection is reopened with init, and a lost session (init_required
// after a Redis restart) is re-established with init, friends' positions flowing again.
import { afterEach, describe, expect, it } from "vitest";
import {
  type ConnectOptions,
  createHttpClient,
  type NearbyFriendsClient,
  type NearbyFriendsError,
} from "../../client/index.ts";
import { at, http, httpUrl, newUser, type TestUser } from "./client.ts";
import { next, SdkSessions } from "./sdk.ts";

const sdk = new SdkSessions();
afterEach(() => sdk.closeAll());

const session = (user: TestUser, options: Partial<ConnectOptions> = {}): NearbyFriendsClient =>
  sdk.connect(user, options);

async function friendsOnline(options: Partial<ConnectOptions> = {}) {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  const api = (u: TestUser) => createHttpClient({ url: httpUrl(), token: u.token });
  await api(alice).sendFriendRequest(bob.userId);
  await api(bob).acceptFriendRequest(alice.userId);
  const bobClient = session(bob, { position: at(0), ...options });
  await next(bobClient, "init");
  const seen = next(bobClient, "nearby", (f) => f.userId === alice.userId);
  const aliceClient = session(alice, { position: at(500), ...options });
  await seen;
  return { alice, bob, aliceClient, bobClient };
}

describe("client SDK recovery (local stack)", () => {
  it("reopens a lost connection, sends init, and follows friends again", async () => {
    // Prepare
    const { alice, bob, bobClient, aliceClient } = await friendsOnline();
    const states: string[] = [];
    bobClient.on("state", (s) => states.push(s));
    const reinit = next(bobClient, "init");

    // Act: the gateway drops bob's connection without a close handshake.
    const lost = await http("POST", `/dev/lose-connections?userId=${bob.userId}`);
    expect(lost.body).toEqual({ lost: 1 });
    await reinit;
    const moved = next(bobClient, "nearby", (f) => f.userId === alice.userId && f.distanceM > 1400);
    aliceClient.updateLocation(at(1500));

    // Assess
    expect(states).toEqual(["reconnecting", "open"]);
    expect((await moved)[0]).toMatchObject({ userId: alice.userId, ...at(1500) });
  });

  it("re-establishes the session after a Redis restart (init_required) without the app noticing", async () => {
    // Prepare: a short heartbeat, so that both clients send a frame soon after the restart.
    const { alice, aliceClient, bobClient } = await friendsOnline({ heartbeatMs: 500 });
    const errors: NearbyFriendsError[] = [];
    for (const c of [aliceClient, bobClient]) {
      c.on("error", (e) => errors.push(e as NearbyFriendsError));
    }
    const reinits = [next(aliceClient, "init"), next(bobClient, "init")];

    // Act: Redis dies for 1 s and comes back empty; then alice moves.
    const restarted = await http("POST", "/dev/redis/restart?downMs=1000");
    expect(restarted.status).toBe(200);
    await Promise.all(reinits);
    const moved = next(bobClient, "nearby", (f) => f.userId === alice.userId && f.distanceM > 700);
    aliceClient.updateLocation(at(800));

    // Assess: bob sees alice's move; nothing reached the app as an error.
    expect((await moved)[0]).toMatchObject({ userId: alice.userId, ...at(800) });
    expect(errors).toEqual([]);
    expect(aliceClient.state).toBe("open");
    expect(bobClient.state).toBe("open");
  });
});
