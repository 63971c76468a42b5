import { describe, expect, it } from "vitest";
import { backoffDelay, DEFAULT_BACKOFF } from "../../../client/backoff.ts";

describe("backoffDelay", () => {
  it("grows by the factor and stops at the cap", () => {
    // Prepare: no jitter taken off (random 0).
    const noJitter = () => 0;

    // Act
    const delays = [0, 1, 2, 3, 4, 5, 6, 7, 8, 20, 1000].map((n) =>
      backoffDelay(n, DEFAULT_BACKOFF, noJitter),
    );

    // Assess
    expect(delays).toEqual([
      500, 1000, 2000, 4000, 8000, 16_000, 30_000, 30_000, 30_000, 30_000, 30_000,
    ]);
  });

  it("takes off at most `jitter` of the base delay, at random", () => {
    const options = { ...DEFAULT_BACKOFF, jitter: 0.5 };
    for (const attempt of [0, 3, 10]) {
      const base = Math.min(options.maxMs, options.initialMs * 2 ** attempt);
      expect(backoffDelay(attempt, options, () => 0)).toBe(base);
      expect(backoffDelay(attempt, options, () => 0.999_999)).toBe(Math.round(base * 0.5));
      for (let i = 0; i < 100; i++) {
        const d = backoffDelay(attempt, options);
        expect(d).toBeGreaterThanOrEqual(base * 0.5);
        expect(d).toBeLessThanOrEqual(base);
      }
    }
  });

  it("spreads clients that retry together", () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelay(4)));
    expect(delays.size).toBeGreaterThan(10);
  });
});
