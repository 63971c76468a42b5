import { describe, expect, it } from "vitest";
import {
  EARTH_RADIUS_M,
  geohashBounds,
  geohashCentre,
  geohashEncode,
  geohashNeighbours,
  haversineM,
  snapToCellCentre,
} from "../../functions/domain/geo.ts";

describe("haversineM", () => {
  it("measures one degree of latitude along a meridian", () => {
    expect(haversineM({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })).toBeCloseTo(111_195.08, 1);
  });

  it("measures known city distances", () => {
    // Big Ben to the Statue of Liberty: 5 574.8 km on a 6 371 km sphere.
    const d = haversineM({ lat: 51.5007, lon: -0.1246 }, { lat: 40.6892, lon: -74.0445 });
    expect(d / 1000).toBeCloseTo(5574.8 * (EARTH_RADIUS_M / 6_371_000), 0);
    // Seoul City Hall to Busan City Hall, about 325 km.
    const seoulBusan = haversineM({ lat: 37.5665, lon: 126.978 }, { lat: 35.1796, lon: 129.0756 });
    expect(seoulBusan / 1000).toBeGreaterThan(320);
    expect(seoulBusan / 1000).toBeLessThan(330);
  });

  it("is symmetric, zero for the same point, and half the circumference for antipodes", () => {
    const a = { lat: 37.5, lon: 127 };
    const b = { lat: -12.3, lon: -45.6 };
    expect(haversineM(a, b)).toBeCloseTo(haversineM(b, a), 6);
    expect(haversineM(a, a)).toBe(0);
    expect(haversineM({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(
      Math.PI * EARTH_RADIUS_M,
      3,
    );
  });

  it("crosses the antimeridian the short way", () => {
    expect(haversineM({ lat: 0, lon: 179.9 }, { lat: 0, lon: -179.9 })).toBeCloseTo(22_239, 0);
  });
});

describe("geohash", () => {
  it("encodes known points", () => {
    expect(geohashEncode(42.6, -5.6, 5)).toBe("ezs42");
    expect(geohashEncode(57.64911, 10.40744, 11)).toBe("u4pruydqqvj");
    expect(geohashEncode(37.5665, 126.978, 4)).toBe("wydm");
  });

  it("decodes a cell to bounds that contain the encoded point", () => {
    const b = geohashBounds("ezs42");
    expect(b.latMin).toBeLessThanOrEqual(42.6);
    expect(b.latMax).toBeGreaterThan(42.6);
    expect(b.lonMin).toBeLessThanOrEqual(-5.6);
    expect(b.lonMax).toBeGreaterThan(-5.6);
    expect(geohashCentre("ezs42").lat).toBeCloseTo(42.605, 3);
    expect(geohashCentre("ezs42").lon).toBeCloseTo(-5.603, 3);
    expect(() => geohashBounds("ezs4a")).toThrow(/invalid geohash character "a"/);
  });

  it("lists the eight neighbours of a cell", () => {
    expect(new Set(geohashNeighbours("dqcjq"))).toEqual(
      new Set(["dqcjw", "dqcjx", "dqcjr", "dqcjp", "dqcjn", "dqcjj", "dqcjm", "dqcjt"]),
    );
  });

  it("wraps neighbours across the antimeridian and stops at the poles", () => {
    const east = geohashEncode(0, 179.99, 3);
    const west = geohashEncode(0, -179.99, 3);
    expect(geohashNeighbours(east)).toContain(west);
    const polar = geohashEncode(89.99, 0, 2);
    expect(geohashNeighbours(polar)).toHaveLength(5);
  });

  it("snaps a position to the centre of its precision-6 cell", () => {
    const p = { lat: 37.5665, lon: 126.978 };
    const c = snapToCellCentre(p, 6);
    expect(geohashEncode(c.lat, c.lon, 6)).toBe(geohashEncode(p.lat, p.lon, 6));
    const b = geohashBounds(geohashEncode(p.lat, p.lon, 6));
    expect(c.lat).toBeCloseTo((b.latMin + b.latMax) / 2, 12);
    // Within half the cell's diagonal (~1.2 km × 0.6 km).
    expect(haversineM(p, c)).toBeLessThan(700);
    expect(snapToCellCentre({ lat: p.lat + 0.0001, lon: p.lon + 0.0001 }, 6)).toEqual(c);
  });
});
