// Frames of WebSocket route events: read once (JSON, size limit), the caller taken from the
// authorizer's context, then validated against the schema of the route's action. Reading never
// throws, so that the rate limit (between the two) counts unreadable frames as well.
import type { MiddlewareObj } from "@middy/core";
import type { APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import type { ViewerPrincipal } from "../app/share-links.ts";
import { AppError } from "../domain/errors.ts";
import {
  type Action,
  type Frame,
  parseFrameObject,
  requestIdOf,
  unknownActionMessage,
  validateFrame,
} from "../domain/frames.ts";
import { logger } from "../observability.ts";

/** A route event with the Lambda authorizer's context, as API Gateway passes it to every route. */
export type WsEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2["requestContext"] & {
    authorizer?: {
      userId?: unknown;
      principalId?: unknown;
      /** A share-link viewer's connection (ws-authorizer.ts): `viewer` and the link's fields. */
      role?: unknown;
      sharedUserId?: unknown;
      shareLinkId?: unknown;
      sharePrecision?: unknown;
      shareExpiresAt?: unknown;
    };
  };
};

export type WsResult = { statusCode: number; body?: string };

export interface WsCaller {
  userId: string;
  connectionId: string;
}

/** A share-link viewer's connection: who it watches, through which link. */
export interface WsViewer extends ViewerPrincipal {
  connectionId: string;
}

/** What the middlewares below add to the event. */
export interface WsRead {
  caller?: WsCaller;
  /** Set instead of `caller` on a share-link viewer's connection. */
  viewer?: WsViewer;
  /** The frame as a JSON object, or why it is not one. */
  parsed?: { ok: true; value: Record<string, unknown> } | { ok: false; error: AppError };
  /** The frame's requestId when it carries a valid one: every reply echoes it. */
  requestId?: string | undefined;
}

/** The event a route handler gets: the caller and its valid frame. */
export type FrameEvent<A extends Action> = WsEvent & WsRead & { caller: WsCaller; frame: Frame<A> };

/** The authenticated caller; the authorizer ran on $connect, so its absence is a bug. */
export function callerOf(event: WsEvent): WsCaller {
  const userId = event.requestContext.authorizer?.userId;
  if (typeof userId !== "string" || userId === "")
    throw new Error("route event has no authorizer userId");
  return { userId, connectionId: event.requestContext.connectionId };
}

/** The viewer of a share link, when the authorizer admitted one (null: a user's connection). */
export function viewerOf(event: WsEvent): WsViewer | null {
  const a = event.requestContext.authorizer;
  if (a?.role !== "viewer") return null;
  // API Gateway may hand the context's numbers to the routes as strings.
  const expiresAt = Number(a.shareExpiresAt);
  const precision = a.sharePrecision;
  if (
    typeof a.sharedUserId !== "string" ||
    typeof a.shareLinkId !== "string" ||
    (precision !== "precise" && precision !== "approximate") ||
    !Number.isFinite(expiresAt)
  )
    throw new Error("route event has a malformed share-link viewer context");
  return {
    sharedUserId: a.sharedUserId,
    linkId: a.shareLinkId,
    precision,
    expiresAt,
    connectionId: event.requestContext.connectionId,
  };
}

/**
 * The caller (or the share-link viewer), on the event and as keys of every log line of the
 * invocation.
 */
export const caller = (): MiddlewareObj<WsEvent & WsRead> => ({
  before: (request) => {
    const viewer = viewerOf(request.event);
    if (viewer) {
      request.event.viewer = viewer;
      logger.appendKeys({
        sharedUserId: viewer.sharedUserId,
        shareLinkId: viewer.linkId,
        connectionId: viewer.connectionId,
      });
      return;
    }
    const who = callerOf(request.event);
    request.event.caller = who;
    logger.appendKeys({ userId: who.userId, connectionId: who.connectionId });
  },
});

function peekRequestId(body: string | undefined): string | undefined {
  try {
    return requestIdOf(JSON.parse(body ?? ""));
  } catch {
    return undefined;
  }
}

export const readFrame = (): MiddlewareObj<WsEvent & WsRead> => ({
  before: (request) => {
    try {
      const value = parseFrameObject(request.event.body);
      request.event.parsed = { ok: true, value };
      request.event.requestId = requestIdOf(value);
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      request.event.parsed = { ok: false, error: err };
      // An oversized frame is refused unread, but its reply still echoes its requestId if it has one.
      if (err.code === "payload_too_large")
        request.event.requestId = peekRequestId(request.event.body);
    }
  },
});

/**
 * The frame, valid for `action`; `null` for `$default`, where any readable frame names no known
 * action.
 */
export const validFrame = (
  action: Action | null,
): MiddlewareObj<WsEvent & WsRead & { frame?: unknown }> => ({
  before: (request) => {
    const parsed = request.event.parsed;
    if (!parsed) throw new Error("validFrame needs readFrame before it");
    if (!parsed.ok) throw parsed.error;
    if (action === null || parsed.value.action !== action)
      throw new AppError("unknown_action", unknownActionMessage(parsed.value.action));
    request.event.frame = validateFrame(action, parsed.value);
  },
});
