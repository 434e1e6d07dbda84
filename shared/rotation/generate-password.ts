/**
 * New passwords, generated in the function with node's CSPRNG under exactly the rules of Secrets
 * Manager's GetRandomPassword: its four character types (the punctuation type is all 32 printable
 * ASCII punctuation characters), an optional space, ExcludeCharacters removed from every type, and with
 * RequireEachIncludedType at least one character of each type that still has characters.
 *
 * Why not GetRandomPassword itself, as the AWS templates do: it is one more Secrets Manager request per
 * rotation (a round trip through the VPC endpoint, and request CPU in the function) for the same rules
 * and the same kind of randomness. The embedded endpoint answers GetRandomPassword with this function,
 * so there is one implementation of the rules.
 */
import { randomInt } from 'node:crypto';
import { ConfigError } from '../errors';
import type { ResolvedPasswordPolicy } from './password-policy';

/** GetRandomPassword's character types, in its order. */
export const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
export const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';
export const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** GetRandomPassword's one option the rotation policy does not have. */
export interface GenerateOptions {
  /** Whether the space character may appear (never a required type). @default false */
  readonly includeSpace?: boolean;
}

/**
 * The character types a policy includes, each with its excluded characters removed; types left empty
 * by the exclusions are dropped (GetRandomPassword does not require them either).
 */
export function includedCharacterTypes(policy: ResolvedPasswordPolicy): string[] {
  const excluded = new Set(policy.excludeCharacters);
  const keep = (chars: string): string => [...chars].filter((c) => !excluded.has(c)).join('');
  return [
    policy.excludeLowercase ? '' : keep(LOWERCASE),
    policy.excludeUppercase ? '' : keep(UPPERCASE),
    policy.excludeNumbers ? '' : keep(DIGITS),
    policy.excludePunctuation ? '' : keep(PUNCTUATION),
  ].filter((chars) => chars.length > 0);
}

/**
 * A password of `policy.length` characters drawn uniformly from the included characters, with one of
 * each included type first when `requireEachIncludedType`, then shuffled (Fisher–Yates, CSPRNG).
 *
 * @throws ConfigError when the policy excludes every character, or is shorter than its required types
 *   (a policy validated at cold start never is).
 * @example
 *   generatePassword(resolvePasswordPolicy({ length: 24 }, 'postgres'));
 */
export function generatePassword(policy: ResolvedPasswordPolicy, options: GenerateOptions = {}): string {
  const types = includedCharacterTypes(policy);
  const space = options.includeSpace === true && !policy.excludeCharacters.includes(' ') ? ' ' : '';
  const pool = types.join('') + space;
  if (pool.length === 0) throw new ConfigError('The password cannot be generated: every character is excluded');
  const required = policy.requireEachIncludedType ? types : [];
  if (required.length > policy.length) {
    throw new ConfigError(
      `The password length ${policy.length} is too short to include at least one character of each of the ${required.length} included types`,
    );
  }
  const chars = required.map(pick);
  while (chars.length < policy.length) chars.push(pick(pool));
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

function pick(chars: string): string {
  return chars[randomInt(chars.length)]!;
}
