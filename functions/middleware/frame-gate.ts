// The gate every frame passes before anything else looks at it (docs/PROTOCOL.md §2.7, §2.9): the
// per-connection rate limit — ping, $default and frames that are not even JSON count too, so a
// flood of any kind is refused — and the session check: a connection the server no longer knows
// (its Redis state lost to a restart, failover or eviction) is told to send `init`. Both in one
// Redis round trip a frame.
import type { MiddlewareObj } from "@middy/core";
import { AppError } from "../domain/errors.ts";
import { FRAMES_PER_WINDOW, RATE_WINDOW_MS } from "../domain/limits.ts";
import type { WsEvent } from "./ws-frame.ts";

export interface Admission {
  /** The frame is within the connection's rate limit. */
  allowed: boolean;
  /** The server holds the connection's session (it connected, or sent `init` since a loss). */
  known: boolean;
}

/** Counts a connection's frames and says whether its session is known. */
export interface FrameGate {
  admit(connectionId: string): Promise<Admission>;
}

export const frameGate = (
  gate: () => Promise<FrameGate>,
  { sessionRequired }: { sessionRequired: boolean },
): MiddlewareObj<WsEvent> => ({
  before: async (request) => {
    const { allowed, known } = await (await gate()).admit(
      request.event.requestContext.connectionId,
    );
    if (!allowed) {
      throw new AppError(
        "rate_limited",
        `more than ${FRAMES_PER_WINDOW} frames in ${RATE_WINDOW_MS / 1000} s on this connection; slow down`,
      );
    }
    // A share-link viewer has no session to lose (it may only ping: ws.ts).
    if (sessionRequired && !known && !(request.event as { viewer?: unknown }).viewer) {
      throw new AppError(
        "init_required",
        "the server lost this connection's session (for example in a restart); send init again",
      );
    }
  },
});
