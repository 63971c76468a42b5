// The cell selection of the nearby-people search (domain/geo.ts `cellsWithin`): every point within
// the radius lies in a selected cell, everywhere on the globe, and no selected cell is out of reach.
import { describe, expect, it } from "vitest";
import {
  cellHalfDiagonalM,
  cellSizeDeg,
  cellsWithin,
  distanceToCellM,
  EARTH_RADIUS_M,
  geohashBounds,
  geohashEncode,
  haversineM,
  INDEX_CELL_PRECISION,
  type LatLon,
} from "../../functions/domain/geo.ts";

const toRad = (d: number) => (d * Math.PI) / 180;
const toDeg = (r: number) => (r * 180) / Math.PI;

/** The point `distanceM` from `p` along the initial `bearingDeg` (spherical earth). */
function destination(p: LatLon, bearingDeg: number, distanceM: number): LatLon {
  const d = distanceM / EARTH_RADIUS_M;
  const b = toRad(bearingDeg);
  const lat1 = toRad(p.lat);
  const lat2 = Math.asin(Math.sin(lat1) * Math.cos(d) + Math.cos(lat1) * Math.sin(d) * Math.cos(b));
  const lon2 =
    toRad(p.lon) +
    Math.atan2(
      Math.sin(b) * Math.sin(d) * Math.cos(lat1),
      Math.cos(d) - Math.sin(lat1) * Math.sin(lat2),
    );
  const lon = ((((toDeg(lon2) + 180) % 360) + 360) % 360) - 180;
  return { lat: toDeg(lat2), lon };
}

/** A small deterministic PRNG, so that a failure reproduces. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Points within the radius (on its edge, and inside), each of which must be in a selected cell. */
function expectCovered(
  centre: LatLon,
  radiusM: number,
  precision = INDEX_CELL_PRECISION,
): string[] {
  const cells = cellsWithin(centre, radiusM, precision);
  const set = new Set(cells);
  const rand = prng(Math.round((centre.lat + 91) * 1000 + (centre.lon + 181) * 7));
  for (let i = 0; i < 720; i++) {
    const d = i < 360 ? radiusM * 0.999_999 : radiusM * rand();
    const q = destination(centre, i < 360 ? i : rand() * 360, d);
    const hash = geohashEncode(q.lat, q.lon, precision);
    expect(
      set.has(hash),
      `${JSON.stringify(q)} (${hash}) missing for ${JSON.stringify(centre)}`,
    ).toBe(true);
  }
  for (const c of cells)
    expect(distanceToCellM(centre, geohashBounds(c))).toBeLessThanOrEqual(radiusM);
  return cells;
}

describe("cellSizeDeg and cellHalfDiagonalM", () => {
  it("gives the geohash cell sizes: ~39 x 19.5 km at precision 4, ~1.2 x 0.6 km at 6", () => {
    expect(cellSizeDeg(4)).toEqual({ dLat: 180 / 2 ** 10, dLon: 360 / 2 ** 10 });
    expect(cellSizeDeg(6)).toEqual({ dLat: 180 / 2 ** 15, dLon: 360 / 2 ** 15 });
    const b = geohashBounds(geohashEncode(0.001, 0.001, 6));
    expect(cellHalfDiagonalM(6)).toBeCloseTo(
      haversineM({ lat: b.latMin, lon: b.lonMin }, { lat: b.latMax, lon: b.lonMax }) / 2,
      -1,
    );
    expect(cellHalfDiagonalM(6)).toBeGreaterThan(670);
    expect(cellHalfDiagonalM(6)).toBeLessThan(700);
  });
});

