// Overload shedding (docs/PROTOCOL.md §2.9, docs/ARCHITECTURE.md "Overload"): a `location` frame
// that waited too long between the gateway receiving it and its handler starting is not stored.
// Such a wait means the handlers are behind (a throttled or saturated function); a newer position
// of the same user is usually queued behind it, so storing this one would spend the scarce
// capacity on a position that is already old. It is answered `rate_limited` with `retryAfterMs`,
// before the frame gate, so a shed frame costs no I/O at all, and the client sends its latest
// position again. Only `location`: every other frame is rare and is served however late.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { MiddlewareObj } from "@middy/core";
import { AppError } from "../domain/errors.ts";
import { BUSY_RETRY_AFTER_MS } from "../domain/limits.ts";
import type { AppMetricName } from "../metric-names.ts";
import { metrics } from "../observability.ts";
import type { WsEvent } from "./ws-frame.ts";

const SHED: AppMetricName = "LocationsShed";

export interface LateFrameRule {
  /** The longest wait a frame may have had; 0 turns shedding off. */
  maxWaitMs: number;
  now: () => number;
}

export const shedLateFrames = ({ maxWaitMs, now }: LateFrameRule): MiddlewareObj<WsEvent> => ({
  before: (request) => {
    if (maxWaitMs <= 0) return;
    const waitedMs = now() - request.event.requestContext.requestTimeEpoch;
    if (!(waitedMs > maxWaitMs)) return;
    metrics.addMetric(SHED, MetricUnit.Count, 1);
    throw new AppError(
      "rate_limited",
      `the server is busy: this position waited ${Math.round(waitedMs)} ms and was not stored; send your latest position again after retryAfterMs`,
      { retryAfterMs: BUSY_RETRY_AFTER_MS },
    );
  },
});
