// The pure rules of share links: validation of a new link, the token's stored form, the URL, who
// hides from viewers, and the `shared` frame at each state and precision.
import { describe, expect, it } from "vitest";
import { snapToCellCentre } from "../../functions/domain/geo.ts";
import { DEFAULT_SETTINGS } from "../../functions/domain/settings.ts";
import {
  hashShareToken,
  hiddenFromViewers,
  MAX_SHARE_EXPIRES_IN_S,
  sharedFrame,
  shareLinkCreateSchema,
  shareUrl,
} from "../../functions/domain/share-links.ts";

const NOW = 1_763_770_000_000;
const P = { lat: 37.5665, lon: 126.978, at: NOW };

describe("shareLinkCreateSchema", () => {
  const schema = shareLinkCreateSchema();

  it("accepts 60 s to 7 days, whole seconds, and a precision", () => {
    for (const expiresInS of [60, 3600, MAX_SHARE_EXPIRES_IN_S]) {
      expect(schema.parse({ expiresInS, precision: "approximate" })).toEqual({
        expiresInS,
        precision: "approximate",
      });
    }
  });

  it("refuses anything else with a message naming the field", () => {
    for (const [body, field] of [
      [{ expiresInS: 59, precision: "precise" }, "expiresInS"],
      [{ expiresInS: 604_801, precision: "precise" }, "expiresInS"],
      [{ expiresInS: 60.5, precision: "precise" }, "expiresInS"],
      [{ expiresInS: "60", precision: "precise" }, "expiresInS"],
      [{ precision: "precise" }, "expiresInS"],
      [{ expiresInS: 60, precision: "exact" }, "precision"],
      [{ expiresInS: 60 }, "precision"],
      [{ expiresInS: 60, precision: "precise", token: "mine" }, "token"],
    ] as const) {
      const result = schema.safeParse(body);
      expect(result.success).toBe(false);
      expect(JSON.stringify(result.error?.issues)).toContain(field);
    }
  });

  it("takes a lower minimum only when told (the local stack's tests)", () => {
    expect(
      shareLinkCreateSchema(1).safeParse({ expiresInS: 1, precision: "precise" }).success,
    ).toBe(true);
    expect(schema.safeParse({ expiresInS: 1, precision: "precise" }).success).toBe(false);
  });
});

describe("tokens and URLs", () => {
  it("stores a token as its SHA-256, never as itself", () => {
    const hash = hashShareToken("abc");
    expect(hash).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(hashShareToken("abd")).not.toBe(hash);
  });

  it("puts the token in the map page's share parameter", () => {
    expect(shareUrl("http://127.0.0.1:8080/map", "t0K-en_")).toBe(
      "http://127.0.0.1:8080/map?share=t0K-en_",
    );
    expect(shareUrl("https://site.example/live?lang=en", "x")).toBe(
      "https://site.example/live?lang=en&share=x",
    );
  });
});

describe("hiddenFromViewers", () => {
  it("hides while sharing is off for good or until ghostUntil, as friends are hidden", () => {
    expect(hiddenFromViewers(undefined, NOW)).toBe(false);
    expect(hiddenFromViewers(DEFAULT_SETTINGS, NOW)).toBe(false);
    const off = { ...DEFAULT_SETTINGS, sharing: "off" as const };
    expect(hiddenFromViewers(off, NOW)).toBe(true);
    expect(hiddenFromViewers({ ...off, ghostUntil: NOW + 1 }, NOW)).toBe(true);
    expect(hiddenFromViewers({ ...off, ghostUntil: NOW }, NOW)).toBe(false);
    // Per-friend settings concern friends only.
    expect(hiddenFromViewers({ ...DEFAULT_SETTINGS, friends: { bob: "hidden" } }, NOW)).toBe(false);
  });
});

describe("sharedFrame", () => {
  const base = { userId: "alice", displayName: "Alice" };

  it("is live at the link's precision: approximate shows the cell centre, as friends see it", () => {
    expect(sharedFrame({ ...base, position: P, precision: "precise", hidden: false })).toEqual({
      type: "shared",
      userId: "alice",
      displayName: "Alice",
      lat: P.lat,
      lon: P.lon,
      at: NOW,
      precision: "precise",
      state: "live",
    });
    const approx = sharedFrame({ ...base, position: P, precision: "approximate", hidden: false });
    expect(approx).toMatchObject({ ...snapToCellCentre(P, 6), precision: "approximate" });
    expect(approx).not.toMatchObject({ lat: P.lat });
  });

  it("is hidden (no name, no coordinates) while the user hides, offline without a position", () => {
    expect(sharedFrame({ ...base, position: P, precision: "precise", hidden: true })).toEqual({
      type: "shared",
      userId: "alice",
      state: "hidden",
    });
    expect(
      sharedFrame({ ...base, position: undefined, precision: "precise", hidden: false }),
    ).toEqual({ type: "shared", userId: "alice", displayName: "Alice", state: "offline" });
  });
});
