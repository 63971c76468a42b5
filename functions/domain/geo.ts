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

/** Height (latitude) and width (longitude) in degrees of every geohash cell of a precision. */
export function cellSizeDeg(precision: number): { dLat: number; dLon: number } {
  const bits = precision * 5;
  return { dLat: 180 / 2 ** Math.floor(bits / 2), dLon: 360 / 2 ** Math.ceil(bits / 2) };
}

/** Half the diagonal of a cell of this precision where cells are widest (the equator), metres. */
export function cellHalfDiagonalM(precision: number): number {
  const { dLat, dLon } = cellSizeDeg(precision);
  return haversineM({ lat: 0, lon: 0 }, { lat: dLat / 2, lon: dLon / 2 });
}

/** A longitude difference in [-180, 180). */
const lonDelta = (d: number): number => ((((d + 180) % 360) + 360) % 360) - 180;

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

/**
 * The shortest great-circle distance from a point to a cell (0 inside it), longitude wrapping at
 * the antimeridian. Outside the cell's longitudes the nearest point lies on its nearer meridian
 * edge, at the foot of the perpendicular from the point (clamped to the edge).
 */
export function distanceToCellM(p: LatLon, b: Bounds): number {
  const width = b.lonMax - b.lonMin;
  const east = lonDelta(p.lon - b.lonMin);
  if (east >= 0 && east <= width) {
    return haversineM(p, { lat: clamp(p.lat, b.latMin, b.latMax), lon: p.lon });
  }
  const toMin = Math.abs(lonDelta(p.lon - b.lonMin));
  const toMax = Math.abs(lonDelta(p.lon - b.lonMax));
  const edge = toMin <= toMax ? b.lonMin : b.lonMax;
  const dLon = Math.min(toMin, toMax);
  const foot =
    dLon < 90
      ? (Math.atan(Math.tan(toRad(p.lat)) / Math.cos(toRad(dLon))) * 180) / Math.PI
      : Math.sign(p.lat) * 90;
  return haversineM(p, { lat: clamp(foot, b.latMin, b.latMax), lon: edge });
}

/**
 * Every geohash cell of `precision` that comes within `radiusM` of `centre`: the cells to read so
 * that nothing within the radius is missed. The candidates are the cells of the circle's
 * bounding box (every longitude when the circle reaches a pole), kept when their nearest point is
 * within the radius; nearest first. Near the poles this may be a whole row of cells.
 */
export function cellsWithin(centre: LatLon, radiusM: number, precision: number): string[] {
  if (!(radiusM >= 0)) throw new RangeError("radiusM must be a number >= 0");
  const { dLat, dLon } = cellSizeDeg(precision);
  const rows = Math.round(180 / dLat);
  const cols = Math.round(360 / dLon);
  const angle = radiusM / EARTH_RADIUS_M;
  const angleDeg = (angle * 180) / Math.PI;
  const latLo = Math.max(-90, centre.lat - angleDeg);
  const latHi = Math.min(90, centre.lat + angleDeg);
  const cosLat = Math.cos(toRad(centre.lat));
  const allLons = latLo <= -90 || latHi >= 90 || angle >= Math.PI / 2 || Math.sin(angle) >= cosLat;
  const halfLon = allLons ? 180 : (Math.asin(Math.sin(angle) / cosLat) * 180) / Math.PI;
  const rowLo = clamp(Math.floor((latLo + 90) / dLat), 0, rows - 1);
  const rowHi = clamp(Math.floor((latHi + 90) / dLat), 0, rows - 1);
  let colLo = Math.floor((centre.lon - halfLon + 180) / dLon);
  let colHi = Math.floor((centre.lon + halfLon + 180) / dLon);
  if (allLons || colHi - colLo + 1 >= cols) {
    colLo = 0;
    colHi = cols - 1;
  }
  const found: { hash: string; d: number }[] = [];
  const seen = new Set<string>();
  for (let row = rowLo; row <= rowHi; row++) {
    const lat = -90 + (row + 0.5) * dLat;
    for (let col = colLo; col <= colHi; col++) {
      const wrapped = ((col % cols) + cols) % cols;
      const hash = geohashEncode(lat, -180 + (wrapped + 0.5) * dLon, precision);
      if (seen.has(hash)) continue;
      seen.add(hash);
      const d = distanceToCellM(centre, geohashBounds(hash));
      if (d <= radiusM) found.push({ hash, d });
    }
  }
  return found.sort((a, b) => a.d - b.d || (a.hash < b.hash ? -1 : 1)).map((c) => c.hash);
}
