/**
 * Checks shared by the rotation-aware pools on the driver options they are given: the secret decides
 * who logs in where, so options that would say otherwise are refused rather than silently ignored.
 */
import { DEFAULT_CONNECT_TIMEOUT_MS } from '../connection-options';
import { ConfigError } from '../errors';

/**
 * @throws ConfigError naming the first key of `keys` present in `options` (the key, never its value).
 */
export function rejectLoginKeys(name: string, options: object, keys: readonly string[]): void {
  for (const key of keys) {
    if (Object.prototype.hasOwnProperty.call(options, key) && (options as Record<string, unknown>)[key] !== undefined) {
      throw new ConfigError(`${name}.${key} is taken from the secret and must not be given`);
    }
  }
}

/**
 * The login timeout in ms: the explicit one, else the driver's own connect timeout when positive,
 * else 5000.
 * @throws ConfigError when the explicit timeout is not a positive finite number.
 */
export function resolveConnectTimeout(explicitMs: number | undefined, driverMs: number | undefined): number {
  if (explicitMs !== undefined) {
    if (!Number.isFinite(explicitMs) || explicitMs <= 0) throw new ConfigError('connectTimeoutMs must be a positive number');
    return explicitMs;
  }
  return driverMs !== undefined && Number.isFinite(driverMs) && driverMs > 0 ? driverMs : DEFAULT_CONNECT_TIMEOUT_MS;
}
