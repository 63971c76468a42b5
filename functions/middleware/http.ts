// The HTTP API's handler stack: `middy(@middy/http-router)` with observability, the protocol's error
// envelope, the caller (the JWT authorizer's `sub`) and the caller's rate limit, counted before any
// route (or "no route") runs. Route handlers hold only their use case;
// `parseBody` and `userIdParam` validate at the edge with messages that name the field. The error
// envelope is ours, not @middy/http-error-handler's: the protocol's body is {"error":{code,message}}.
import middy, { type MiddlewareObj } from "@middy/core";
import httpRouterHandler, { type Method } from "@middy/http-router";
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
  Context,
} from "aws-lambda";
import type { z } from "zod";
import { AppError, httpStatusOf, InvalidRequestError, NotFoundError } from "../domain/errors.ts";
import { USER_ID_PATTERN } from "../domain/frames.ts";
import { logger } from "../observability.ts";
import { clientErrorOf } from "./errors.ts";
import { observe } from "./observability.ts";
import { type RequestGate, requestRateLimit } from "./request-gate.ts";

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;
export type HttpRouteEvent = HttpEvent & { userId: string };
/** An HTTP entry as Lambda calls it (the middlewares add the caller's `userId`). */
export type HttpHandler = (event: HttpEvent, context?: Context) => Promise<HttpResult>;

const JSON_HEADERS = { "content-type": "application/json" };

export const json = (statusCode: number, body?: unknown): HttpResult =>
  body === undefined
    ? { statusCode }
    : { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };

/** The caller: API Gateway's JWT authorizer has verified the token and passes its claims. */
const jwtCaller = (): MiddlewareObj<HttpEvent & { userId?: string }> => ({
  before: (request) => {
    const sub = request.event.requestContext.authorizer?.jwt?.claims?.sub;
    if (typeof sub !== "string" || !USER_ID_PATTERN.test(sub))
      throw new AppError("unauthorized", "a valid token is required");
    request.event.userId = sub;
    logger.appendKeys({ userId: sub });
  },
});

/**
 * Any error becomes `{"error":{"code","message"[,"retryAfterMs"]}}` with the code's status; an
 * error that says when to retry also gets `retry-after` (whole seconds).
 */
const httpErrorEnvelope = (): MiddlewareObj<HttpEvent, HttpResult> => ({
  onError: (request) => {
    const error = clientErrorOf(request.error, request.event.routeKey);
    const response = json(httpStatusOf(error.code), { error });
    if (error.retryAfterMs !== undefined) {
      const seconds = String(Math.max(1, Math.ceil(error.retryAfterMs / 1000)));
      response.headers = { ...response.headers, "retry-after": seconds };
    }
    request.response = response;
  },
});

type RouteFn = (event: HttpRouteEvent) => Promise<HttpResult>;

/**
 * One Lambda serving several routes of the HTTP API, keyed "METHOD /path" as in routes.ts; every
 * request counts against its caller's rate limit (`gate`).
 */
export function httpApi(
  routes: Record<string, RouteFn>,
  gate: () => Promise<RequestGate>,
): HttpHandler {
  const router = httpRouterHandler({
    routes: Object.entries(routes).map(([routeKey, handler]) => {
      const [method, path] = routeKey.split(" ") as [Method, string];
      return { method, path, handler };
    }),
    notFoundResponse: ({ method, path }) => {
      throw new NotFoundError(`no route ${method} ${path}`);
    },
  });
  return middy<HttpRouteEvent, HttpResult>(router)
    .use(observe())
    .use(httpErrorEnvelope())
    .use(jwtCaller())
    .use(requestRateLimit(gate)) as unknown as HttpHandler;
}

/** A path parameter that must be a user id. */
export function userIdParam(event: HttpEvent, name = "userId"): string {
  const value = event.pathParameters?.[name];
  if (value === undefined || !USER_ID_PATTERN.test(value)) {
    throw new InvalidRequestError(`${name} must be 1-128 characters from letters, digits and -_.@`);
  }
  return value;
}

/** The JSON body, validated; the first problem names its field. */
export function parseBody<T extends z.ZodType>(event: HttpEvent, schema: T): z.infer<T> {
  let value: unknown;
  try {
    const raw = event.isBase64Encoded
      ? Buffer.from(event.body ?? "", "base64").toString("utf8")
      : event.body;
    value = JSON.parse(raw ?? "");
  } catch {
    throw new InvalidRequestError("the body must be a JSON object");
  }
  return validated(schema, value, "the body is invalid");
}

/** A value validated against a schema; the first problem (naming its field) as `invalid_request`. */
export function validated<T extends z.ZodType>(schema: T, value: unknown, fallback: string) {
  const result = schema.safeParse(value);
  if (!result.success) throw new InvalidRequestError(result.error.issues[0]?.message ?? fallback);
  return result.data as z.infer<T>;
}
