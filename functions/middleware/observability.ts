// The Powertools middlewares every entry starts with: the tracer's handler segment (responses never
// captured: they carry positions), the logger's Lambda context (request id, cold start; keys reset
// after each invocation) and the metrics flush (EMF) at the end of each invocation, error or not.
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import type { MiddlewareObj } from "@middy/core";
import { logger, metrics, tracer } from "../observability.ts";

// Loaded only with the tracer (see observability.ts: loading it has a cost of its own).
const tracing: MiddlewareObj[] = tracer
  ? [
      (await import("@aws-lambda-powertools/tracer/middleware")).captureLambdaHandler(tracer, {
        captureResponse: false,
      }),
    ]
  : [];

export const observe = (): MiddlewareObj[] => [
  ...tracing,
  injectLambdaContext(logger, { resetKeys: true }),
  logMetrics(metrics),
];
