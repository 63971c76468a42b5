// The use cases' counters and timings as CloudWatch EMF metrics (Powertools Metrics), flushed by the
// logMetrics middleware at the end of each invocation.
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { CountMetric, DurationMetric, Telemetry } from "../app/ports.ts";
import { metrics } from "../observability.ts";

export const powertoolsTelemetry: Telemetry = {
  count(metric: CountMetric, value = 1) {
    if (value > 0) metrics.addMetric(metric, MetricUnit.Count, value);
  },
  milliseconds(metric: DurationMetric, value: number) {
    metrics.addMetric(metric, MetricUnit.Milliseconds, value);
  },
};
