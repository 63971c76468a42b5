import { describe, expect, it } from "vitest";
import { getSettings, updateSettings } from "../../../functions/app/settings.ts";
import { T0, world } from "../../support/fakes.ts";
import { HOME, north } from "../../support/places.ts";

describe("updateSettings", () => {
  it("stores, caches and republishes the user's position", async () => {
    // Prepare
    const w = world();
    await w.online("alice", "a1", HOME);
    w.publisher.take();
    w.clock.advance(1000);

    // Act
    const out = await updateSettings(w.updateSettings, "alice", {
      friends: { bob: "approximate", carol: "precise" },
    });

    // Assess
    const expected = {
      sharing: "on",
      ghostUntil: null,
      friends: { bob: "approximate" },
      discoverable: false,
    };
    expect(out).toEqual(expected);
    expect(await getSettings(w.updateSettings, "alice")).toEqual(expected);
    expect(w.settingsCache.entries.get("alice")).toEqual(expected);
    expect(w.publisher.take().map((r) => r.event)).toEqual([
      { v: 1, kind: "position", userId: "alice", ...HOME, at: T0 + 1000 },
    ]);
    expect(w.telemetry.counts.get("LocationsReceived")).toBe(1); // alice's init only
  });

  it("keeps the fields an update leaves out", async () => {
    // Prepare
    const w = world();
    await updateSettings(w.updateSettings, "alice", { friends: { bob: "hidden" } });

    // Act
    const out = await updateSettings(w.updateSettings, "alice", {
      sharing: "off",
      ghostUntil: T0 + 60_000,
    });

    // Assess
    expect(out).toEqual({
      sharing: "off",
      ghostUntil: T0 + 60_000,
      friends: { bob: "hidden" },
      discoverable: false,
    });
  });

  it("turns discoverable on and off, keeping it when an update leaves it out", async () => {
    // Prepare
    const w = world();

    // Act
    const on = await updateSettings(w.updateSettings, "alice", { discoverable: true });
    const kept = await updateSettings(w.updateSettings, "alice", { sharing: "off" });
    const off = await updateSettings(w.updateSettings, "alice", { discoverable: false });

    // Assess
    expect(on.discoverable).toBe(true);
    expect(kept).toMatchObject({ sharing: "off", discoverable: true });
    expect(off).toMatchObject({ sharing: "off", discoverable: false });
    expect(w.settingsCache.entries.get("alice")?.discoverable).toBe(false);
  });

  it("stores and caches, but publishes nothing, for a user who is offline", async () => {
    // Prepare
    const w = world();

    // Act
    await updateSettings(w.updateSettings, "alice", { sharing: "off" });

    // Assess
    expect(w.settingsCache.entries.get("alice")?.sharing).toBe("off");
    expect(w.publisher.events).toEqual([]);
  });

  it("takes effect for connected friends at once: ghost mode sends away, sharing again sends nearby", async () => {
    // Prepare
    const w = world();
    w.friendships.befriend("alice", "bob");
    await w.online("alice", "a1", HOME);
    await w.online("bob", "b1", north(1000));
    w.publisher.take();
    w.clock.advance(1000);

    // Act
    await updateSettings(w.updateSettings, "alice", { sharing: "off" });
    await w.deliver();
    w.clock.advance(1000);
    await updateSettings(w.updateSettings, "alice", { sharing: "on" });
    await w.deliver();

    // Assess
    expect(w.notifier.updatesTo("b1")).toEqual([
      { userId: "alice", state: "away", at: expect.any(Number) },
      {
        userId: "alice",
        state: "nearby",
        ...HOME,
        distanceM: 1000,
        at: T0 + 2000,
        precision: "precise",
      },
    ]);
  });
});
