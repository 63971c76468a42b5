// Geo maths for the domain: great-circle distance and geohash cells. Pure functions.

export interface LatLon {
  lat: number;
  lon: number;
}

/** Mean Earth radius (IUGG), metres. */
export const EARTH_RADIUS_M = 6_371_008.8;

const toRad = (deg: number): number => (deg * Math.PI) / 180;

/** Great-circle distance in metres (haversine). */
export function haversineM(a: LatLon, b: LatLon): number {
  const dLat = toRad(b.lat - a.lat);
  const dLon = toRad(b.lon - a.lon);
  const h =
    Math.sin(dLat / 2) ** 2 +
    Math.cos(toRad(a.lat)) * Math.cos(toRad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

const BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz";

/** Geohash of a point at the given precision (number of characters, 1–12). */
export function geohashEncode(lat: number, lon: number, precision: number): string {
  let latMin = -90;
  let latMax = 90;
  let lonMin = -180;
  let lonMax = 180;
  let hash = "";
  let bits = 0;
  let bitCount = 0;
  let evenBit = true;
  while (hash.length < precision) {
    if (evenBit) {
      const mid = (lonMin + lonMax) / 2;
      if (lon >= mid) {
        bits = (bits << 1) | 1;
        lonMin = mid;
      } else {
        bits <<= 1;
        lonMax = mid;
      }
    } else {
      const mid = (latMin + latMax) / 2;
      if (lat >= mid) {
        bits = (bits << 1) | 1;
        latMin = mid;
      } else {
        bits <<= 1;
        latMax = mid;
      }
    }
    evenBit = !evenBit;
    if (++bitCount === 5) {
      hash += BASE32.charAt(bits);
      bits = 0;
      bitCount = 0;
    }
  }
  return hash;
}

export interface Bounds {
  latMin: number;
  latMax: number;
  lonMin: number;
  lonMax: number;
}

/** The bounding box of a geohash cell. Throws on a character outside the geohash alphabet. */
export function geohashBounds(hash: string): Bounds {
  let latMin = -90;
  let latMax = 90;
  let lonMin = -180;
  let lonMax = 180;
  let evenBit = true;
  for (const ch of hash) {
    const idx = BASE32.indexOf(ch);
    if (idx < 0) throw new RangeError(`invalid geohash character "${ch}"`);
    for (let n = 4; n >= 0; n--) {
      const bit = (idx >> n) & 1;
      if (evenBit) {
        const mid = (lonMin + lonMax) / 2;
        if (bit === 1) lonMin = mid;
        else lonMax = mid;
      } else {
        const mid = (latMin + latMax) / 2;
        if (bit === 1) latMin = mid;
        else latMax = mid;
      }
      evenBit = !evenBit;
    }
  }
  return { latMin, latMax, lonMin, lonMax };
}

/** Centre of a geohash cell. */
export function geohashCentre(hash: string): LatLon {
  const b = geohashBounds(hash);
  return { lat: (b.latMin + b.latMax) / 2, lon: (b.lonMin + b.lonMax) / 2 };
}

/** Snap a position to the centre of the geohash cell (of the given precision) that holds it. */
export function snapToCellCentre(p: LatLon, precision: number): LatLon {
  return geohashCentre(geohashEncode(p.lat, p.lon, precision));
}

const wrapLon = (lon: number): number => (lon >= 180 ? lon - 360 : lon < -180 ? lon + 360 : lon);

/**
 * The up-to-8 cells around a geohash cell (fewer at the poles, where there is no cell beyond),
 * longitude wrapping at the antimeridian.
 */
export function geohashNeighbours(hash: string): string[] {
  const b = geohashBounds(hash);
  const dLat = b.latMax - b.latMin;
  const dLon = b.lonMax - b.lonMin;
  const c = { lat: (b.latMin + b.latMax) / 2, lon: (b.lonMin + b.lonMax) / 2 };
  const out = new Set<string>();
  for (const dy of [-1, 0, 1]) {
    for (const dx of [-1, 0, 1]) {
      if (dx === 0 && dy === 0) continue;
      const lat = c.lat + dy * dLat;
      if (lat > 90 || lat < -90) continue;
      const n = geohashEncode(lat, wrapLon(c.lon + dx * dLon), hash.length);
      if (n !== hash) out.add(n);
    }
  }
  return [...out];
}

/** Cell precision of the coarse GEO index (`geo:{cell}`), ~39 × 20 km. */
export const INDEX_CELL_PRECISION = 4;
/** Cell precision of an approximate position, ~1.2 × 0.6 km. */
export const APPROXIMATE_PRECISION = 6;
