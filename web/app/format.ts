// How the page writes distances, ages and times. Pure, tested on Node.

/** "0 m" … "999 m", then "1.0 km" … "9.9 km", then "10 km" and up. */
export function formatDistance(metres: number): string {
  const m = Math.round(metres);
  if (m < 1000) return `${m} m`;
  if (m < 9950) return `${(m / 1000).toFixed(1)} km`;
  return `${Math.round(m / 1000)} km`;
}

/** "just now", "updated 7 s ago", "updated 3 min ago", "updated 2 h ago". */
export function formatAge(ageMs: number): string {
  const s = Math.max(0, Math.floor(ageMs / 1000));
  if (s < 1) return "updated just now";
  if (s < 120) return `updated ${s} s ago`;
  if (s < 7200) return `updated ${Math.floor(s / 60)} min ago`;
  return `updated ${Math.floor(s / 3600)} h ago`;
}

/** "4 min 05 s", "58 s", "1 h 02 min": what is left of a ghost spell. */
export function formatRemaining(ms: number): string {
  const s = Math.max(0, Math.ceil(ms / 1000));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** HH:MM:SS in the browser's time zone. */
export function formatClock(epochMs: number): string {
  const d = new Date(epochMs);
  return [d.getHours(), d.getMinutes(), d.getSeconds()]
    .map((n) => String(n).padStart(2, "0"))
    .join(":");
}

/** Latitude and longitude to 5 decimals (about a metre). */
export function formatPosition(p: { lat: number; lon: number }): string {
  return `${p.lat.toFixed(5)}, ${p.lon.toFixed(5)}`;
}
