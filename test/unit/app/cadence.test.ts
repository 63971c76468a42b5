// The reporting cadence as the use cases apply it: decided where the audience changes, pushed to
// the user's connections only when it changes (the rule itself: test/unit/cadence.test.ts).
import { describe, expect, it } from "vitest";
import { block } from "../../../functions/app/blocks.ts";
import { CADENCE_REVIEW_MS, reviewStaleCadences } from "../../../functions/app/cadence.ts";
import { unfriend } from "../../../functions/app/friends.ts";
import { recordLocation } from "../../../functions/app/location.ts";
import { disconnect, subscribe, unsubscribe } from "../../../functions/app/session.ts";
import { updateSettings } from "../../../functions/app/settings.ts";
import { T0, type World, world } from "../../support/fakes.ts";
import { HOME, north } from "../../support/places.ts";

const FAST = 10;
const SLOW = 300;

/** alice and bob, friends; bob online (connection b1) at `bobAt`, then alice (a1) at HOME. */
async function pair(bobAt = north(2000)) {
  const w = world();
  w.friendships.befriend("alice", "bob");
  const bobReply = await w.online("bob", "b1", bobAt);
  const aliceReply = await w.online("alice", "a1", HOME);
  return { w, bobReply, aliceReply };
}

const cadencePushes = (w: World, connectionId: string) =>
  w.cadenceNotifier.framesTo(connectionId) as unknown as { type: string; reportEveryS: number }[];

describe("reporting cadence", () => {
  it("is slow for a user nobody watches, fast once a close friend connects, and the first is told", async () => {
    const { w, bobReply, aliceReply } = await pair();

    // bob was alone when he connected; alice's connection now watches him from 2 km.
    expect(bobReply.reportEveryS).toBe(SLOW);
    expect(cadencePushes(w, "b1")).toEqual([{ type: "cadence", reportEveryS: FAST }]);
    // alice is watched by bob's connection (it followed her at his init) and told in her reply.
    expect(aliceReply.reportEveryS).toBe(FAST);
    expect(cadencePushes(w, "a1")).toEqual([]);
    // Decided anew: bob's first (in his reply), bob's change (pushed), alice's first (in her reply).
    expect(w.telemetry.counts.get("CadenceChanges")).toBe(3);
  });

  it("stays slow when the friend who connects is beyond radius + margin", async () => {
    const far = north(w0().tunables.radiusM + w0().tunables.cadenceMarginM + 500);
    const { w, aliceReply } = await pair(far);

    expect(aliceReply.reportEveryS).toBe(SLOW);
    expect(cadencePushes(w, "b1")).toEqual([]);
  });

  it("turns slow when the last close watcher disconnects", async () => {
    const { w } = await pair();

    await disconnect(w.session, "alice", "a1");

    expect(cadencePushes(w, "b1")).toEqual([
      { type: "cadence", reportEveryS: FAST },
      { type: "cadence", reportEveryS: SLOW },
    ]);
  });

  it("follows unsubscribe and subscribe", async () => {
    const { w } = await pair();

    await unsubscribe(w.session, "alice", "a1", "bob");
    await subscribe(w.session, "alice", "a1", "bob");

    expect(cadencePushes(w, "b1").map((f) => f.reportEveryS)).toEqual([FAST, SLOW, FAST]);
  });

  it("turns slow when the user hides from the only watcher, and fast again when they show", async () => {
    const { w } = await pair();
    const deps = {
      ...w.updateSettings,
      republish: async () => undefined,
    };

    await updateSettings(deps, "bob", { friends: { alice: "hidden" } });
    await updateSettings(deps, "bob", { friends: { alice: "approximate" } });

    expect(cadencePushes(w, "b1").map((f) => f.reportEveryS)).toEqual([FAST, SLOW, FAST]);
  });

  it("turns slow for both at once when they stop being friends (unfriend or block)", async () => {
    for (const end of [
      (w: World) => unfriend(w.unfriend, "alice", "bob"),
      (w: World) => block(w.blocking, "bob", "alice"),
    ]) {
      const { w } = await pair();
      await w.users.put({ userId: "alice", displayName: "Alice" });

      await end(w);

      expect(cadencePushes(w, "b1").at(-1)).toEqual({ type: "cadence", reportEveryS: SLOW });
      expect(cadencePushes(w, "a1").at(-1)).toEqual({ type: "cadence", reportEveryS: SLOW });
    }
  });

  it("asks for the next report when ghost mode ends", async () => {
    const { w } = await pair();

    await updateSettings(w.updateSettings, "bob", { sharing: "off", ghostUntil: T0 + 120_000 });

    expect(cadencePushes(w, "b1").at(-1)).toEqual({ type: "cadence", reportEveryS: 120 });
  });

  it("is decided again by the fan-out once it is older than the review period, not before", async () => {
    const { w } = await pair();
    const gone = north(w.tunables.radiusM + w.tunables.cadenceMarginM + 1000);
    // bob drives away; alice's connection still watches him, from too far now.
    await recordLocation(w.session, { userId: "bob", connectionId: "b1", ...gone });

    await reviewStaleCadences(w.cadence, ["bob"]);
    expect(w.cadenceStore.current("bob")).toBe(FAST);

    w.clock.advance(CADENCE_REVIEW_MS + 1);
    await reviewStaleCadences(w.cadence, ["bob"]);
    expect(w.cadenceStore.current("bob")).toBe(SLOW);
    expect(cadencePushes(w, "b1").at(-1)).toEqual({ type: "cadence", reportEveryS: SLOW });
  });

  it("does not fail the fan-out when the review fails: it logs it", async () => {
    const { w } = await pair();
    w.clock.advance(CADENCE_REVIEW_MS + 1);
    w.positions.faults.fail("positions", new Error("Connection is closed"));

    await expect(reviewStaleCadences(w.cadence, ["bob"])).resolves.toBeUndefined();
    expect(w.log.lines.map((e) => e.message)).toContain("reporting cadence review failed");
  });

  it("tells every other connection of the user, not the one whose init carries it", async () => {
    const { w } = await pair();
    await disconnect(w.session, "alice", "a1");
    const b1Before = cadencePushes(w, "b1").length;

    // bob opens a second connection, then alice comes back.
    await w.online("bob", "b2", north(2000));
    await w.online("alice", "a2", HOME);

    expect(cadencePushes(w, "b1").slice(b1Before)).toEqual([
      { type: "cadence", reportEveryS: FAST },
    ]);
    expect(cadencePushes(w, "b2")).toEqual([{ type: "cadence", reportEveryS: FAST }]);
  });
});

function w0() {
  return world();
}
