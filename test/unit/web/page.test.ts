// The live map page's pure parts: its configuration, its URL parameters and its wording.
import { describe, expect, it } from "vitest";
import {
  ConfigError,
  parsePageParams,
  parseSiteConfig,
  type SiteConfig,
  tokenSubject,
} from "../../../web/app/config.ts";
import { formatAge, formatDistance, formatRemaining } from "../../../web/app/format.ts";

const LOCAL: SiteConfig = {
  httpUrl: "http://127.0.0.1:4000",
  wsUrl: "ws://127.0.0.1:4001",
  devAuth: true,
  tileUrl: "",
  tileAttribution: "",
};
const DEPLOYED: SiteConfig = { ...LOCAL, devAuth: false, httpUrl: "https://api.example" };

describe("page configuration", () => {
  it("reads config.json, dropping a trailing slash and defaulting the tiles", () => {
    expect(
      parseSiteConfig({ httpUrl: "https://x.example/", wsUrl: "wss://y.example/dev" }),
    ).toEqual({
      httpUrl: "https://x.example",
      wsUrl: "wss://y.example/dev",
      devAuth: false,
      tileUrl: "",
      tileAttribution: "",
    });
    expect(() => parseSiteConfig({ httpUrl: 1, wsUrl: "" })).toThrow(ConfigError);
    expect(() => parseSiteConfig(null)).toThrow(ConfigError);
  });

  it("stands the user at lat/lon when given, else follows the server's position on the local stack", () => {
    expect(parsePageParams("?as=sim-3&lat=37.5&lon=127", "", LOCAL)).toEqual({
      as: "sim-3",
      token: null,
      position: { kind: "fixed", lat: 37.5, lon: 127 },
      tileUrl: "",
    });
    expect(parsePageParams("?as=sim-3", "", LOCAL).position).toEqual({ kind: "server" });
    expect(parsePageParams("", "#token=abc", DEPLOYED)).toMatchObject({
      as: null,
      token: "abc",
      position: { kind: "device" },
    });
  });

  it("takes a tile URL from the query, over the configured one", () => {
    const tiles = "https://tiles.example/{z}/{x}/{y}.png";
    expect(parsePageParams(`?tiles=${encodeURIComponent(tiles)}`, "", LOCAL).tileUrl).toBe(tiles);
  });

  it("refuses as= outside the local stack, a bad user id, and half a position", () => {
    expect(() => parsePageParams("?as=alice", "", DEPLOYED)).toThrow(/local stack only/);
    expect(() => parsePageParams("?as=a%20b", "", LOCAL)).toThrow(/user id/);
    expect(() => parsePageParams("?as=alice&lat=37", "", LOCAL)).toThrow(/lat and lon/);
    expect(() => parsePageParams("?as=alice&lat=91&lon=0", "", LOCAL)).toThrow(/lat and lon/);
  });

  it("reads the user id from a token's sub claim", () => {
    const payload = Buffer.from(JSON.stringify({ sub: "5f0c-user" })).toString("base64url");
    expect(tokenSubject(`h.${payload}.s`)).toBe("5f0c-user");
    expect(tokenSubject("not-a-jwt")).toBeNull();
  });
});

describe("page wording", () => {
  it("writes distances in metres, then kilometres", () => {
    expect([0, 412.4, 999.4, 1000, 1249, 9949, 9950, 12_345].map(formatDistance)).toEqual([
      "0 m",
      "412 m",
      "999 m",
      "1.0 km",
      "1.2 km",
      "9.9 km",
      "10 km",
      "12 km",
    ]);
  });

  it("writes ages and what is left of a ghost spell", () => {
    expect([0, 7_400, 150_000, 3 * 3_600_000].map(formatAge)).toEqual([
      "updated just now",
      "updated 7 s ago",
      "updated 2 min ago",
      "updated 3 h ago",
    ]);
    expect([58_000, 245_000, 3_720_000].map(formatRemaining)).toEqual([
      "58 s",
      "4 min 05 s",
      "1 h 02 min",
    ]);
  });
});
