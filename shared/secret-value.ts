/**
 * What a secret read returns, decided once for every reader (the cache, the config loader): a
 * SecretString holding a JSON object or array becomes a deep-frozen value; any other string (a bare
 * API key, a PIN such as "0042", text that merely looks like JSON) is returned exactly as stored, so
 * a numeric password is never turned into a number; SecretBinary stays bytes.
 */
import { deepFreeze } from './deep-freeze';
import { SecretValidationError } from './errors';

export type JsonPrimitive = string | number | boolean | null;
export type FrozenJson = JsonPrimitive | FrozenJsonArray | FrozenJsonObject;
export type FrozenJsonArray = readonly FrozenJson[];
export interface FrozenJsonObject {
  readonly [key: string]: FrozenJson;
}

/** A parsed secret: a frozen JSON object/array, a plain string, or the secret's raw bytes. */
export type SecretValue = FrozenJsonObject | FrozenJsonArray | string | Uint8Array;

/** The value-bearing part of a GetSecretValue / BatchGetSecretValue response. */
export interface RawSecretPayload {
  readonly SecretString?: string;
  readonly SecretBinary?: Uint8Array;
}

/** Parses a SecretString: JSON objects and arrays are parsed and frozen, everything else is kept. */
export function parseSecretString(text: string): FrozenJsonObject | FrozenJsonArray | string {
  const first = text.trimStart()[0];
  if (first !== '{' && first !== '[') return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  return deepFreeze(parsed) as FrozenJsonObject | FrozenJsonArray;
}

/**
 * The value of a response. Binary is copied into a plain `Uint8Array` the cache owns: the SDK may
 * hand out a view over a larger pooled buffer, and the caller must not be able to alter the cache.
 */
export function payloadToSecretValue(payload: RawSecretPayload, secretId: string): SecretValue {
  if (typeof payload.SecretString === 'string') return parseSecretString(payload.SecretString);
  if (payload.SecretBinary instanceof Uint8Array) return new Uint8Array(payload.SecretBinary);
  throw new SecretValidationError('Secrets Manager returned neither SecretString nor SecretBinary', [], {
    secretId,
  });
}

/** The size the value occupies as stored by Secrets Manager: UTF-8 bytes of the string, or the bytes. */
export function payloadByteSize(payload: RawSecretPayload): number {
  if (typeof payload.SecretString === 'string') return Buffer.byteLength(payload.SecretString, 'utf8');
  return payload.SecretBinary?.byteLength ?? 0;
}

/** True when two values hold the same secret (same text, same bytes, or structurally equal JSON). */
export function sameSecretValue(a: SecretValue, b: SecretValue): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) {
    if (!(a instanceof Uint8Array && b instanceof Uint8Array) || a.byteLength !== b.byteLength) return false;
    return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }
  if (typeof a === 'string' || typeof b === 'string') return false;
  return JSON.stringify(a) === JSON.stringify(b);
}
