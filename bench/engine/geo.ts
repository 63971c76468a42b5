// Geometry of the load tool and the simulator: the protocol's haversine distance, moves on a
// local flat earth, points near a centre, group centres far apart, and the load's ~100 m steps.

export interface LatLon {
  lat: number;
  lon: number;
}

const EARTH_RADIUS_M = 6_371_008.8;
const rad = (deg: number) => (deg * Math.PI) / 180;

/** Great-circle distance, as the protocol measures it (§2.8). */
export function haversineM(a: LatLon, b: LatLon): number {
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h =
    Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** 1e-7 degree (about 1 cm): coordinates survive the JSON round trip as the same text. */
const round7 = (x: number) => Math.round(x * 1e7) / 1e7;

/** The point `distanceM` from `p` towards `bearing` (radians from north); flat-earth is plenty at 100 m. */
export function move(p: LatLon, distanceM: number, bearing: number): LatLon {
  const metresPerDegLat = 111_195;
  const metresPerDegLon = metresPerDegLat * Math.cos(rad(p.lat));
  return {
    lat: round7(p.lat + (distanceM * Math.cos(bearing)) / metresPerDegLat),
    lon: round7(p.lon + (distanceM * Math.sin(bearing)) / metresPerDegLon),
  };
}

/** A random point within `radiusM` of `centre` (uniform over the disc). */
export function pointNear(centre: LatLon, radiusM: number, rand: () => number): LatLon {
  return move(centre, radiusM * Math.sqrt(rand()), rand() * 2 * Math.PI);
}

/** One step of ~`stepM` in a random direction that keeps the walker within `boundM` of `centre`. */
export function step(
  p: LatLon,
  centre: LatLon,
  stepM: number,
  boundM: number,
  rand: () => number,
): LatLon {
  const length = stepM * (0.9 + 0.2 * rand());
  for (let tries = 0; tries < 8; tries++) {
    const next = move(p, length, rand() * 2 * Math.PI);
    if (haversineM(next, centre) <= boundM) return next;
  }
  // Near the edge: head back towards the centre.
  const bearing = Math.atan2((centre.lon - p.lon) * Math.cos(rad(p.lat)), centre.lat - p.lat);
  return move(p, length, bearing);
}

/**
 * `count` group centres in distinct cells of a 1° latitude × 1.5° longitude grid between 45° S
 * and 45° N (each jittered within its cell's middle), so any two centres are > 50 km apart.
 */
export function groupCentres(count: number, rand: () => number): LatLon[] {
  const rows = 90;
  const cols = 200;
  if (count > rows * cols) throw new Error(`at most ${rows * cols} groups`);
  const taken = new Set<number>();
  const centres: LatLon[] = [];
  while (centres.length < count) {
    const cell = Math.floor(rand() * rows * cols);
    if (taken.has(cell)) continue;
    taken.add(cell);
    const row = Math.floor(cell / cols);
    const col = cell % cols;
    centres.push({
      lat: round7(-45 + row + 0.3 + 0.4 * rand()),
      lon: round7(-150 + col * 1.5 + 0.45 + 0.6 * rand()),
    });
  }
  return centres;
}
