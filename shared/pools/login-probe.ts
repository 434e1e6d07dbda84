/**
 * One probe per secret: when logins are refused, find the value the database takes now, the way
 * `SecretCache.withSecret` does (AWSCURRENT force-refreshed, then AWSPENDING), proving it by a login.
 *
 * A rotation refuses every pooled login at the same moment (setSecret changed the password), so a
 * burst of refused connects must not become a burst of Secrets Manager calls and trial logins: every
 * caller that arrives while a probe of the same secret in the same cache is in flight joins it. The
 * registry is keyed by the cache object and forgets each probe as soon as it settles.
 */
import type { AuthErrorClassifier } from '../auth-errors';
import type { SecretCache } from '../secret-cache';
import type { SecretValue } from '../secret-value';

/** Logs in once with `value` (and closes); rejects as the driver does when refused. */
export type ProbeLogin = (value: SecretValue) => Promise<void>;

export interface ProbeOptions {
  /** Decides which login failures mean "refused". */
  readonly isAuthError: AuthErrorClassifier;
  /** Values already refused: not tried again. */
  readonly refused: readonly SecretValue[];
}

const inflight = new WeakMap<SecretCache, Map<string, Promise<SecretValue>>>();

/**
 * The secret value the database accepts now, found by `login`. Joins the probe already in flight for
 * this cache and secret, if any (`joined` is then true, and `login`/`options` of the first caller apply).
 *
 * @throws AuthenticationError (naming the secret) when neither AWSCURRENT nor AWSPENDING logs in; the
 *   typed error of the cache when Secrets Manager fails; any non-authentication error of `login` as is.
 */
export function probeWorkingValue(
  cache: SecretCache,
  secretId: string,
  login: ProbeLogin,
  options: ProbeOptions,
): { readonly value: Promise<SecretValue>; readonly joined: boolean } {
  let bySecret = inflight.get(cache);
  if (bySecret === undefined) {
    bySecret = new Map();
    inflight.set(cache, bySecret);
  }
  const running = bySecret.get(secretId);
  if (running !== undefined) return { value: running, joined: true };

  const probe = cache.withSecret(
    secretId,
    async (value) => {
      await login(value);
      return value;
    },
    { isAuthError: options.isAuthError, refused: options.refused },
  );
  const registry = bySecret;
  registry.set(secretId, probe);
  const forget = (): void => {
    if (registry.get(secretId) === probe) registry.delete(secretId);
  };
  probe.then(forget, forget);
  return { value: probe, joined: false };
}
