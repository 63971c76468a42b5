// The per-connection frame rate limit (docs/PROTOCOL.md §2.7), applied before anything else looks at
// the frame: ping, $default and frames that are not even JSON count too, so a flood of any kind is
// refused at the cost of one Redis round trip a frame.
import type { MiddlewareObj } from "@middy/core";
import { AppError } from "../domain/errors.ts";
import { FRAMES_PER_WINDOW, RATE_WINDOW_MS } from "../domain/limits.ts";
import type { WsEvent } from "./ws-frame.ts";

/** Counts a connection's frames; false when the connection has used up this window's frames. */
export interface RateLimiter {
  allow(connectionId: string): Promise<boolean>;
}

export const rateLimit = (limiter: () => Promise<RateLimiter>): MiddlewareObj<WsEvent> => ({
  before: async (request) => {
    const allowed = await (await limiter()).allow(request.event.requestContext.connectionId);
    if (!allowed) {
      throw new AppError(
        "rate_limited",
        `more than ${FRAMES_PER_WINDOW} frames in ${RATE_WINDOW_MS / 1000} s on this connection; slow down`,
      );
    }
  },
});