describe("distanceToCellM", () => {
  it("is 0 inside a cell and the distance to the nearest edge outside", () => {
    const cell = geohashEncode(37.5665, 126.978, 4);
    const b = geohashBounds(cell);
    expect(distanceToCellM({ lat: 37.5665, lon: 126.978 }, b)).toBe(0);
    // 1 km north of the cell's top edge, within its longitudes.
    const above = { lat: b.latMax + 1000 / 111_195, lon: (b.lonMin + b.lonMax) / 2 };
    expect(distanceToCellM(above, b)).toBeCloseTo(1000, 0);
    // 1 km east of its east edge, at mid-latitude of the cell: close to 1 km (not less).
    const east = destination({ lat: (b.latMin + b.latMax) / 2, lon: b.lonMax }, 90, 1000);
    expect(distanceToCellM(east, b)).toBeGreaterThan(990);
    expect(distanceToCellM(east, b)).toBeLessThanOrEqual(1000.5);
  });

  it("wraps at the antimeridian", () => {
    const b = geohashBounds(geohashEncode(10, -179.9, 4));
    const across = { lat: 10, lon: 179.99 };
    expect(distanceToCellM(across, b)).toBeLessThan(2000);
  });
});

describe("cellsWithin", () => {
  it("is the caller's cell alone for a radius of 0 well inside it", () => {
    const cell = geohashEncode(37.5665, 126.978, 4);
    const b = geohashBounds(cell);
    const centre = { lat: (b.latMin + b.latMax) / 2, lon: (b.lonMin + b.lonMax) / 2 };
    expect(cellsWithin(centre, 0, 4)).toEqual([cell]);
    expect(cellsWithin(centre, 5000, 4)).toEqual([cell]);
  });

  it("covers the 8 047 m radius with the caller's cell first and at most 4 cells at mid-latitudes", () => {
    for (const centre of [
      { lat: 37.5665, lon: 126.978 },
      { lat: 51.5007, lon: -0.1246 },
      { lat: -33.8688, lon: 151.2093 },
      { lat: 40.6892, lon: -74.0445 },
    ]) {
      const cells = expectCovered(centre, 8047);
      expect(cells[0]).toBe(geohashEncode(centre.lat, centre.lon, 4));
      expect(cells.length).toBeLessThanOrEqual(4);
    }
  });

  it("covers a corner: all four cells that meet there", () => {
    const b = geohashBounds(geohashEncode(37.5665, 126.978, 4));
    const corner = { lat: b.latMax - 1e-6, lon: b.lonMax - 1e-6 };
    expect(expectCovered(corner, 8047)).toHaveLength(4);
  });

  it("covers radii up to the cell size and beyond the 3 x 3 neighbourhood", () => {
    const rand = prng(42);
    for (let i = 0; i < 40; i++) {
      const centre = { lat: -70 + rand() * 140, lon: -180 + rand() * 360 };
      expectCovered(centre, 1000 + rand() * 39_000);
    }
    // A radius larger than a cell: more than the neighbours.
    expect(expectCovered({ lat: 10, lon: 10 }, 45_000).length).toBeGreaterThan(9);
  });

  it("wraps around the antimeridian", () => {
    const cells = expectCovered({ lat: 64.8, lon: 179.99 }, 8047);
    expect(cells.some((c) => geohashBounds(c).lonMin < 0)).toBe(true);
    expect(cells.some((c) => geohashBounds(c).lonMax > 0)).toBe(true);
    expectCovered({ lat: -16.5, lon: -179.999 }, 20_000);
  });

  it("covers the poles: every longitude when the circle reaches one", () => {
    const north = expectCovered({ lat: 89.97, lon: 12 }, 8047);
    expect(north.length).toBe(2 ** 10);
    expectCovered({ lat: -89.99, lon: -100 }, 8047);
    // Close to, but not reaching, the pole: wide, not every longitude.
    const near = expectCovered({ lat: 89.5, lon: 0 }, 8047);
    expect(near.length).toBeLessThan(2 ** 10);
    expect(near.length).toBeGreaterThan(4);
  });

  it("refuses a negative or missing radius", () => {
    expect(() => cellsWithin({ lat: 0, lon: 0 }, -1, 4)).toThrow(RangeError);
    expect(() => cellsWithin({ lat: 0, lon: 0 }, Number.NaN, 4)).toThrow(RangeError);
  });
});
