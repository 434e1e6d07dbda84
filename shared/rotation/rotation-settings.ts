/**
 * The rotation function's configuration, read once per container from its environment. Every bad value
 * fails here, at cold start (the first invocation), never half-way through a rotation.
 */
import { DEFAULT_CONNECT_TIMEOUT_MS, parseTlsMode, type TlsMode } from '../connection-options';
import type { EngineFamily } from '../database-secret';
import { ConfigError } from '../errors';
import type { Env } from '../secrets-client';
import { passwordPolicyFromEnv, type ResolvedPasswordPolicy } from './password-policy';

/** AWS's rotation strategies: the user changes its own password, or two users take turns. */
export type RotationStrategyName = 'single-user' | 'alternating-users';
export const ROTATION_STRATEGIES: readonly RotationStrategyName[] = ['single-user', 'alternating-users'];

/**
 * The names of the rotation function's environment variables: written by the CDK construct
 * (`rotationEnvironment` in lib/rotation-function.ts) and read here, so the two can never disagree.
 * The password policy's variables are `PASSWORD_POLICY_ENV` (password-policy.ts).
 */
export const ROTATION_ENV = {
  /** `single-user` or `alternating-users`. @default single-user */
  strategy: 'ROTATION_STRATEGY',
  /** Applies to secrets without an `ssl` key. @default verify-full */
  tlsMode: 'DB_TLS_MODE',
  /** A PEM file trusted on top of Node's roots. */
  caBundle: 'DB_CA_BUNDLE',
  /** Milliseconds, 1 to 60000. @default 5000 */
  connectTimeoutMs: 'DB_CONNECT_TIMEOUT_MS',
  /** The testSecret query. @default SELECT 1 */
  testQuery: 'TEST_QUERY',
} as const;

/** The AWS templates' test query is `SELECT NOW()`; any trivial read does. */
export const DEFAULT_TEST_QUERY = 'SELECT 1';
const MAX_CONNECT_TIMEOUT_MS = 60_000;

export interface RotationSettings {
  readonly strategy: RotationStrategyName;
  /** Applies when a secret has no `ssl` key. */
  readonly tlsMode: TlsMode;
  readonly caBundlePath?: string;
  readonly connectTimeoutMs: number;
  readonly testQuery: string;
  readonly passwordPolicy: ResolvedPasswordPolicy;
}

/** Values given to the factory win over the environment. */
export interface RotationSettingsOverrides {
  readonly strategy?: RotationStrategyName;
  readonly testQuery?: string;
}

/**
 * Reads ROTATION_STRATEGY (default single-user), DB_TLS_MODE (default verify-full), DB_CA_BUNDLE (a PEM
 * file trusted on top of Node's roots), DB_CONNECT_TIMEOUT_MS (default 5000), TEST_QUERY and the
 * templates' password variables.
 */
export function rotationSettingsFromEnv(env: Env, family: EngineFamily, overrides: RotationSettingsOverrides = {}): RotationSettings {
  const strategy = overrides.strategy ?? parseStrategy(env[ROTATION_ENV.strategy]);
  if (!ROTATION_STRATEGIES.includes(strategy)) {
    throw new ConfigError(`strategy must be one of ${ROTATION_STRATEGIES.join(', ')}`);
  }
  const testQuery = (overrides.testQuery ?? env[ROTATION_ENV.testQuery] ?? '').trim() || DEFAULT_TEST_QUERY;
  const caBundlePath = env[ROTATION_ENV.caBundle]?.trim() || undefined;
  return {
    strategy,
    tlsMode: parseTlsMode(env[ROTATION_ENV.tlsMode], ROTATION_ENV.tlsMode),
    ...(caBundlePath !== undefined ? { caBundlePath } : {}),
    connectTimeoutMs: parseConnectTimeout(env[ROTATION_ENV.connectTimeoutMs]),
    testQuery,
    passwordPolicy: passwordPolicyFromEnv(env, family),
  };
}

export function parseStrategy(value: string | undefined): RotationStrategyName {
  const normalized = value?.trim().toLowerCase();
  if (!normalized) return 'single-user';
  if (!(ROTATION_STRATEGIES as readonly string[]).includes(normalized)) {
    throw new ConfigError(`${ROTATION_ENV.strategy} must be one of ${ROTATION_STRATEGIES.join(', ')}`);
  }
  return normalized as RotationStrategyName;
}

function parseConnectTimeout(value: string | undefined): number {
  const raw = value?.trim();
  if (!raw) return DEFAULT_CONNECT_TIMEOUT_MS;
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > MAX_CONNECT_TIMEOUT_MS) {
    throw new ConfigError(`${ROTATION_ENV.connectTimeoutMs} must be a whole number of milliseconds from 1 to ${MAX_CONNECT_TIMEOUT_MS}`);
  }
  return Number(raw);
}
