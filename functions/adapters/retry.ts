// The one retry loop of the adapters: up to `attempts` tries with full-jitter exponential backoff
// between them (a random delay up to base × 2^attempt), as AWS recommends for throttling and for
// the unprocessed parts of batch calls.

export interface RetryPolicy {
  attempts: number;
  baseDelayMs: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const BATCH_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 25 };

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Run `step` (given the 1-based attempt number) until it says no retry is needed or the attempts
 * are used up; the value of the last step is returned.
 */
export async function withRetry<T>(
  policy: RetryPolicy,
  step: (attempt: number) => Promise<{ retry: boolean; value: T }>,
): Promise<T> {
  const sleep = policy.sleep ?? realSleep;
  const random = policy.random ?? Math.random;
  for (let attempt = 1; ; attempt++) {
    const { retry, value } = await step(attempt);
    if (!retry || attempt >= policy.attempts) return value;
    await sleep(random() * policy.baseDelayMs * 2 ** attempt);
  }
}
