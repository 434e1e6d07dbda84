/**
 * The Lambda's remaining time. Each step checks it before every slow operation and fails with a clear
 * TimeoutError while there is still time to report it, instead of being killed mid-statement.
 */
import { TimeoutError } from '../errors';
import type { RotationInvocationContext } from './event';

/** Time kept back to log the failure and return before Lambda's hard stop. */
export const DEFAULT_SAFETY_MARGIN_MS = 1_500;

export interface DeadlineContext {
  readonly secretId?: string;
  readonly step?: string;
}

export class Deadline {
  constructor(
    private readonly invocation: RotationInvocationContext | undefined,
    private readonly context: DeadlineContext = {},
    private readonly safetyMarginMs = DEFAULT_SAFETY_MARGIN_MS,
  ) {}

  /** Milliseconds left for work; Infinity outside Lambda. */
  remainingMs(): number {
    const left = this.invocation?.getRemainingTimeInMillis();
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
}
