// The one logger, metrics and tracer of every function (Powertools for AWS Lambda), created once at
// cold start. Configuration comes from the environment the CDK stack sets: POWERTOOLS_SERVICE_NAME,
// POWERTOOLS_METRICS_NAMESPACE, POWERTOOLS_LOG_LEVEL, POWERTOOLS_TRACE_ENABLED and STAGE.
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Tracer } from "@aws-lambda-powertools/tracer";
import { optionalEnv } from "./config.ts";
import { METRICS_NAMESPACE, SERVICE_NAME } from "./metric-names.ts";

/** The stage (cell) a function serves: the `stage` dimension of every metric. */
export const stage = optionalEnv("STAGE") ?? "local";

export const logger = new Logger({ serviceName: SERVICE_NAME });

export const metrics = new Metrics({
  namespace: METRICS_NAMESPACE,
  serviceName: SERVICE_NAME,
  defaultDimensions: { stage },
  // Metrics' own warnings go through the one logger. "No application metrics" is the normal case
  // of routes that count nothing (ping, $connect), so it is demoted to debug.
  logger: {
    debug: (...args: unknown[]) => logger.debug(String(args[0])),
    info: (...args: unknown[]) => logger.info(String(args[0])),
    error: (...args: unknown[]) => logger.error(String(args[0])),
    warn: (...args: unknown[]) => {
      const message = String(args[0]);
      if (message.startsWith("No application metrics")) logger.debug(message);
      else logger.warn(message);
    },
  },
});

/**
 * The tracer, only where tracing is on and the function runs in Lambda. Loading it at all enables
 * the X-Ray SDK's async hooks for the whole process (a cost on every promise), so a function with
 * tracing off — the hot paths — never imports it.
 */
export const tracingOn =
  optionalEnv("POWERTOOLS_TRACE_ENABLED") !== "false" &&
  optionalEnv("AWS_LAMBDA_FUNCTION_NAME") !== undefined;

export const tracer: Tracer | undefined = tracingOn
  ? new (await import("@aws-lambda-powertools/tracer")).Tracer({ serviceName: SERVICE_NAME })
  : undefined;

/** Name, type, message and cause of a thrown value, for a log line (never a stack sent to a client). */
export const describeError = (err: unknown) => ({
  error: err instanceof Error ? err.name : typeof err,
  // Not `message`: that key is the log line's own in Powertools (an extra one would be dropped).
  errorMessage: err instanceof Error ? err.message : String(err),
  ...(err instanceof Error && err.cause !== undefined ? { cause: String(err.cause) } : {}),
});
