// Small statistics helpers of the load tool and the simulator: percentiles and named counters.

export interface Summary {
  p50: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

const round1 = (x: number | null) => (x === null ? null : Math.round(x * 10) / 10);

export function summarise(samples: readonly number[]): Summary {
  if (samples.length === 0) return { p50: null, p95: null, p99: null, max: null };
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) =>
    sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1] ?? null;
  return {
    p50: round1(at(50)),
    p95: round1(at(95)),
    p99: round1(at(99)),
    max: round1(sorted[sorted.length - 1] ?? null),
  };
}

/** Counts by name, serialised as a plain object with sorted keys. */
export class Counter {
  private readonly counts = new Map<string, number>();
  add(name: string, n = 1): void {
    this.counts.set(name, (this.counts.get(name) ?? 0) + n);
  }
  total(): number {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }
}
