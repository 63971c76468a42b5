// Use cases of live share links: create, list and revoke them (the owner, over HTTP), admit a
// viewer at the handshake and register its connection, and end a link's viewers (revocation or
// expiry). What a viewer is pushed afterwards is the fan-out's (fanout.ts).
import { AppError, ConflictError, NotFoundError, RateLimitedError } from "../domain/errors.ts";
import {
  hashShareToken,
  isActiveLink,
  MAX_ACTIVE_LINKS_PER_USER,
  MAX_VIEWERS_PER_LINK,
  SHARE_ENDED_FRAME,
  SHARE_LINK_ID_BYTES,
  SHARE_LINK_ID_PATTERN,
  SHARE_TOKEN_BYTES,
  SHARE_TOKEN_PATTERN,
  type ShareLink,
  type ShareLinkCreate,
  type ShareLinkView,
  type SharePrecision,
  shareUrl,
  viewOf,
} from "../domain/share-links.ts";
import { type LocationDeps, republishLocation } from "./location.ts";
import type {
  Clock,
  ConnectionCloser,
  Notifier,
  PositionStore,
  ShareExpiryScheduler,
  ShareLinkRepository,
  ShareViewerRegistry,
} from "./ports.ts";

export interface ShareLinksDeps {
  links: ShareLinkRepository;
  expiry: ShareExpiryScheduler;
  /** Random bytes (crypto.randomBytes in production). */
  random: (bytes: number) => Buffer;
  /** The map page a link's `url` opens (`<base>?share=<token>`). */
  baseUrl: string;
  now: Clock;
}

export interface EndLinkDeps {
  viewers: Pick<ShareViewerRegistry, "takeLink">;
  notifier: Notifier;
  closer: ConnectionCloser;
  /** Decide the user's reporting cadence again (app/cadence.ts): their viewers are gone. */
  reviewCadences(userIds: readonly string[]): Promise<void>;
}

export interface CreatedShareLink {
  id: string;
  token: string;
  url: string;
  expiresAt: number;
}

export async function createShareLink(
  deps: ShareLinksDeps,
  userId: string,
  input: ShareLinkCreate,
): Promise<CreatedShareLink> {
  const token = deps.random(SHARE_TOKEN_BYTES).toString("base64url");
  const now = deps.now();
  const link: ShareLink = {
    userId,
    linkId: deps.random(SHARE_LINK_ID_BYTES).toString("base64url"),
    tokenHash: hashShareToken(token),
    precision: input.precision,
    createdAt: now,
    expiresAt: now + input.expiresInS * 1000,
  };
  if (!(await deps.links.create(link, MAX_ACTIVE_LINKS_PER_USER, now))) {
    throw new ConflictError(
      `at most ${MAX_ACTIVE_LINKS_PER_USER} share links may be active at once; revoke one first`,
    );
  }
  await deps.expiry.schedule(link);
  return { id: link.linkId, token, url: shareUrl(deps.baseUrl, token), expiresAt: link.expiresAt };
}

/** The user's active links, soonest to expire first; never their tokens. */
export async function listShareLinks(
  deps: Pick<ShareLinksDeps, "links" | "now">,
  userId: string,
): Promise<ShareLinkView[]> {
  const now = deps.now();
  return (await deps.links.list(userId))
    .filter((l) => isActiveLink(l, now))
    .sort((a, b) => a.expiresAt - b.expiresAt || a.linkId.localeCompare(b.linkId))
    .map(viewOf);
}

/** Revoke a link: no further handshake with its token succeeds, and its viewers are ended now. */
export async function revokeShareLink(
  deps: Pick<ShareLinksDeps, "links" | "now"> & EndLinkDeps,
  userId: string,
  linkId: string,
): Promise<void> {
  const deleted = SHARE_LINK_ID_PATTERN.test(linkId)
    ? await deps.links.delete(userId, linkId)
    : null;
  if (!deleted || !isActiveLink(deleted, deps.now()))
    throw new NotFoundError(`no active share link ${linkId}`);
  await endShareLink(deps, userId, linkId);
}

/**
 * The end of a link (revoked, or expired): each viewer is sent `shareEnded`, then its connection
 * is closed. Viewers are taken out of the registry first, so the fan-out pushes them nothing more.
 */
export async function endShareLink(
  deps: EndLinkDeps,
  userId: string,
  linkId: string,
): Promise<number> {
  const connections = await deps.viewers.takeLink(userId, linkId);
  await Promise.all(
    connections.map(async (connectionId) => {
      if ((await deps.notifier.post(connectionId, SHARE_ENDED_FRAME)) === "gone") return;
      await deps.closer.close(connectionId);
    }),
  );
  if (connections.length > 0) await deps.reviewCadences([userId]);
  return connections.length;
}

/** Who a viewer's connection watches: the authorizer's context for every route of it. */
export interface ViewerPrincipal {
  sharedUserId: string;
  linkId: string;
  precision: SharePrecision;
  expiresAt: number;
}

/** The handshake: the link a token opens, or null (unknown, revoked or expired: HTTP 401). */
export async function authorizeViewer(
  deps: Pick<ShareLinksDeps, "links" | "now">,
  token: string,
): Promise<ViewerPrincipal | null> {
  if (!SHARE_TOKEN_PATTERN.test(token)) return null;
  const link = await deps.links.byTokenHash(hashShareToken(token));
  if (!link || !isActiveLink(link, deps.now())) return null;
  return {
    sharedUserId: link.userId,
    linkId: link.linkId,
    precision: link.precision,
    expiresAt: link.expiresAt,
  };
}

export interface ViewerConnectDeps extends LocationDeps {
  positions: LocationDeps["positions"] & Pick<PositionStore, "positions">;
  links: Pick<ShareLinkRepository, "get">;
  viewers: Pick<ShareViewerRegistry, "add" | "remove">;
}

/**
 * A viewer's $connect: register the connection (at most MAX_VIEWERS_PER_LINK per link), then check
 * that the link is still active — a revocation or expiry that ran between the authorizer and here
 * found no viewer to end, so this check refuses the handshake instead. Then the shared user's
 * current state is published again: the fan-out sends it to the link's viewers, this new one
 * included, right after the handshake (API Gateway accepts no post during $connect).
 */
export async function connectViewer(
  deps: ViewerConnectDeps,
  viewer: ViewerPrincipal,
  connectionId: string,
): Promise<void> {
  const entry = {
    connectionId,
    linkId: viewer.linkId,
    precision: viewer.precision,
    expiresAt: viewer.expiresAt,
    connectedAt: deps.now(),
  };
  if (!(await deps.viewers.add(viewer.sharedUserId, entry, MAX_VIEWERS_PER_LINK))) {
    throw new RateLimitedError(
      `at most ${MAX_VIEWERS_PER_LINK} viewers may watch one share link at once`,
    );
  }
  const link = await deps.links.get(viewer.sharedUserId, viewer.linkId);
  if (!link || !isActiveLink(link, deps.now())) {
    await deps.viewers.remove(viewer.sharedUserId, connectionId);
    throw new AppError("unauthorized", "the share link was revoked or expired");
  }
  if (!(await republishLocation(deps, viewer.sharedUserId))) {
    // No position: the viewers are told the user is offline.
    await deps.publisher.publish({
      v: 1,
      kind: "offline",
      userId: viewer.sharedUserId,
      at: deps.now(),
    });
  }
}

export async function disconnectViewer(
  deps: Pick<ViewerConnectDeps, "viewers">,
  viewer: ViewerPrincipal,
  connectionId: string,
): Promise<void> {
  await deps.viewers.remove(viewer.sharedUserId, connectionId);
}
