/**
 * The Lambda's remaining time. Each step checks it before every slow operation, and every Secrets
 * Manager and database call runs under `bound`, so a call that gets no answer fails with a clear
 * TimeoutError while there is still time to report it, instead of the invocation being killed mid-call
 * with nothing logged.
 */
import { TimeoutError } from '../errors';
import { MAX_TIMER_MS, withinTimeLimit } from '../time-limit';
import type { RotationInvocationContext } from './event';

/** Time kept back to log the failure and return before Lambda's hard stop. */
export const DEFAULT_SAFETY_MARGIN_MS = 1_500;

/** Named in the deadline's own TimeoutErrors (never a value). */
export interface DeadlineContext {
  readonly secretId?: string;
  readonly step?: string;
}

/**
 * Builds the error a call fails with when the deadline passes while it runs (or before it starts).
 * Called at most once per `bound` call.
 */
export type DeadlineErrorFactory = () => Error;

/**
 * One invocation's time budget: what Lambda says is left, minus `safetyMarginMs` (default 1 500 ms)
 * kept back to log the failure and return. Without an invocation context (tests, the local loop), or
 * with one lacking `getRemainingTimeInMillis`, there is no deadline: `remainingMs` is Infinity and `bound` adds no timer.
 */
export class Deadline {
  constructor(
    private readonly invocation: RotationInvocationContext | undefined,
    private readonly context: DeadlineContext = {},
    private readonly safetyMarginMs = DEFAULT_SAFETY_MARGIN_MS,
  ) {}

  /** Milliseconds left for work; Infinity outside Lambda (or a context without the method). */
  remainingMs(): number {
    // A caller's own context object (a test runner, a framework's wrapper) may lack the method: no deadline then.
    const clock = this.invocation?.getRemainingTimeInMillis;
    const left = typeof clock === 'function' ? clock.call(this.invocation) : undefined;
    return left === undefined || !Number.isFinite(left) ? Infinity : left - this.safetyMarginMs;
  }

  /** Throws when there is no time left to start `what`. */
  check(what: string): void {
    if (this.remainingMs() <= 0) {
      throw new TimeoutError(`Not enough Lambda time left to ${what}; raise the function's timeout`, this.context);
    }
  }

  /** The connect timeout to use now: the configured one, shortened to the time left. */
  connectTimeoutMs(configured: number): number {
    this.check('open a database connection');
    return Math.max(1, Math.min(configured, Math.floor(this.remainingMs())));
  }

  /**
   * Runs `work` under the deadline. `work` gets a signal that aborts when the time left runs out (pass
   * it on to the SDK or driver so the request itself is dropped); the returned promise rejects with
   * `onExpiry()` at that moment even when `work` ignores the signal. With no time left, `work` is not
   * started at all. Outside Lambda (no deadline) `work` runs unbounded and gets no signal.
   *
   * A `work` promise that settles after the deadline is left to settle unobserved: the caller cleans
   * up what it may still deliver (see `login`, which closes a late session).
   *
   * @throws whatever `onExpiry` returns, when the deadline passes first; else what `work` throws.
   */
  async bound<T>(work: (signal: AbortSignal | undefined) => Promise<T>, onExpiry: DeadlineErrorFactory): Promise<T> {
    const left = this.remainingMs();
    if (left === Infinity) return work(undefined);
    if (left <= 0) throw onExpiry();
    return withinTimeLimit(left, work, onExpiry);
  }

  /**
   * Waits for `promise` at most until the deadline, then returns anyway (it keeps running): for
   * clean-up such as closing a session, which must not hold the step past its deadline. Never throws.
   */
  async waitAtMost(promise: Promise<unknown>): Promise<void> {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    const left = this.remainingMs();
    if (left === Infinity) return settled;
    if (left <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.min(Math.ceil(left), MAX_TIMER_MS));
    });
    try {
      await Promise.race([settled, expired]);
    } finally {
      clearTimeout(timer);
    }
  }
}
