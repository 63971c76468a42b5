// The Powertools middlewares every entry starts with: the tracer's handler segment (responses never
// captured: they carry positions), the logger's Lambda context (request id, cold start; keys reset
// after each invocation) and the metrics flush (EMF) at the end of each invocation, error or not.
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import type { MiddlewareObj } from "@middy/core";
import { logger, metrics, tracer } from "../observability.ts";

export const observe = (): MiddlewareObj[] => [
  captureLambdaHandler(tracer, { captureResponse: false }),
  injectLambdaContext(logger, { resetKeys: true }),
  logMetrics(metrics),
];
