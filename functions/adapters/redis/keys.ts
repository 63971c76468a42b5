// Redis key names (docs/ARCHITECTURE.md, "Redis keys"). The braces are Redis Cluster hash tags: every per-user key of one
// user shares a slot (so one script may touch them together); `geo:` keys spread by cell.
import type { ShareViewer } from "../../domain/share-links.ts";

export const keys = {
  location: (userId: string) => `loc:{${userId}}`,
  // A sorted set (connectionId → expiry); it replaced the `conn:` set, whose keys just expire.
  userConnections: (userId: string) => `conns:{${userId}}`,
  closedConnections: (userId: string) => `closed:{${userId}}`,
  connectRate: (userId: string) => `crl:{${userId}}`,
  subscribers: (userId: string) => `subs:{${userId}}`,
  connection: (connectionId: string) => `cx:{${connectionId}}`,
  follows: (connectionId: string) => `follows:{${connectionId}}`,
  geoCell: (cell: string) => `geo:{${cell}}`,
  // Each member of `geo:{cell}` scored with its expiry (ms); the same slot as the cell's GEO set.
  geoExpiry: (cell: string) => `geoexp:{${cell}}`,
  settings: (userId: string) => `settings:{${userId}}`,
  rateLimit: (connectionId: string) => `rl:{${connectionId}}`,
  httpRateLimit: (userId: string) => `hrl:{${userId}}`,
  pushBudget: (epochSecond: number) => `budget:{${epochSecond}}`,
  // The reporting cadence last decided for the user, and when (domain/cadence.ts).
  cadence: (userId: string) => `cad:{${userId}}`,
  // A hash of the live share-link viewers of a user (connectionId → shareViewerValue); in the
  // user's slot, so the fan-out reads it with the user's other state. HLEN > 0: someone watches.
  shareViewers: (userId: string) => `sview:{${userId}}`,
} as const;

/** API Gateway's maximum connection life is 2 h; connection keys outlive it by 10 minutes. */
export const CONNECTION_TTL_S = 2 * 3600 + 600;

/** Settings are a read-through cache of DynamoDB, replaced on every change. */
export const SETTINGS_TTL_S = 3600;

/**
 * A field of `subs:{userId}` names the connection and its user, so that the fan-out learns both,
 * and whether the user is nearby on it, with one read per mover. Neither part holds a space.
 */
export const subscriberField = (s: { connectionId: string; userId: string }): string =>
  `${s.connectionId} ${s.userId}`;

/** Numbers as Redis returns them ("" or null when absent). */
export const num = (v: string | null | undefined): number | undefined => {
  if (v === null || v === undefined || v === "") return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
};

/**
 * How long a closed connection is remembered in `closed:{userId}`: longer than any frame of it can
 * still be in flight (a handler's timeout), so a late `location` or `init` stores nothing.
 */
export const CLOSED_CONNECTION_MEMORY_MS = 5 * 60 * 1000;

/**
 * A field's value in `sview:{userId}`: "<linkId> <precision> <expiresAt> <connectedAt>" (no part
 * holds a space).
 */
export const shareViewerValue = (v: Omit<ShareViewer, "connectionId">): string =>
  `${v.linkId} ${v.precision} ${v.expiresAt} ${v.connectedAt}`;

/** A viewer of `sview:{userId}`, or null for a value this version cannot read. */
export function parseShareViewer(connectionId: string, value: string): ShareViewer | null {
  const [linkId, precision, expiresAt, connectedAt] = value.split(" ");
  const expires = num(expiresAt);
  if (!linkId || expires === undefined) return null;
  if (precision !== "precise" && precision !== "approximate") return null;
  return {
    connectionId,
    linkId,
    precision,
    expiresAt: expires,
    connectedAt: num(connectedAt) ?? 0,
  };
}
