/**
 * GetRandomPassword: the rotation's own generator (shared/rotation/generate-password.ts holds AWS's
 * rules), with the operation's defaults (32 characters, at least one of each included type) and its
 * input limits.
 */
import { generatePassword } from '../shared/rotation/generate-password';
import { ConfigError } from '../shared/errors';
import type { OperationTable } from './context';
import { optBoolean, optInteger, optString, type JsonObject } from './input';
import { invalidParameter, validation } from './wire-errors';

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
  const policy = {
    length: optInteger(input, 'PasswordLength', { min: 1, max: 4096 }) ?? 32,
    excludeCharacters: excludeCharacters(input) ?? '',
    excludeNumbers: optBoolean(input, 'ExcludeNumbers') ?? false,
    excludePunctuation: optBoolean(input, 'ExcludePunctuation') ?? false,
    excludeUppercase: optBoolean(input, 'ExcludeUppercase') ?? false,
    excludeLowercase: optBoolean(input, 'ExcludeLowercase') ?? false,
    requireEachIncludedType: optBoolean(input, 'RequireEachIncludedType') ?? true,
  };
  try {
    return { RandomPassword: generatePassword(policy, { includeSpace: optBoolean(input, 'IncludeSpace') ?? false }) };
  } catch (err) {
    // The rules' own refusals become GetRandomPassword's InvalidParameterException, message and all.
    if (err instanceof ConfigError) throw invalidParameter(`${err.message}.`);
    throw err;
  }
}

export function randomPasswordOperations(): OperationTable {
  return { GetRandomPassword: (input) => getRandomPassword(input) };
}
