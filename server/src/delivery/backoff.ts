// When to try a deferred recipient again, and when to give up.
export interface RetryPolicy {
  retryDelaysSeconds: number[];
  giveUpAfterSeconds: number;
}

/** The next attempt's time after `attempts` tries, or null when it would fall past the give-up time. */
export function nextRetryAt(
  policy: RetryPolicy,
  attempts: number,
  firstAttemptAt: number,
  now: number,
): number | null {
  const delays = policy.retryDelaysSeconds;
  const delay = delays[Math.min(Math.max(attempts, 1), delays.length) - 1] ?? 300;
  const at = now + delay * 1000;
  return at > firstAttemptAt + policy.giveUpAfterSeconds * 1000 ? null : at;
}
