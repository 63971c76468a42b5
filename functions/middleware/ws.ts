// The WebSocket routes' handler stack. A route is `middy(handler)` with, in order: observability,
// error replies, the caller, the frame read once, the frame gate (the per-connection rate limit on
// every route, ping and $default included, and the session check), then the frame validated for
// the route's action. The handler body holds only its use case. Our own middlewares, not
// @middy/ws-*: the protocol's error frames, rate limit and session check are ours.
import middy, { type MiddlewareObj } from "@middy/core";
import type { Context } from "aws-lambda";
import { AppError, type ErrorCode } from "../domain/errors.ts";
import type { Action } from "../domain/frames.ts";
import { describeError, logger } from "../observability.ts";
import { clientErrorOf } from "./errors.ts";
import { type FrameGate, frameGate } from "./frame-gate.ts";
import { type LateFrameRule, shedLateFrames } from "./late-frames.ts";
import { observe } from "./observability.ts";
import {
  caller,
  type FrameEvent,
  readFrame,
  validFrame,
  type WsEvent,
  type WsRead,
  type WsResult,
  type WsViewer,
} from "./ws-frame.ts";

export type { FrameEvent, WsEvent, WsResult } from "./ws-frame.ts";

/**
 * A WebSocket entry as Lambda (and the local stack) calls it, with the raw route event: the caller
 * and the frame that route handlers see are added by the middlewares.
 */
export type WsHandler = (event: WsEvent, context?: Context) => Promise<WsResult>;

export function reply(type: string, requestId: string | undefined, fields: object = {}): WsResult {
  return {
    statusCode: 200,
    body: JSON.stringify(
      requestId === undefined ? { type, ...fields } : { type, requestId, ...fields },
    ),
  };
}

/** Any error becomes the protocol's error frame; the connection stays open. */
export const wsErrorReplies = (): MiddlewareObj<WsEvent & WsRead, WsResult> => ({
  onError: (request) => {
    const error = clientErrorOf(request.error, request.event.requestContext.routeKey);
    request.response = reply("error", request.event.requestId, error);
  },
});

export interface RouteOptions {
  /** Shed frames that waited too long for the handler (`location` only: late-frames.ts). */
  shedLate?: LateFrameRule;
}

/**
 * A share-link viewer may only send `ping` (docs/PROTOCOL.md §2.10); every other frame, `$default`'s
 * included, is `unknown_action`, after the rate limit and before anything reads the frame.
 */
export const viewersOnlyPing = (action: Action | null): MiddlewareObj<WsEvent & WsRead> => ({
  before: (request) => {
    if (request.event.viewer && action !== "ping")
      throw new AppError("unknown_action", "a share-link viewer may only send ping");
  },
});

/** The frame stack every route that receives frames shares, `$default` included. */
const frameStack = (
  gate: () => Promise<FrameGate>,
  action: Action | null,
  options: RouteOptions = {},
) => [
  ...observe(),
  wsErrorReplies(),
  caller(),
  readFrame(),
  // Before the gate: a shed frame costs no I/O.
  ...(options.shedLate ? [shedLateFrames(options.shedLate)] : []),
  // `init` (re)creates the session and $default answers what it cannot read: neither needs one.
  frameGate(gate, { sessionRequired: action !== null && action !== "init" }),
  viewersOnlyPing(action),
  validFrame(action),
];

/** A frame route: `run` gets the caller and the valid frame and returns the reply (or nothing). */
export function wsRoute<A extends Action>(
  action: A,
  gate: () => Promise<FrameGate>,
  run: (event: FrameEvent<A>) => Promise<WsResult>,
  options?: RouteOptions,
): WsHandler {
  return middy<FrameEvent<A>, WsResult>(run).use(
    frameStack(gate, action, options),
  ) as unknown as WsHandler;
}

/** `$default`: frames that are not JSON, too large, or name no known action (after the rate limit). */
export function wsDefaultRoute(gate: () => Promise<FrameGate>): WsHandler {
  const unreachable = async (): Promise<WsResult> => {
    throw new Error("validFrame(null) lets no frame through to $default");
  };
  return middy<WsEvent & WsRead, WsResult>(unreachable).use(
    frameStack(gate, null),
  ) as unknown as WsHandler;
}

/** The status a refused handshake gets (docs/PROTOCOL.md §1); API Gateway answers with it. */
const HANDSHAKE_STATUS: Partial<Record<ErrorCode, number>> = {
  // Over the user's connection cap or handshake rate: retry later, or close another connection.
  rate_limited: 429,
  // A dependency is down: retry with backoff.
  unavailable: 503,
  // A share link revoked or expired while its viewer's handshake was under way.
  unauthorized: 401,
};

/**
 * `$connect` and `$disconnect`: the caller and observability. `$connect` refuses the handshake with
 * the status of its error (429, 503, else 500), counted as a client error like any other;
 * `$disconnect` logs its failure with the caller's keys and rethrows. A share-link viewer's
 * connection runs `runViewer` instead of `run`.
 */
export function wsLifecycle(
  route: "$connect" | "$disconnect",
  run: (event: WsEvent & { caller: { userId: string; connectionId: string } }) => Promise<void>,
  runViewer: (event: WsEvent & { viewer: WsViewer }) => Promise<void>,
): WsHandler {
  const failures: MiddlewareObj<WsEvent, WsResult> = {
    onError: (request) => {
      if (route === "$connect") {
        const { code } = clientErrorOf(request.error, route);
        request.response = { statusCode: HANDSHAKE_STATUS[code] ?? 500 };
      } else {
        logger.error(`${route} failed`, describeError(request.error));
      }
    },
  };
  type LifecycleEvent = WsEvent & WsRead;
  return middy<LifecycleEvent, WsResult>(async (event: LifecycleEvent) => {
    const { caller: who, viewer } = event;
    if (viewer) await runViewer({ ...event, viewer });
    else if (who) await run({ ...event, caller: who });
    else throw new Error("the caller middleware set neither a caller nor a viewer");
    return { statusCode: 200 };
  })
    .use(observe())
    .use(failures)
    .use(caller()) as unknown as WsHandler;
}
