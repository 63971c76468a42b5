// The reporting cadence through the stack (PROTOCOL §2.11): `reportEveryS` in the init reply, and a
// `cadence` push when a close friend connects, leaves, or the user hides from them.
import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_TUNABLES } from "../../functions/config.ts";
import { at, type Frame, http, makeFriends, newUser, Session, Sessions } from "./client.ts";

const FAST = DEFAULT_TUNABLES.reportFastS;
const SLOW = DEFAULT_TUNABLES.reportSlowS;
const FAR_M = DEFAULT_TUNABLES.radiusM + DEFAULT_TUNABLES.cadenceMarginM + 2000;

const sessions = new Sessions();
afterEach(() => sessions.closeAll());

const cadence = (every: number) => (f: Frame) => f.type === "cadence" && f.reportEveryS === every;

/** alice and bob, friends: bob connects at `at(0)`, then alice `aliceAtM` north; their inits. */
async function friendsConnect(aliceAtM: number) {
  const alice = await newUser("alice");
  const bob = await newUser("bob");
  await makeFriends(alice, bob);
  const bobWs = await sessions.connect(bob.token);
  const bobInit = await bobWs.request({ action: "init", ...at(0) });
  const aliceWs = await sessions.connect(alice.token);
  const aliceInit = await aliceWs.request({ action: "init", ...at(aliceAtM) });
  return { alice, bob, bobWs, aliceWs, bobInit, aliceInit };
}

describe("reporting cadence", () => {
  it("is slow alone, fast while a close friend watches, slow again when they leave", async () => {
    // bob alone first; then alice 3 km away: her connection watches bob, and bob's watches her.
    const { alice, bob, bobWs, aliceWs, bobInit, aliceInit } = await friendsConnect(3000);
    expect(bobInit.reportEveryS).toBe(SLOW);
    expect(aliceInit.reportEveryS).toBe(FAST);
    await bobWs.next(cadence(FAST));

    // bob hides from alice: nobody may see him, so he is asked to report slowly; then he shows.
    const mark = bobWs.frames.length;
    expect(
      (await http("PUT", "/me/settings", bob.token, { friends: { [alice.userId]: "hidden" } }))
        .status,
    ).toBe(200);
    await bobWs.next(cadence(SLOW), 5000, mark);
    await http("PUT", "/me/settings", bob.token, { friends: {} });
    await bobWs.next(cadence(FAST), 5000, mark);

    // alice leaves: bob is told within a few seconds.
    const beforeLeave = bobWs.frames.length;
    await aliceWs.close();
    await bobWs.next(cadence(SLOW), 5000, beforeLeave);
    expect(aliceWs.frames.filter((f) => f.type === "cadence")).toEqual([]);
  });

  it("turns slow for both at once when the friendship ends", async () => {
    const { alice, bob, bobWs, aliceWs, aliceInit } = await friendsConnect(1000);
    expect(aliceInit.reportEveryS).toBe(FAST);
    await bobWs.next(cadence(FAST));

    expect((await http("DELETE", `/friends/${bob.userId}`, alice.token)).status).toBe(204);

    await bobWs.next(cadence(SLOW));
    await aliceWs.next(cadence(SLOW));
  });

  it("stays slow when the only friend online is beyond radius + margin", async () => {
    const { bobWs, aliceWs, aliceInit } = await friendsConnect(FAR_M);

    expect(aliceInit.reportEveryS).toBe(SLOW);
    // Nothing changed for bob: no push (give the stack time to have sent one).
    await aliceWs.request({ action: "ping" });
    await bobWs.request({ action: "ping" });
    expect(bobWs.frames.filter((f) => f.type === "cadence")).toEqual([]);
  });

  it("is fast while a share link of the user is watched, slow again when the viewer leaves", async () => {
    const alice = await newUser("alice");
    const aliceWs = await sessions.connect(alice.token);
    expect((await aliceWs.request({ action: "init", ...at(0) })).reportEveryS).toBe(SLOW);
    const link = await http("POST", "/share-links", alice.token, {
      expiresInS: 600,
      precision: "approximate",
    });
    expect(link.status).toBe(201);

    const viewer = await Session.watch((link.body as { token: string }).token);
    await aliceWs.next(cadence(FAST));
    const mark = aliceWs.frames.length;
    await viewer.close();

    await aliceWs.next(cadence(SLOW), 5000, mark);
  });
});
