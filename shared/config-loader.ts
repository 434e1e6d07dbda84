/**
 * Typed configuration read from Secrets Manager and validated with a zod (v4) schema.
 *
 * zod is imported for its types only: validation calls the schema's own `safeParse`, so this module
 * (and every bundle that imports `shared/`) carries no zod runtime; the application that builds the
 * schema already has zod.
 *
 * A mismatch throws `SecretValidationError` naming the secret, the schema and each failing path with
 * its problem. The problem text is built here from the issue's code and schema-side facts (expected
 * type, bounds, format) plus the received value's TYPE; zod's own `message` is never used, because a
 * custom message or error map can embed the input, i.e. the secret.
 */
import type { z } from 'zod';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { SecretValidationError, fromSecretsManagerError, type ValidationIssue } from './errors';
import { SecretCache, type SecretsReadClient } from './secret-cache';
import { payloadToSecretValue, type SecretValue } from './secret-value';

export interface ConfigLoaderOptions {
  /** Prepended to every name as `${prefix}/${name}`. */
  readonly prefix?: string;
}

export interface LoadOptions {
  /** How the error names the schema; defaults to the schema's description, else "schema". */
  readonly schemaName?: string;
}

/** Where values come from: a `SecretCache` (cached, single-flight) or a client (one read per load). */
export type ConfigSource = SecretCache | SecretsReadClient;

type ZodIssue = z.core.$ZodIssue;

export class ConfigLoader {
  readonly #source: ConfigSource;
  readonly #prefix: string;

  constructor(source: ConfigSource, options: ConfigLoaderOptions = {}) {
    this.#source = source;
    this.#prefix = (options.prefix ?? '').replace(/\/+$/, '');
  }

  /** The secret `name` (under the prefix), validated by `schema` and typed by it. */
  async load<S extends z.ZodType>(name: string, schema: S, options: LoadOptions = {}): Promise<z.infer<S>> {
    const secretId = this.#prefix ? `${this.#prefix}/${name}` : name;
    const value = await this.#read(secretId);
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    const schemaName = options.schemaName ?? schema.description ?? 'schema';
    const issues = result.error.issues.map((issue) => describeIssue(issue, value));
    // zod sees a Uint8Array as an object with every field missing: say what it really is first.
    if (value instanceof Uint8Array) issues.unshift({ path: '', problem: 'is a SecretBinary, not a JSON SecretString' });
    throw new SecretValidationError(`secret does not match ${schemaName}`, issues, { secretId });
  }

  async #read(secretId: string): Promise<SecretValue> {
    if (this.#source instanceof SecretCache) return this.#source.getSecret(secretId);
    let output;
    try {
      output = await this.#source.send(new GetSecretValueCommand({ SecretId: secretId }));
    } catch (err) {
      throw fromSecretsManagerError(err, 'GetSecretValue', { secretId });
    }
    return payloadToSecretValue(output, secretId);
  }
}

/** One zod issue as a path and a problem that cannot contain the input. */
export function describeIssue(issue: ZodIssue, input: unknown): ValidationIssue {
  return { path: formatPath(issue.path), problem: describeProblem(issue, valueAt(input, issue.path)) };
}

function describeProblem(issue: ZodIssue, received: unknown): string {
  switch (issue.code) {
    case 'invalid_type':
      return received === undefined
        ? `is required (expected ${issue.expected})`
        : `expected ${issue.expected}, received ${typeName(received)}`;
    case 'too_big':
      return `too big: ${issue.origin} must be ${issue.inclusive ? '<=' : '<'} ${String(issue.maximum)}`;
    case 'too_small':
      return `too small: ${issue.origin} must be ${issue.inclusive ? '>=' : '>'} ${String(issue.minimum)}`;
    case 'invalid_format':
      return `invalid format: expected ${issue.format}`;
    case 'not_multiple_of':
      return `not a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      // Key names come from the secret, not the schema: count them, do not echo them.
      return `has ${issue.keys.length} unrecognized key(s)`;
    case 'invalid_union':
      return 'matches none of the allowed shapes (invalid_union)';
    case 'invalid_key':
      return `invalid key in ${issue.origin}`;
    case 'invalid_element':
      return `invalid element in ${issue.origin}`;
    case 'invalid_value':
      return `is not one of the ${issue.values.length} allowed value(s) (invalid_value)`;
    case 'custom':
      return 'failed a custom check (custom)';
    default:
      return `invalid (${(issue as { code: string }).code})`;
  }
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out ? `.${String(segment)}` : String(segment);
  }
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (value instanceof Uint8Array) return 'binary';
  return typeof value;
}
