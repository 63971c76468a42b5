// The one error hierarchy of the system, and its mapping to protocol codes and HTTP statuses.

export type ErrorCode =
  | "invalid_json"
  | "invalid_request"
  | "unknown_action"
  | "payload_too_large"
  | "not_friends"
  | "rate_limited"
  | "unavailable"
  | "internal"
  | "unauthorized"
  | "forbidden"
  | "not_found"
  | "conflict";

/** An error whose message is safe to show to a client. */
export class AppError extends Error {
  override readonly name: string = "AppError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
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
  internal: 500,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
};

export const httpStatusOf = (code: ErrorCode): number => HTTP_STATUS[code];

/** The client-facing view of any thrown value: an AppError as it is, anything else as `internal`. */
export function toClientError(err: unknown): { code: ErrorCode; message: string } {
  if (err instanceof AppError) return { code: err.code, message: err.message };
  return { code: "internal", message: "internal error" };
}
