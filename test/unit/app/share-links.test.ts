// Use cases of share links with in-memory fakes: creating (token shown once, stored hashed, at most
// 10 active), listing, revoking and expiring (viewers told `shareEnded` and closed), a viewer's
// handshake (at most 20 per link, a link revoked meanwhile refused, the user's state published for
// it) and what the fan-out then pushes to viewers.
import { describe, expect, it } from "vitest";
import { fanOut } from "../../../functions/app/fanout.ts";
import {
  authorizeViewer,
  connectViewer,
  createShareLink,
  disconnectViewer,
  endShareLink,
  listShareLinks,
  revokeShareLink,
  type ViewerPrincipal,
} from "../../../functions/app/share-links.ts";
import { AppError } from "../../../functions/domain/errors.ts";
import { hashShareToken } from "../../../functions/domain/share-links.ts";
import { T0, type World, world } from "../../support/fakes.ts";
import { HOME, north } from "../../support/places.ts";

const precise = { expiresInS: 3600, precision: "precise" } as const;

async function viewerOf(w: World, token: string): Promise<ViewerPrincipal> {
  const v = await authorizeViewer(w.shares, token);
  if (!v) throw new Error("the token opens no link");
  return v;
}

describe("createShareLink / listShareLinks", () => {
  it("returns the token once, stores only its hash, schedules the expiry, and lists no token", async () => {
    const w = world();
    const created = await createShareLink(w.shares, "alice", precise);
    expect(created).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      url: `https://map.example/map?share=${created.token}`,
      expiresAt: T0 + 3_600_000,
    });
    const [stored] = await w.shareLinks.list("alice");
    expect(stored?.tokenHash).toBe(hashShareToken(created.token));
    expect(JSON.stringify(stored)).not.toContain(created.token);
    expect(w.scheduled).toEqual([{ ...stored }]);
    expect(await listShareLinks(w.shares, "alice")).toEqual([
      { id: created.id, precision: "precise", createdAt: T0, expiresAt: T0 + 3_600_000 },
    ]);
  });

  it("allows 10 active links; an expired one no longer counts nor lists", async () => {
    const w = world();
    await createShareLink(w.shares, "alice", { expiresInS: 60, precision: "approximate" });
    for (let i = 0; i < 9; i++) await createShareLink(w.shares, "alice", precise);
    await expect(createShareLink(w.shares, "alice", precise)).rejects.toMatchObject({
      code: "conflict",
    });
    w.clock.advance(60_000);
    expect(await listShareLinks(w.shares, "alice")).toHaveLength(9);
    await createShareLink(w.shares, "alice", precise);
    expect(await listShareLinks(w.shares, "alice")).toHaveLength(10);
  });
});

describe("authorizeViewer", () => {
  it("opens an active link only", async () => {
    const w = world();
    const { token, id } = await createShareLink(w.shares, "alice", precise);
    expect(await authorizeViewer(w.shares, token)).toEqual({
      sharedUserId: "alice",
      linkId: id,
      precision: "precise",
      expiresAt: T0 + 3_600_000,
    });
    expect(await authorizeViewer(w.shares, `${token.slice(0, -1)}A`)).toBeNull();
    expect(await authorizeViewer(w.shares, "short")).toBeNull();
    w.clock.advance(3_600_000);
    expect(await authorizeViewer(w.shares, token)).toBeNull();
  });
});

describe("a viewer's connection", () => {
  it("is refused over 20 per link; a leaving viewer frees a place", async () => {
    const w = world();
    const { token } = await createShareLink(w.shares, "alice", precise);
    const viewer = await viewerOf(w, token);
    for (let i = 0; i < 20; i++) await connectViewer(w.viewer, viewer, `v${i}`);
    await expect(connectViewer(w.viewer, viewer, "v20")).rejects.toMatchObject({
      code: "rate_limited",
    });
    await disconnectViewer(w.viewer, viewer, "v0");
    await connectViewer(w.viewer, viewer, "v20");
    expect(w.shareViewers.of("alice")).toHaveLength(20);
  });

  it("is refused (unauthorized) when the link was revoked after the authorizer let it in", async () => {
    const w = world();
    const { token, id } = await createShareLink(w.shares, "alice", precise);
    const viewer = await viewerOf(w, token);
    await revokeShareLink(w.shares, "alice", id);
    const refused = await connectViewer(w.viewer, viewer, "v1").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ code: "unauthorized" });
    expect(w.shareViewers.of("alice")).toEqual([]);
  });

  it("publishes the user's position again for it, or `offline` when the user has none", async () => {
    const w = world();
    const { token } = await createShareLink(w.shares, "alice", precise);
    const viewer = await viewerOf(w, token);
    await connectViewer(w.viewer, viewer, "v1");
    expect(w.publisher.take().map((r) => r.event)).toEqual([
      { v: 1, kind: "offline", userId: "alice", at: T0 },
    ]);
    await w.online("alice", "a1", HOME);
    w.publisher.take();
    w.clock.advance(1000);
    await connectViewer(w.viewer, viewer, "v2");
    expect(w.publisher.take().map((r) => r.event)).toMatchObject([
      { kind: "position", userId: "alice", ...HOME, at: T0 + 1000 },
    ]);
  });
});

