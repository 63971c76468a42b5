// The SDK's errors: what the server refused (NearbyFriendsError, with the protocol's code and,
// for HTTP, the status), a request that got no reply in time, and a client that was closed.
import type { ErrorCode } from "./types.ts";

/** The server refused a frame or an HTTP request. */
export class NearbyFriendsError extends Error {
  override readonly name: string = "NearbyFriendsError";
  /** The protocol's error code (§2.7, §3); for an HTTP reply without the envelope, derived from the status. */
  readonly code: ErrorCode;
  /** The HTTP status (HTTP API only). */
  readonly status: number | undefined;
  /** How long the server asked to wait before retrying, when it said so. */
  readonly retryAfterMs: number | undefined;
  /** The requestId of the frame the error is about (WebSocket only). */
  readonly requestId: string | undefined;
  constructor(
    code: ErrorCode,
    message: string,
    details: { status?: number; retryAfterMs?: number; requestId?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = details.status;
    this.retryAfterMs = details.retryAfterMs;
    this.requestId = details.requestId;
  }
}

/** A request got no reply within its timeout. */
export class TimeoutError extends Error {
  override readonly name = "TimeoutError";
  constructor(
    readonly action: string,
    readonly timeoutMs: number,
  ) {
    super(`${action}: no reply within ${timeoutMs} ms`);
  }
}

/** The client was closed (by `close()`) before the request completed. */
export class ClosedError extends Error {
  override readonly name = "ClosedError";
  constructor(message = "the client is closed") {
    super(message);
  }
}
