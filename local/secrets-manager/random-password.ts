/**
 * GetRandomPassword: the rotation's own generator (shared/rotation/generate-password.ts holds AWS's
 * rules), with the operation's defaults (32 characters, at least one of each included type).
 */
import { generatePassword } from '../../shared/rotation/generate-password';
import { ConfigError } from '../../shared/errors';
import type { OperationTable } from './context';
import { optBoolean, optInteger, optString, type JsonObject } from './input';
import { invalidParameter } from './wire-errors';

function getRandomPassword(input: JsonObject): JsonObject {
  const policy = {
    length: optInteger(input, 'PasswordLength', { min: 1, max: 4096 }) ?? 32,
    excludeCharacters: optString(input, 'ExcludeCharacters', { max: 4096 }) ?? '',
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
