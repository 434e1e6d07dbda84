/**
 * A call raced against a timer that aborts it. A client that accepts the signal drops its request at
 * the limit; one that ignores it is still left behind: the caller gets the limit's error on time either
 * way. Shared by the rotation's deadline (`Deadline.bound`) and the readers' fetch timeout
 * (`withinFetchTimeout`).
 */

/** setTimeout's largest delay; a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/** How `withinTimeLimit` keeps its timer. */
export interface TimeLimitOptions {
  /**
   * Let the process exit while the timer runs (a reader's call must not keep a script alive).
   * @default false
   */
  readonly unref?: boolean;
}

/**
 * Runs `work` with a signal that aborts after `limitMs` (capped at MAX_TIMER_MS), and rejects then with
 * `onExpiry()` even when `work` ignores the signal. The signal's reason is that same error. A `work`
 * promise that settles after the limit is left to settle unobserved.
 *
 * @param limitMs milliseconds, > 0.
 * @param onExpiry builds the error the call fails with at the limit; called at most once.
 * @throws what `onExpiry` returns when the limit passes first; else what `work` throws.
 * @example
 *   await withinTimeLimit(5_000, (signal) => client.send(command, { abortSignal: signal }), () => new TimeoutError('…'));
 */
export async function withinTimeLimit<T>(
  limitMs: number,
  work: (signal: AbortSignal) => Promise<T>,
  onExpiry: () => Error,
  options: TimeLimitOptions = {},
): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        const error = onExpiry();
        // Reject first: the race must settle with this error, not with the abort it causes in `work`.
        reject(error);
        controller.abort(error);
      },
      Math.min(Math.ceil(limitMs), MAX_TIMER_MS),
    );
    if (options.unref === true) timer.unref();
  });
  try {
    return await Promise.race([work(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}
