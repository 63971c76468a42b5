// The one error hierarchy of the system, and its mapping to protocol codes and HTTP statuses.

export type ErrorCode =
  | "invalid_json"
  | "invalid_request"
  | "unknown_action"
  | "payload_too_large"
  | "not_friends"
  | "rate_limited"
  | "unavailable"
  | "init_required"
  | "internal"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict";

/** An error whose message is safe to show to a client. */
export class AppError extends Error {
  override readonly name: string = "AppError";
  /** How long the client should wait before retrying (sent as `retryAfterMs`), when known. */
  readonly retryAfterMs: number | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/** What a client is told of an error: the protocol's code, a message, and when to retry. */
export interface ClientError {
  code: ErrorCode;
  message: string;
  retryAfterMs?: number;
}

export class InvalidRequestError extends AppError {
  override readonly name = "InvalidRequestError";
  constructor(message: string) {
    super("invalid_request", message);
  }
}

export class NotFoundError extends AppError {
  override readonly name = "NotFoundError";
  constructor(message: string) {
    super("not_found", message);
  }
}

export class ConflictError extends AppError {
  override readonly name = "ConflictError";
  constructor(message: string) {
    super("conflict", message);
  }
}

export class NotFriendsError extends AppError {
  override readonly name = "NotFriendsError";
  constructor(friendId: string) {
    super("not_friends", `${friendId} is not your friend`);
  }
}

/** The caller is over one of its limits (docs/PROTOCOL.md §2.9, §1, §3); nothing was done. */
export class RateLimitedError extends AppError {
  override readonly name = "RateLimitedError";
  /** `retryAfterMs`: when the limit lets the caller through again, when known. */
  constructor(message: string, retryAfterMs?: number) {
    super("rate_limited", message, retryAfterMs === undefined ? {} : { retryAfterMs });
  }
}

/** A backend dependency (Redis, Kinesis, DynamoDB) failed; the client should retry with backoff. */
export class UnavailableError extends AppError {
  override readonly name = "UnavailableError";
  constructor(what: string, cause: unknown) {
    super("unavailable", `${what} is unavailable, retry with backoff`, { cause });
  }
}

const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_request: 400,
  unknown_action: 400,
  payload_too_large: 413,
  not_friends: 403,
  rate_limited: 429,
  unavailable: 503,
  init_required: 409,
  internal: 500,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
};

export const httpStatusOf = (code: ErrorCode): number => HTTP_STATUS[code];

const TRANSIENT_NAMES =
  /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded|LimitExceeded|ServiceUnavailable|InternalServerError|InternalFailure|TimeoutError|MaxRetriesPerRequestError|ClusterAllFailedError|TooManyRequests/;
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * Whether an error thrown by an SDK or the Redis client means the dependency is down or
 * overloaded (retry later), as opposed to a bug in how we called it.
 */
export function isDependencyFailure(err: unknown): boolean {
  if (typeof err !== "object" || err === null) return false;
  const e = err as {
    name?: unknown;
    code?: unknown;
    message?: unknown;
    $fault?: unknown;
    $metadata?: unknown;
  };
  if (typeof e.code === "string" && NETWORK_CODES.has(e.code)) return true;
  if (typeof e.name === "string" && TRANSIENT_NAMES.test(e.name)) return true;
  if (e.$metadata !== undefined && e.$fault === "server") return true;
  return (
    typeof e.message === "string" &&
    /^Connection is closed|^Stream isn't writeable|^Command timed out|^Reached the max retries/.test(
      e.message,
    )
  );
}

/** The client-facing view of any thrown value: an AppError as it is, a dependency failure as
 * `unavailable`, anything else as `internal` (with no internals in the message). */
export function toClientError(err: unknown): ClientError {
  if (err instanceof AppError) {
    const { code, message, retryAfterMs } = err;
    return retryAfterMs === undefined ? { code, message } : { code, message, retryAfterMs };
  }
  if (isDependencyFailure(err))
    return {
      code: "unavailable",
      message: "a backend dependency is unavailable, retry with backoff",
    };
  return { code: "internal", message: "internal error" };
}
