// The WebSocket edge: turns API Gateway route events into validated frames, and results or thrown
// errors into protocol replies. An error reply never closes the connection.
import type { APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import type { RateLimiter } from "../adapters/rate-limiter.ts";
import { AppError, toClientError } from "../domain/errors.ts";
import {
  type Action,
  type Frame,
  parseFrame,
  parseFrameObject,
  requestIdOf,
  unknownActionMessage,
} from "../domain/frames.ts";
import { describeError, log } from "./log.ts";

/** A route event with the Lambda authorizer's context, as API Gateway passes it to every route. */
export type WsEvent = APIGatewayProxyWebsocketEventV2 & {
  requestContext: APIGatewayProxyWebsocketEventV2["requestContext"] & {
    authorizer?: { userId?: unknown; principalId?: unknown };
  };
};

export interface WsContext {
  userId: string;
  connectionId: string;
}

export type WsResult = { statusCode: number; body?: string };

/** The authenticated caller of a route event; the authorizer ran on $connect, so its absence is a bug. */
export function callerOf(event: WsEvent): WsContext {
  const userId = event.requestContext.authorizer?.userId;
  if (typeof userId !== "string" || userId === "")
    throw new Error("route event has no authorizer userId");
  return { userId, connectionId: event.requestContext.connectionId };
}

export function reply(type: string, requestId: string | undefined, fields: object = {}): WsResult {
  return {
    statusCode: 200,
    body: JSON.stringify(
      requestId === undefined ? { type, ...fields } : { type, requestId, ...fields },
    ),
  };
}

export function errorReply(err: unknown, requestId: string | undefined, event: WsEvent): WsResult {
  const { code, message } = toClientError(err);
  if (!(err instanceof AppError) || code === "unavailable") {
    log.error("route failed", { route: event.requestContext.routeKey, ...describeError(err) });
  }
  return reply("error", requestId, { code, message });
}

function peekRequestId(body: string | undefined): string | undefined {
  try {
    return requestIdOf(JSON.parse(body ?? ""));
  } catch {
    return undefined;
  }
}

export interface RouteOptions {
  /** Counts the connection's frames; a frame over the limit gets `rate_limited` and does nothing. */
  rateLimiter?: () => Promise<RateLimiter>;
}

/** A handler for one action: `run` gets the valid frame and returns the reply fields (or nothing). */
export function wsRoute<A extends Action>(
  action: A,
  run: (
    frame: Frame<A>,
    ctx: WsContext,
  ) => Promise<{ type: string; [k: string]: unknown } | undefined>,
  options: RouteOptions = {},
) {
  return async (event: WsEvent): Promise<WsResult> => {
    const requestId = peekRequestId(event.body);
    try {
      if (options.rateLimiter) {
        const limiter = await options.rateLimiter();
        if (!(await limiter.allow(event.requestContext.connectionId))) {
          throw new AppError("rate_limited", "more than 10 frames a second; slow down");
        }
      }
      const frame = parseFrame(action, event.body);
      const out = await run(frame, callerOf(event));
      if (!out) return { statusCode: 200 };
      const { type, ...fields } = out;
      return reply(type, frame.requestId, fields);
    } catch (err) {
      return errorReply(err, requestId, event);
    }
  };
}

/** `$default`: frames that are not JSON, too large, or name no known action. */
export async function defaultRoute(event: WsEvent): Promise<WsResult> {
  const requestId = peekRequestId(event.body);
  try {
    const value = parseFrameObject(event.body);
    throw new AppError("unknown_action", unknownActionMessage(value.action));
  } catch (err) {
    return errorReply(err, requestId, event);
  }
}
