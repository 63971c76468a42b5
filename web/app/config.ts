// What the page is told: the deployment's endpoints (config.json beside the script: written by the
// local stack, or by `npm run build:web` for a deployment) and the page's own query parameters.
// Pure: no DOM, so that it is tested on Node.

/** config.json. */
export interface SiteConfig {
  /** The HTTP API's base URL, without a trailing slash. */
  httpUrl: string;
  /** The WebSocket API's URL, without the token. */
  wsUrl: string;
  /** The local stack: `?as=<userId>` signs in through POST /dev/token, GET /dev/position exists. */
  devAuth: boolean;
  /** A Leaflet tile URL template (`https://tile.example/{z}/{x}/{y}.png`); "" for a plain background. */
  tileUrl: string;
  tileAttribution: string;
}

/** How the page learns where its user is. */
export type PositionSource =
  /** `lat` and `lon` were given: the user stands there (a click on the map moves them). */
  | { kind: "fixed"; lat: number; lon: number }
  /** Local stack, no lat/lon: wherever the server has the user (e.g. the simulator moves them). */
  | { kind: "server" }
  /** Elsewhere: the browser's geolocation, else a click on the map. */
  | { kind: "device" };

export interface PageParams {
  /** Sign in as this user through POST /dev/token (local stack only). */
  as: string | null;
  /** A JWT given in the URL (`#token=` or `?token=`). */
  token: string | null;
  position: PositionSource;
  tileUrl: string;
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const USER_ID = /^[A-Za-z0-9_.@-]{1,128}$/;

function str(value: unknown, field: string): string {
  if (typeof value !== "string") throw new ConfigError(`config.json: ${field} must be a string`);
  return value;
}

/** Checks config.json's content; URLs lose a trailing slash. */
export function parseSiteConfig(value: unknown): SiteConfig {
  if (typeof value !== "object" || value === null)
    throw new ConfigError("config.json must be a JSON object");
  const v = value as Record<string, unknown>;
  return {
    httpUrl: str(v.httpUrl, "httpUrl").replace(/\/+$/, ""),
    wsUrl: str(v.wsUrl, "wsUrl"),
    devAuth: v.devAuth === true,
    tileUrl: v.tileUrl === undefined ? "" : str(v.tileUrl, "tileUrl"),
    tileAttribution:
      v.tileAttribution === undefined ? "" : str(v.tileAttribution, "tileAttribution"),
  };
}

function coordinate(raw: string | null, max: number): number | null {
  if (raw === null || raw.trim() === "") return null;
  const n = Number(raw);
  return Number.isFinite(n) && Math.abs(n) <= max ? n : null;
}

/** The page's parameters from its URL (`search` and `hash`, as `location` has them). */
export function parsePageParams(search: string, hash: string, config: SiteConfig): PageParams {
  const query = new URLSearchParams(search);
  const fragment = new URLSearchParams(hash.replace(/^#/, ""));
  const as = query.get("as");
  if (as !== null && !USER_ID.test(as))
    throw new ConfigError("as must be a user id: 1-128 letters, digits and -_.@");
  if (as !== null && !config.devAuth)
    throw new ConfigError(
      "as= works on the local stack only; elsewhere open the page with #token=",
    );
  const lat = coordinate(query.get("lat"), 90);
  const lon = coordinate(query.get("lon"), 180);
  if ((query.has("lat") || query.has("lon")) && (lat === null || lon === null))
    throw new ConfigError("lat and lon go together: lat in [-90, 90], lon in [-180, 180]");
  let position: PositionSource;
  if (lat !== null && lon !== null) position = { kind: "fixed", lat, lon };
  else position = config.devAuth && as !== null ? { kind: "server" } : { kind: "device" };
  return {
    as,
    token: fragment.get("token") ?? query.get("token"),
    position,
    tileUrl: query.get("tiles") ?? config.tileUrl,
  };
}

/** The `sub` claim of a JWT (the user id), without checking the signature; null if unreadable. */
export function tokenSubject(token: string): string | null {
  const payload = token.split(".")[1];
  if (payload === undefined) return null;
  try {
    const base64 = payload.replace(/-/g, "+").replace(/_/g, "/");
    const json = JSON.parse(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "="))) as {
      sub?: unknown;
    };
    return typeof json.sub === "string" ? json.sub : null;
  } catch {
    return null;
  }
}
