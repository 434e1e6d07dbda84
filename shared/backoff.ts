/**
 * Capped exponential back-off with full jitter (the AWS Architecture Blog's "Full Jitter"): the delay
 * is drawn uniformly from [0, min(cap, base * 2^(attempt-1))), which spreads a fleet's retries instead
 * of synchronising them. The exponent is clamped, so a long outage never overflows (the Java caching
 * client's `long` overflow) or yields NaN.
 */

export interface BackoffPolicy {
  /** The ceiling of the first retry's delay, in milliseconds. */
  readonly baseMs: number;
  /** No delay is ever longer than this, in milliseconds. */
  readonly maxMs: number;
}

const MAX_EXPONENT = 40;

/**
 * The delay before retry number `attempt` (1 = the first retry after one failure), in milliseconds.
 * `random` returns a number in [0, 1), as `Math.random` does; tests inject a fixed one.
 */
export function fullJitterDelayMs(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  const exponent = Math.min(Math.max(Math.floor(attempt) - 1, 0), MAX_EXPONENT);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** exponent);
  const draw = Math.min(Math.max(random(), 0), 1);
  return Math.max(0, Math.floor(ceiling * draw));
}
