/**
 * The server's own wait before a retry: `Retry-After` (seconds, or an HTTP date) or `x-amz-retry-after`
 * (milliseconds), as the SDK's standard retry strategy reads them. A throttled Secrets Manager (or a
 * proxy or VPC endpoint in front of it) says how long to back off; retrying sooner only spends the
 * attempts on more throttling.
 */
import type { IncomingHttpHeaders } from 'node:http';

/**
 * How far past its own back-off the SDK lets a hint push a retry: the hint is honoured up to the
 * back-off plus this many milliseconds, so a server asking for an hour cannot stall a call for an hour
 * (the caller's deadline bounds the call anyway).
 */
export const MAX_RETRY_AFTER_EXTRA_MS = 5_000;

/**
 * The wait a response asks for, in milliseconds from `nowMs`, or undefined when it asks for none (no
 * header, or one that is neither a number nor a date). A date in the past is 0.
 *
 * @param headers the response's headers (Node lower-cases their names).
 * @param nowMs the current time, epoch milliseconds. @default Date.now()
 * @example
 *   retryAfterMs({ 'retry-after': '2' }); // 2000
 */
export function retryAfterMs(headers: IncomingHttpHeaders, nowMs: number = Date.now()): number | undefined {
  const amz = single(headers['x-amz-retry-after']);
  if (amz !== undefined && /^\d+(\.\d+)?$/.test(amz)) return Number(amz);
  const value = single(headers['retry-after']);
  if (value === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - nowMs);
}

/**
 * The delay before a retry: the client's own back-off, lengthened to the server's hint when it asks for
 * longer, but by at most MAX_RETRY_AFTER_EXTRA_MS (the SDK's rule).
 *
 * @param backoffMs the client's jittered back-off, in milliseconds.
 * @param hintMs what `retryAfterMs` read, or undefined.
 */
export function retryDelayMs(backoffMs: number, hintMs: number | undefined): number {
  if (hintMs === undefined || !Number.isFinite(hintMs)) return backoffMs;
  return Math.max(backoffMs, Math.min(hintMs, backoffMs + MAX_RETRY_AFTER_EXTRA_MS));
}

function single(value: string | string[] | undefined): string | undefined {
  const text = (Array.isArray(value) ? value[0] : value)?.trim();
  return text === undefined || text === '' ? undefined : text;
}
