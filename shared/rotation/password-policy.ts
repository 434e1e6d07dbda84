/**
 * The password policy of a rotation function: the AWS templates' environment variables, parsed once at
 * cold start (a bad value must fail the deploy's first invocation, not the middle of a rotation), and
 * the same rules the CDK construct checks at synth.
 */
import { includedCharacterTypes } from './generate-password';
import { ConfigError } from '../errors';
import type { EngineFamily } from '../database-secret';

/**
 * How new passwords are generated, as the AWS templates' variables and GetRandomPassword's parameters
 * say it. Every field optional; the construct writes it into the function's environment.
 */
export interface PasswordPolicy {
  /** Password length, 1–4096 (GetRandomPassword's range). @default 32 */
  readonly length?: number;
  /**
   * Characters never used: any string GetRandomPassword accepts, i.e. up to 4096 characters of any kind
   * (aws-cdk-lib's own default starts with a space). Characters outside the generated classes change
   * nothing. @default Postgres `:/@"'\`, MySQL `/@"'\` (the AWS templates' defaults)
   */
  readonly excludeCharacters?: string;
  /** @default false */
  readonly excludeNumbers?: boolean;
  /** @default false */
  readonly excludePunctuation?: boolean;
  /** @default false */
  readonly excludeUppercase?: boolean;
  /** @default false */
  readonly excludeLowercase?: boolean;
  /** At least one character of each included type. @default true */
  readonly requireEachIncludedType?: boolean;
}

export type ResolvedPasswordPolicy = Required<PasswordPolicy>;

/** The AWS templates' default exclusions: characters that break connection strings and shell quoting. */
export const DEFAULT_EXCLUDE_CHARACTERS: Readonly<Record<EngineFamily, string>> = {
  postgres: ':/@"\'\\',
  mysql: '/@"\'\\',
};

export const DEFAULT_PASSWORD_LENGTH = 32;
const MAX_PASSWORD_LENGTH = 4096;
/**
 * GetRandomPassword's limit on ExcludeCharacters ("Length Constraints: Minimum length of 0. Maximum
 * length of 4096"), in characters; the API puts no constraint on which characters.
 */
export const MAX_EXCLUDE_CHARACTERS_LENGTH = 4096;

/** Fills in the engine's defaults. */
export function resolvePasswordPolicy(policy: PasswordPolicy, family: EngineFamily): ResolvedPasswordPolicy {
  return {
    length: policy.length ?? DEFAULT_PASSWORD_LENGTH,
    excludeCharacters: policy.excludeCharacters ?? DEFAULT_EXCLUDE_CHARACTERS[family],
    excludeNumbers: policy.excludeNumbers ?? false,
    excludePunctuation: policy.excludePunctuation ?? false,
    excludeUppercase: policy.excludeUppercase ?? false,
    excludeLowercase: policy.excludeLowercase ?? false,
    requireEachIncludedType: policy.requireEachIncludedType ?? true,
  };
}

/** Every problem with a policy for an engine; empty when it can produce passwords. */
export function validatePasswordPolicy(policy: PasswordPolicy, family: EngineFamily): string[] {
  const p = resolvePasswordPolicy(policy, family);
  const problems: string[] = [];
  if (!Number.isInteger(p.length) || p.length < 1 || p.length > MAX_PASSWORD_LENGTH) {
    problems.push(`length must be an integer from 1 to ${MAX_PASSWORD_LENGTH}`);
  }
  if (typeof p.excludeCharacters !== 'string') {
    problems.push('excludeCharacters must be a string');
    return problems;
  }
  // Counted in code points, as the API counts characters; a UTF-16 length would over-count emoji.
  if ([...p.excludeCharacters].length > MAX_EXCLUDE_CHARACTERS_LENGTH) {
    problems.push(`excludeCharacters may hold at most ${MAX_EXCLUDE_CHARACTERS_LENGTH} characters (GetRandomPassword's limit)`);
  }
  // The generator's own reading of the types, so validation and generation cannot disagree.
  const included = includedCharacterTypes(p);
  if (included.length === 0) {
    problems.push('the policy excludes every character type: no password can be generated');
  }
  if (p.requireEachIncludedType && Number.isInteger(p.length) && included.length > p.length) {
    problems.push(`length ${p.length} is shorter than the ${included.length} character types each password must include`);
  }
  return problems;
}

/**
 * The AWS templates' environment variable for each policy field: written by `passwordPolicyToEnv` at
 * synth and read by `passwordPolicyFromEnv` at cold start, from this one table.
 */
export const PASSWORD_POLICY_ENV = {
  length: 'PASSWORD_LENGTH',
  excludeCharacters: 'EXCLUDE_CHARACTERS',
  excludeNumbers: 'EXCLUDE_NUMBERS',
  excludePunctuation: 'EXCLUDE_PUNCTUATION',
  excludeUppercase: 'EXCLUDE_UPPERCASE',
  excludeLowercase: 'EXCLUDE_LOWERCASE',
  requireEachIncludedType: 'REQUIRE_EACH_INCLUDED_TYPE',
} as const satisfies Readonly<Record<keyof PasswordPolicy, string>>;

/** The policy as the AWS templates' environment variables, for the deployed function. */
export function passwordPolicyToEnv(policy: PasswordPolicy): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [field, variable] of Object.entries(PASSWORD_POLICY_ENV) as [keyof PasswordPolicy, string][]) {
    const value = policy[field];
    if (value !== undefined) env[variable] = String(value);
  }
  return env;
}

/**
 * Reads the policy from the templates' variables. Booleans are true for `true|1|y|yes` in any case, as in
 * the templates; a length that is not an integer, or a policy that cannot produce a password, is a
 * ConfigError naming the variable.
 */
export function passwordPolicyFromEnv(env: Readonly<Record<string, string | undefined>>, family: EngineFamily): ResolvedPasswordPolicy {
  const flag = (name: string): boolean | undefined => {
    const v = env[name];
    return v === undefined || v === '' ? undefined : ['true', '1', 'y', 'yes'].includes(v.trim().toLowerCase());
  };
  let length: number | undefined;
  const rawLength = env[PASSWORD_POLICY_ENV.length]?.trim();
  if (rawLength) {
    if (!/^\d+$/.test(rawLength)) throw new ConfigError(`${PASSWORD_POLICY_ENV.length} must be a whole number`);
    length = Number(rawLength);
  }
  const excludeCharacters = env[PASSWORD_POLICY_ENV.excludeCharacters];
  const policy: PasswordPolicy = {
    ...(length !== undefined ? { length } : {}),
    ...(excludeCharacters !== undefined ? { excludeCharacters } : {}),
    ...optional('excludeNumbers', flag(PASSWORD_POLICY_ENV.excludeNumbers)),
    ...optional('excludePunctuation', flag(PASSWORD_POLICY_ENV.excludePunctuation)),
    ...optional('excludeUppercase', flag(PASSWORD_POLICY_ENV.excludeUppercase)),
    ...optional('excludeLowercase', flag(PASSWORD_POLICY_ENV.excludeLowercase)),
    ...optional('requireEachIncludedType', flag(PASSWORD_POLICY_ENV.requireEachIncludedType)),
  };
  const problems = validatePasswordPolicy(policy, family);
  if (problems.length) throw new ConfigError(`Invalid password policy in the environment: ${problems.join('; ')}`);
  return resolvePasswordPolicy(policy, family);
}

function optional<K extends string>(key: K, value: boolean | undefined): Partial<Record<K, boolean>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, boolean>);
}
