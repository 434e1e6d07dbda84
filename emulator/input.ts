/**
 * Readers for an operation's JSON input. A wrong JSON type is a SerializationException and a broken model
 * constraint (length, range, required) a ValidationException, as AWS's front end answers before the
 * operation runs. Constraint messages never quote the offending value: it may be a secret.
 */
import { serialization, validation } from './wire-errors';

export type JsonObject = Record<string, unknown>;

interface LengthRule {
  readonly min?: number;
  readonly max?: number;
}

function memberName(key: string): string {
  return key.charAt(0).toLowerCase() + key.slice(1);
}

function checkLength(key: string, length: number, rule: LengthRule, unit: string): void {
  if (rule.min !== undefined && length < rule.min) {
    throw validation(memberName(key), `Member must have ${unit} greater than or equal to ${rule.min}`);
  }
  if (rule.max !== undefined && length > rule.max) {
    throw validation(memberName(key), `Member must have ${unit} less than or equal to ${rule.max}`);
  }
}

function missing(key: string): never {
  throw validation(memberName(key), 'Member must not be null');
}

export function optString(input: JsonObject, key: string, rule: LengthRule = {}): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw serialization(`Expected a string for ${key}`);
  checkLength(key, value.length, rule, 'length');
  return value;
}

export function reqString(input: JsonObject, key: string, rule: LengthRule = {}): string {
  return optString(input, key, rule) ?? missing(key);
}

export function optBoolean(input: JsonObject, key: string): boolean | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw serialization(`Expected a boolean for ${key}`);
  return value;
}

export function optInteger(input: JsonObject, key: string, rule: LengthRule = {}): number | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw serialization(`Expected an integer for ${key}`);
  checkLength(key, value, rule, 'value');
  return value;
}

export function optStringList(input: JsonObject, key: string, listRule: LengthRule = {}, itemRule: LengthRule = {}): string[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw serialization(`Expected a list for ${key}`);
  checkLength(key, value.length, listRule, 'length');
  return value.map((item) => {
    if (typeof item !== 'string') throw serialization(`Expected strings in ${key}`);
    checkLength(key, item.length, itemRule, 'length');
    return item;
  });
}

export function optObject(input: JsonObject, key: string): JsonObject | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!isJsonObject(value)) throw serialization(`Expected a structure for ${key}`);
  return value;
}

export function optObjectList(input: JsonObject, key: string, listRule: LengthRule = {}): JsonObject[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw serialization(`Expected a list for ${key}`);
  checkLength(key, value.length, listRule, 'length');
  return value.map((item) => {
    if (!isJsonObject(item)) throw serialization(`Expected structures in ${key}`);
    return item;
  });
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A blob member: base64 on the wire, bytes here. */
export function optBlob(input: JsonObject, key: string, rule: LengthRule = {}): Buffer | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length % 4 !== 0 || !BASE64.test(value)) {
    throw serialization(`Expected base64 data for ${key}`);
  }
  const bytes = Buffer.from(value, 'base64');
  checkLength(key, bytes.length, rule, 'length');
  return bytes;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
