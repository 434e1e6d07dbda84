/**
 * A reader's Secrets Manager call, bounded in time. A client pointed at an endpoint that accepts the
 * connection and never answers (a security group dropping the reply, a stuck proxy) waits forever: the
 * SDK sets no request timeout of its own. The cache and the config loader both read through this.
 */
import { ConfigError, TimeoutError, fromSecretsManagerError, type ErrorContext } from './errors';
import { withinTimeLimit } from './time-limit';

/** What a reader passes to `send`: a signal that aborts the call at its fetch timeout. */
export interface SendOptions {
  readonly abortSignal?: AbortSignal;
}

/** How long a reader waits for one Secrets Manager answer, retries included: 10 s. */
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000;

/**
 * A reader's `fetchTimeoutMs` option (the cache's, the config loader's), checked the same way for both.
 * @param value milliseconds; 0 disables the bound. @default DEFAULT_FETCH_TIMEOUT_MS
 * @throws ConfigError when it is not a finite number >= 0.
 */
export function fetchTimeoutOption(value: number | undefined): number {
  const ms = value ?? DEFAULT_FETCH_TIMEOUT_MS;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) throw new ConfigError('fetchTimeoutMs must be a finite number >= 0');
  return ms;
}

/**
 * Runs `call` with a signal that aborts it after `timeoutMs`, and rejects then even if the client
 * ignores the signal. `0` runs it unbounded. Every failure is typed by `fromSecretsManagerError`.
 *
 * @param timeoutMs milliseconds; 0 disables the bound.
 * @param action the call, as errors name it (`GetSecretValue`).
 * @throws TimeoutError (retryable) when no answer came in time; the typed Secrets Manager errors otherwise.
 * @example
 *   const out = await withinFetchTimeout(10_000, 'GetSecretValue', { secretId }, (o) => client.send(command, o));
 */
export async function withinFetchTimeout<T>(
  timeoutMs: number,
  action: string,
  context: Pick<ErrorContext, 'secretId'>,
  call: (options: SendOptions) => Promise<T>,
): Promise<T> {
  try {
    if (timeoutMs === 0) return await call({});
    const expired = () => new TimeoutError(`${action}: no answer from Secrets Manager within ${timeoutMs} ms`, context);
    return await withinTimeLimit(timeoutMs, (abortSignal) => call({ abortSignal }), expired, { unref: true });
  } catch (err) {
    throw fromSecretsManagerError(err, action, context);
  }
}
