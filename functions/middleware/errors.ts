// Client errors, counted and logged in one place for both APIs: every error reply is a
// `ClientErrors` metric with its protocol code; only the unexpected and `unavailable` are logged
// (with their cause), since the rest are the clients' own mistakes.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { AppError, type ClientError, toClientError } from "../domain/errors.ts";
import type { AppMetricName } from "../metric-names.ts";
import { describeError, logger, metrics } from "../observability.ts";

const CLIENT_ERRORS: AppMetricName = "ClientErrors";

export function clientErrorOf(err: unknown, where: string): ClientError {
  const out = toClientError(err);
  if (!(err instanceof AppError) || out.code === "unavailable") {
    logger.error("request failed", { route: where, ...describeError(err) });
  }
  metrics
    .singleMetric()
    .addDimension("code", out.code)
    .addMetric(CLIENT_ERRORS, MetricUnit.Count, 1);
  return out;
}
