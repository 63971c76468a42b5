// Jittered exponential backoff, pure: the delay before retry number `attempt` (0-based).

export interface BackoffOptions {
  /** The base delay of the first retry. @default 500 */
  initialMs: number;
  /** The greatest base delay. @default 30000 */
  maxMs: number;
  /** Growth per attempt. @default 2 */
  factor: number;
  /** The share of the base delay taken off at random: the delay lies in [base × (1 − jitter), base]. @default 0.5 */
  jitter: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 500,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.5,
};

/**
 * The delay before retry `attempt` (0 for the first): base = min(maxMs, initialMs × factor^attempt),
 * less a random share of up to `jitter` of it, so that clients dropped together do not return
 * together. `random` returns a number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  const exponent = Math.max(0, Math.floor(attempt));
  const base = Math.min(options.maxMs, options.initialMs * options.factor ** exponent);
  const jitter = Math.min(1, Math.max(0, options.jitter));
  return Math.round(base * (1 - jitter * random()));
}
