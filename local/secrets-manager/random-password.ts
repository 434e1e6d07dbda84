/**
 * GetRandomPassword: AWS's character classes (the punctuation class is all 32 printable ASCII
 * punctuation characters), its defaults (32 characters, at least one of each included type) and
 * `crypto` randomness throughout.
 */
import { randomInt } from 'node:crypto';
import type { OperationTable } from './context';
import { optBoolean, optInteger, optString, type JsonObject } from './input';
import { invalidParameter, validation } from './wire-errors';

export const LOWERCASE = 'abcdefghijklmnopqrstuvwxyz';
export const UPPERCASE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
export const DIGITS = '0123456789';
export const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

export interface RandomPasswordOptions {
  readonly passwordLength?: number;
  readonly excludeCharacters?: string;
  readonly excludeNumbers?: boolean;
  readonly excludePunctuation?: boolean;
  readonly excludeUppercase?: boolean;
  readonly excludeLowercase?: boolean;
  readonly includeSpace?: boolean;
  readonly requireEachIncludedType?: boolean;
}

function pick(chars: string): string {
  return chars[randomInt(chars.length)]!;
}

function shuffle(chars: string[]): string[] {
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars;
}

export function generateRandomPassword(options: RandomPasswordOptions = {}): string {
  const length = options.passwordLength ?? 32;
  const excluded = new Set(options.excludeCharacters ?? '');
  const keep = (chars: string): string => [...chars].filter((c) => !excluded.has(c)).join('');
  const types = [
    options.excludeLowercase ? '' : keep(LOWERCASE),
    options.excludeUppercase ? '' : keep(UPPERCASE),
    options.excludeNumbers ? '' : keep(DIGITS),
    options.excludePunctuation ? '' : keep(PUNCTUATION),
  ].filter((chars) => chars.length > 0);
  const pool = types.join('') + (options.includeSpace && !excluded.has(' ') ? ' ' : '');
  if (pool.length === 0) throw invalidParameter('The password cannot be generated: every character is excluded.');
  const required = (options.requireEachIncludedType ?? true) ? types : [];
  if (required.length > length) {
    throw invalidParameter(
      `The password length ${length} is too short to include at least one character of each of the ${required.length} included types.`,
    );
  }
  const chars = required.map(pick);
  while (chars.length < length) chars.push(pick(pool));
  return shuffle(chars).join('');
}

/** ExcludeCharacters' model limit: 0 to 4096 characters, any characters (a space included). */
const MAX_EXCLUDE_CHARACTERS = 4096;

function excludeCharacters(input: JsonObject): string | undefined {
  const value = optString(input, 'ExcludeCharacters');
  // AWS counts characters (code points), not UTF-16 units.
  if (value !== undefined && [...value].length > MAX_EXCLUDE_CHARACTERS) {
    throw validation('excludeCharacters', `Member must have length less than or equal to ${MAX_EXCLUDE_CHARACTERS}`);
  }
  return value;
}

function getRandomPassword(input: JsonObject): JsonObject {
  const password = generateRandomPassword({
    passwordLength: optInteger(input, 'PasswordLength', { min: 1, max: 4096 }),
    excludeCharacters: excludeCharacters(input),
    excludeNumbers: optBoolean(input, 'ExcludeNumbers'),
    excludePunctuation: optBoolean(input, 'ExcludePunctuation'),
    excludeUppercase: optBoolean(input, 'ExcludeUppercase'),
    excludeLowercase: optBoolean(input, 'ExcludeLowercase'),
    includeSpace: optBoolean(input, 'IncludeSpace'),
    requireEachIncludedType: optBoolean(input, 'RequireEachIncludedType'),
  });
  return { RandomPassword: password };
}

export function randomPasswordOperations(): OperationTable {
  return { GetRandomPassword: (input) => getRandomPassword(input) };
}