describe("the fan-out to viewers", () => {
  it("pushes live frames at the link's precision, hidden in ghost mode, and drops gone viewers", async () => {
    const w = world();
    await w.users.createIfMissing({ userId: "alice", displayName: "Alice" });
    const precise1 = await createShareLink(w.shares, "alice", precise);
    const approx = await createShareLink(w.shares, "alice", {
      expiresInS: 600,
      precision: "approximate",
    });
    await w.online("alice", "a1", HOME);
    await connectViewer(w.viewer, await viewerOf(w, precise1.token), "vp");
    await connectViewer(w.viewer, await viewerOf(w, approx.token), "va");
    await w.deliver();
    const live = w.notifier.posts.filter((p) => p.connectionId === "vp").at(-1)?.frame;
    expect(live).toMatchObject({ type: "shared", displayName: "Alice", ...HOME, state: "live" });
    const approximate = w.notifier.posts.filter((p) => p.connectionId === "va").at(-1)?.frame;
    expect(approximate).toMatchObject({ precision: "approximate", state: "live" });
    expect(approximate).not.toMatchObject({ lat: HOME.lat });

    await w.settingsCache.put(
      new Map([
        ["alice", { sharing: "off" as const, ghostUntil: null, friends: {}, discoverable: false }],
      ]),
    );
    w.notifier.respond("va", "gone");
    w.clock.advance(5000);
    await w.positions.write(
      { userId: "alice", ...north(500), at: w.clock.now(), cell: "x" },
      { ttlS: 600, minMoveM: 0, heartbeatMs: 0 },
    );
    await fanOut(w.fanout, [
      {
        sequenceNumber: "9",
        event: { v: 1, kind: "position", userId: "alice", ...north(500), at: w.clock.now() },
      },
    ]);
    expect(w.notifier.posts.filter((p) => p.connectionId === "vp").at(-1)?.frame).toEqual({
      type: "shared",
      userId: "alice",
      state: "hidden",
    });
    expect(w.shareViewers.of("alice").map((v) => v.connectionId)).toEqual(["vp"]);
  });
});

describe("revokeShareLink / endShareLink", () => {
  it("ends the link's viewers only: shareEnded, then closed; a gone one is not closed", async () => {
    const w = world();
    const a = await createShareLink(w.shares, "alice", precise);
    const b = await createShareLink(w.shares, "alice", precise);
    await connectViewer(w.viewer, await viewerOf(w, a.token), "a1");
    await connectViewer(w.viewer, await viewerOf(w, a.token), "a2");
    await connectViewer(w.viewer, await viewerOf(w, b.token), "b1");
    w.notifier.clear();
    w.notifier.respond("a2", "gone");

    await revokeShareLink(w.shares, "alice", a.id);

    expect(w.notifier.posts).toEqual([
      { connectionId: "a1", frame: { type: "shareEnded" } },
      { connectionId: "a2", frame: { type: "shareEnded" } },
    ]);
    expect(w.closer.closed).toEqual(["a1"]);
    expect(w.shareViewers.of("alice").map((v) => v.connectionId)).toEqual(["b1"]);
    expect(await authorizeViewer(w.shares, a.token)).toBeNull();
    await expect(revokeShareLink(w.shares, "alice", a.id)).rejects.toMatchObject({
      code: "not_found",
    });
    // Expiry ends b's viewers the same way.
    expect(await endShareLink(w.shares, "alice", b.id)).toBe(1);
    expect(w.closer.closed).toEqual(["a1", "b1"]);
  });

  it("is not_found for another user's link", async () => {
    const w = world();
    const a = await createShareLink(w.shares, "alice", precise);
    await expect(revokeShareLink(w.shares, "mallory", a.id)).rejects.toMatchObject({
      code: "not_found",
    });
    expect(await listShareLinks(w.shares, "alice")).toHaveLength(1);
  });
});
