// Live share links (docs/PROTOCOL.md §3.5, §2.10): what a link is, its limits, validation of a new
// one, when it is active, and the `shared` frames its viewers receive. Pure.
import { createHash } from "node:crypto";
import { z } from "zod";
import type { LatLon } from "./geo.ts";
import type { Settings } from "./settings.ts";
import { shownPosition } from "./visibility.ts";

export type SharePrecision = "precise" | "approximate";

/** A link's life: at least a minute (PROTOCOL.md; the local stack may lower it for tests), at most 7 days. */
export const MIN_SHARE_EXPIRES_IN_S = 60;
export const MAX_SHARE_EXPIRES_IN_S = 7 * 24 * 3600;
/** Active links one user may hold; a further POST is 409 `conflict`. */
export const MAX_ACTIVE_LINKS_PER_USER = 10;
/** Viewer connections one link may have open at once; a further handshake is refused with 429. */
export const MAX_VIEWERS_PER_LINK = 20;
/** Random bytes of a token (256 bits), sent base64url-encoded (43 characters). */
export const SHARE_TOKEN_BYTES = 32;
/** Random bytes of a link id (128 bits, 22 characters base64url). */
export const SHARE_LINK_ID_BYTES = 16;

export const SHARE_LINK_ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const SHARE_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export const shareLinkCreateSchema = (minExpiresInS: number = MIN_SHARE_EXPIRES_IN_S) => {
  const range = `expiresInS must be an integer number of seconds from ${minExpiresInS} to ${MAX_SHARE_EXPIRES_IN_S}`;
  return z
    .object({
      expiresInS: z
        .number({ error: range })
        .int({ error: range })
        .min(minExpiresInS, { error: range })
        .max(MAX_SHARE_EXPIRES_IN_S, { error: range }),
      precision: z.enum(["precise", "approximate"], {
        error: 'precision must be "precise" or "approximate"',
      }),
    })
    .strict();
};

export type ShareLinkCreate = z.infer<ReturnType<typeof shareLinkCreateSchema>>;

/** A stored link: the token is kept only as its SHA-256. */
export interface ShareLink {
  userId: string;
  linkId: string;
  tokenHash: string;
  precision: SharePrecision;
  createdAt: number;
  expiresAt: number;
}

/** What a link's owner is shown of it (never the token, which is shown once, on creation). */
export interface ShareLinkView {
  id: string;
  precision: SharePrecision;
  createdAt: number;
  expiresAt: number;
}

export const isActiveLink = (link: Pick<ShareLink, "expiresAt">, now: number): boolean =>
  link.expiresAt > now;

export const viewOf = (link: ShareLink): ShareLinkView => ({
  id: link.linkId,
  precision: link.precision,
  createdAt: link.createdAt,
  expiresAt: link.expiresAt,
});

/** The stored form of a token: hex SHA-256 of its text. */
export const hashShareToken = (token: string): string =>
  createHash("sha256").update(token, "utf8").digest("hex");

/** The page a viewer opens: `<base>?share=<token>`. */
export function shareUrl(base: string, token: string): string {
  const url = new URL(base);
  url.searchParams.set("share", token);
  return url.toString();
}

/** A viewer's connection, as the fan-out and the expiry see it. */
export interface ShareViewer {
  connectionId: string;
  linkId: string;
  precision: SharePrecision;
  expiresAt: number;
  /** When the viewer's handshake registered it (a push may reach it a moment before it opens). */
  connectedAt: number;
}

/**
 * A viewer's first frame is published during its handshake and may reach the gateway before the
 * connection is open there (it then answers "gone"): a viewer this young is retried, not dropped.
 */
export const NEW_VIEWER_GRACE_MS = 3000;
export const NEW_VIEWER_RETRY_MS = 200;

/**
 * Whether a shared user hides from every link's viewers: ghost mode, or sharing turned off (for
 * good, or until `ghostUntil`), exactly when friends stop seeing them (visibility.ts).
 */
export function hiddenFromViewers(settings: Settings | undefined, now: number): boolean {
  if (settings === undefined || settings.sharing === "on") return false;
  return settings.ghostUntil === null || now < settings.ghostUntil;
}

export type SharedFrame =
  | {
      type: "shared";
      userId: string;
      displayName: string | null;
      lat: number;
      lon: number;
      at: number;
      precision: SharePrecision;
      state: "live";
    }
  | { type: "shared"; userId: string; state: "hidden" }
  | { type: "shared"; userId: string; displayName: string | null; state: "offline" };

export const SHARE_ENDED_FRAME = { type: "shareEnded" } as const;

/**
 * The frame a viewer of `userId` is sent: hidden while the user hides, offline without a
 * position, else the position at the link's precision (the approximate cell centre, as friends
 * see it).
 */
export function sharedFrame(input: {
  userId: string;
  displayName: string | null;
  position: (LatLon & { at: number }) | undefined;
  precision: SharePrecision;
  hidden: boolean;
}): SharedFrame {
  const { userId, displayName } = input;
  if (input.hidden) return { type: "shared", userId, state: "hidden" };
  if (!input.position) return { type: "shared", userId, displayName, state: "offline" };
  const shown = shownPosition(input.position, input.precision);
  return {
    type: "shared",
    userId,
    displayName,
    lat: shown.lat,
    lon: shown.lon,
    at: input.position.at,
    precision: input.precision,
    state: "live",
  };
}
