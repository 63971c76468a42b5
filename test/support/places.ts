// Points at known great-circle distances, for tests of the proximity rule: moving along a meridian,
// the haversine distance is the arc length, so a point `m` metres north is `m` metres away (up to
// rounding; tests that need the exact value read it back with haversineM).
import { EARTH_RADIUS_M, type LatLon } from "../../functions/domain/geo.ts";

/** Seoul City Hall. */
export const HOME: LatLon = { lat: 37.5665, lon: 126.978 };

/** The point `m` metres north (negative: south) of `from`. */
export function north(m: number, from: LatLon = HOME): LatLon {
  return { lat: from.lat + ((m / EARTH_RADIUS_M) * 180) / Math.PI, lon: from.lon };
}
