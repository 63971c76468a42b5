// Telemetry and log fakes for use-case tests: they record what the use case reported.
import type { CountMetric, DurationMetric, Log, Telemetry } from "../../functions/app/ports.ts";

export class RecordingTelemetry implements Telemetry {
  readonly counts = new Map<CountMetric, number>();
  readonly durations = new Map<DurationMetric, number[]>();

  count(metric: CountMetric, value = 1): void {
    this.counts.set(metric, (this.counts.get(metric) ?? 0) + value);
  }

  milliseconds(metric: DurationMetric, value: number): void {
    const values = this.durations.get(metric) ?? [];
    values.push(value);
    this.durations.set(metric, values);
  }
}

export class RecordingLog implements Log {
  readonly lines: { level: "error" | "warn"; message: string; detail: object }[] = [];
  error(message: string, detail: Record<string, unknown>): void {
    this.lines.push({ level: "error", message, detail });
  }
  warn(message: string, detail: Record<string, unknown>): void {
    this.lines.push({ level: "warn", message, detail });
  }
}
