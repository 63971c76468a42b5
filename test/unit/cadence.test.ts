import { describe, expect, it } from "vitest";
import {
  CADENCE_TTL_SAFETY_S,
  type CadenceInput,
  type CadenceRule,
  reportEveryS,
  slowCadenceS,
} from "../../functions/domain/cadence.ts";
import { DEFAULT_SETTINGS, type Settings } from "../../functions/domain/settings.ts";
import { HOME, north } from "../support/places.ts";

const rule: CadenceRule = {
  reportFastS: 10,
  reportSlowS: 300,
  radiusM: 8000,
  cadenceMarginM: 5000,
  locationTtlS: 600,
};
const NOW = 1_763_770_000_000;

const input = (over: Partial<CadenceInput> = {}): CadenceInput => ({
  position: HOME,
  settings: undefined,
  watchers: [],
  shareViewers: 0,
  now: NOW,
  ...over,
});

describe("reportEveryS", () => {
  it("is slow when nobody watches", () => {
    expect(reportEveryS(rule, input())).toBe(300);
  });

  it("is fast when a watching friend is within radius + margin, slow just beyond", () => {
    const near = input({ watchers: [{ userId: "bob", position: north(12_900) }] });
    const far = input({ watchers: [{ userId: "bob", position: north(13_100) }] });
    expect(reportEveryS(rule, near)).toBe(10);
    expect(reportEveryS(rule, far)).toBe(300);
  });

  it("does not count a watcher who is offline (no position)", () => {
    expect(reportEveryS(rule, input({ watchers: [{ userId: "bob", position: undefined }] }))).toBe(
      300,
    );
  });

  it("does not count a watcher the user hides from, but counts one shown approximately", () => {
    const settings: Settings = {
      ...DEFAULT_SETTINGS,
      friends: { bob: "hidden", carol: "approximate" },
    };
    const bob = { userId: "bob", position: north(100) };
    const carol = { userId: "carol", position: north(100) };
    expect(reportEveryS(rule, input({ settings, watchers: [bob] }))).toBe(300);
    expect(reportEveryS(rule, input({ settings, watchers: [bob, carol] }))).toBe(10);
  });

  it("is slow with sharing off, whoever watches (share links included)", () => {
    const settings: Settings = { ...DEFAULT_SETTINGS, sharing: "off" };
    const watched = input({
      settings,
      watchers: [{ userId: "bob", position: north(100) }],
      shareViewers: 2,
    });
    expect(reportEveryS(rule, watched)).toBe(300);
  });

  it("asks for the next report when ghost mode ends, if that is sooner than the slow cadence", () => {
    const ghost = (inS: number): Settings => ({
      ...DEFAULT_SETTINGS,
      sharing: "off",
      ghostUntil: NOW + inS * 1000,
    });
    const watchers = [{ userId: "bob", position: north(100) }];
    expect(reportEveryS(rule, input({ settings: ghost(120.2), watchers }))).toBe(121);
    expect(reportEveryS(rule, input({ settings: ghost(3), watchers }))).toBe(10);
    expect(reportEveryS(rule, input({ settings: ghost(3600), watchers }))).toBe(300);
    // Ghost mode over: fast again for the close friend.
    expect(reportEveryS(rule, input({ settings: ghost(-1), watchers }))).toBe(10);
  });

  it("is fast while a share link is watched", () => {
    expect(reportEveryS(rule, input({ shareViewers: 1 }))).toBe(10);
  });

  it("is slow for a user without a position", () => {
    const watchers = [{ userId: "bob", position: north(100) }];
    expect(reportEveryS(rule, input({ position: undefined, watchers }))).toBe(300);
  });
});

describe("slowCadenceS", () => {
  it("never lets the position expire between two reports", () => {
    expect(slowCadenceS({ ...rule, reportSlowS: 900 })).toBe(600 - CADENCE_TTL_SAFETY_S);
    expect(slowCadenceS({ ...rule, reportSlowS: 120 })).toBe(120);
  });

  it("is never faster than the fast cadence", () => {
    expect(slowCadenceS({ ...rule, reportSlowS: 5 })).toBe(10);
    expect(slowCadenceS({ ...rule, locationTtlS: 30 })).toBe(10);
  });
});
