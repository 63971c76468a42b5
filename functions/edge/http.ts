// The HTTP edge: API Gateway HTTP API events (JWT authorizer) to use-case calls, and results or
// errors to JSON replies in the protocol's shape.
import type {
  APIGatewayProxyEventV2WithJWTAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from "aws-lambda";
import type { z } from "zod";
import { AppError, httpStatusOf, InvalidRequestError, toClientError } from "../domain/errors.ts";
import { USER_ID_PATTERN } from "../domain/frames.ts";
import { describeError, log } from "./log.ts";

export type HttpEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type HttpResult = APIGatewayProxyStructuredResultV2;

export interface HttpRequest {
  userId: string;
  event: HttpEvent;
}

const JSON_HEADERS = { "content-type": "application/json" };

export const json = (statusCode: number, body?: unknown): HttpResult =>
  body === undefined
    ? { statusCode }
    : { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };

export function httpError(err: unknown, event: HttpEvent): HttpResult {
  const { code, message } = toClientError(err);
  if (!(err instanceof AppError) || code === "unavailable") {
    log.error("request failed", { route: event.routeKey, ...describeError(err) });
  }
  return json(httpStatusOf(code), { error: { code, message } });
}

/** The caller: API Gateway's JWT authorizer has verified the token and passes its claims. */
function callerOf(event: HttpEvent): string {
  const sub = event.requestContext.authorizer?.jwt?.claims?.sub;
  if (typeof sub !== "string" || !USER_ID_PATTERN.test(sub))
    throw new AppError("unauthorized", "a valid token is required");
  return sub;
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
  const result = schema.safeParse(value);
  if (!result.success)
    throw new InvalidRequestError(result.error.issues[0]?.message ?? "the body is invalid");
  return result.data;
}

type RouteFn = (req: HttpRequest) => Promise<HttpResult>;

/** One Lambda serving several routes of the HTTP API, selected by `routeKey`. */
export function httpRoutes(routes: Record<string, RouteFn>) {
  return async (event: HttpEvent): Promise<HttpResult> => {
    try {
      const route = routes[event.routeKey];
      if (!route) throw new AppError("not_found", `no route ${event.routeKey}`);
      return await route({ userId: callerOf(event), event });
    } catch (err) {
      return httpError(err, event);
    }
  };
}
