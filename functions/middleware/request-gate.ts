// The per-user rate limit of the HTTP API (docs/PROTOCOL.md §3): every request of an authenticated
// caller is counted, on every route, before the route runs; over the limit it is answered 429
// `rate_limited` with a `retry-after`. Without Redis the limit is not checked (the request goes on,
// logged): a route that needs no Redis keeps working while Redis is down, and API Gateway's stage
// throttle still bounds the total.
import type { MiddlewareObj } from "@middy/core";
import { isDependencyFailure, RateLimitedError } from "../domain/errors.ts";
import { HTTP_RATE_WINDOW_MS, HTTP_REQUESTS_PER_WINDOW } from "../domain/limits.ts";
import { describeError, logger } from "../observability.ts";

export interface RequestAdmission {
  /** The request is within the caller's limit. */
  allowed: boolean;
  /** Time until the caller's current window ends. */
  retryAfterMs: number;
}

/** Counts a user's HTTP requests. */
export interface RequestGate {
  admit(userId: string): Promise<RequestAdmission>;
}

export const requestRateLimit = (
  gate: () => Promise<RequestGate>,
): MiddlewareObj<{ userId?: string }> => ({
  before: async (request) => {
    const userId = request.event.userId;
    if (userId === undefined) throw new Error("requestRateLimit needs the caller before it");
    let admission: RequestAdmission;
    try {
      admission = await (await gate()).admit(userId);
    } catch (err) {
      if (!isDependencyFailure(err)) throw err;
      logger.warn("rate limit not checked: Redis is unavailable", describeError(err));
      return;
    }
    if (!admission.allowed) {
      throw new RateLimitedError(
        `more than ${HTTP_REQUESTS_PER_WINDOW} requests in ${HTTP_RATE_WINDOW_MS / 1000} s from this user; retry later`,
        admission.retryAfterMs,
      );
    }
  },
});
