/**
 * The cache's notion of time. TTLs are measured on a monotonic clock: a wall clock can jump (NTP,
 * daylight saving, a VM restored from a snapshot) and would expire everything at once, or nothing.
 */

/** Milliseconds since an arbitrary origin; must never decrease. */
export type MonotonicClock = () => number;

export const systemMonotonicClock: MonotonicClock = () => performance.now();
