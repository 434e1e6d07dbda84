/**
 * Typed configuration read from Secrets Manager and validated by any Standard Schema validator
 * (standardschema.dev): zod 3.24+ and zod 4 (classic and mini), valibot, arktype and others.
 *
 * No validator is imported, not even for types: the schema brings its own `~standard.validate`, so
 * this module (and every bundle that imports `shared/`) carries no validator runtime, the published
 * types need no validator installed, and zod is only an optional peer of the package.
 *
 * A mismatch throws `SecretValidationError` naming the secret, the schema and each failing path with
 * its problem. A validator's own `message` is never used, because a custom message or error map can
 * embed the input, i.e. the secret. For zod (3 or 4) the problem is built from the issue's code and
 * schema-side facts (expected type, bounds, format) plus the received value's TYPE; for any other
 * validator it is "failed <vendor> validation" at that path.
 */
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { ConfigError, SecretValidationError, summarizeCause, type ValidationIssue } from './errors';
import { fetchTimeoutOption, withinFetchTimeout } from './fetch-timeout';
import { SecretCache, type SecretsReadClient } from './secret-cache';
import { payloadToSecretValue, type SecretValue } from './secret-value';

/** One issue as Standard Schema v1 reports it. Validators may add fields (zod adds `code` and facts). */
export interface StandardSchemaIssue {
  /** The validator's text: never shown, since it may quote the input. */
  readonly message: string;
  readonly path?: ReadonlyArray<PropertyKey | { readonly key: PropertyKey }> | undefined;
}

/** The outcome of a Standard Schema validation: the output value, or the issues. */
export type StandardSchemaResult<Output> =
  { readonly value: Output; readonly issues?: undefined } | { readonly issues: ReadonlyArray<StandardSchemaIssue> };

/**
 * The Standard Schema v1 interface, as far as this loader uses it: what zod 3.24+, zod 4, valibot and
 * arktype schemas implement under the `~standard` key.
 */
export interface StandardSchemaV1<Input = unknown, Output = Input> {
  readonly '~standard': {
    readonly version: 1;
    /** e.g. `zod`, `valibot`. */
    readonly vendor: string;
    readonly validate: (value: unknown) => StandardSchemaResult<Output> | Promise<StandardSchemaResult<Output>>;
    readonly types?: { readonly input: Input; readonly output: Output } | undefined;
  };
}

/** The validated (output) type of a Standard Schema: what `load` resolves to. */
export type InferSchemaOutput<S extends StandardSchemaV1> = NonNullable<S['~standard']['types']>['output'];

/** Where a `ConfigLoader` looks its names up. */
export interface ConfigLoaderOptions {
  /** Prepended to every name as `${prefix}/${name}`. @default none */
  readonly prefix?: string;
  /**
   * With a client as the source: milliseconds after which an unanswered read fails with TimeoutError
   * (a `SecretCache` source has its own `fetchTimeoutMs`). 0 disables. @default 10000
   */
  readonly fetchTimeoutMs?: number;
}

/** How one `load` names its schema in errors. */
export interface LoadOptions {
  /** How the error names the schema. @default the schema's description, else "schema" */
  readonly schemaName?: string;
}

/** Where values come from: a `SecretCache` (cached, single-flight) or a client (one read per load). */
export type ConfigSource = SecretCache | SecretsReadClient;

/**
 * Typed configuration from Secrets Manager: reads a JSON secret and validates it with any Standard
 * Schema validator (zod 3.24+ or 4, valibot, arktype, …), without importing one itself. Errors name the
 * secret, the schema and each failing path, never a value (the validator's own message may quote it).
 *
 * @example
 * import { ConfigLoader, SecretCache } from 'db-secret-rotation-toolkit/shared';
 * import { z } from 'zod';
 *
 * const loader = new ConfigLoader(new SecretCache(), { prefix: 'prod/app' });
 * const config = await loader.load('config', z.object({ apiUrl: z.string().url(), retries: z.number().int() }));
 */
export class ConfigLoader {
  readonly #source: ConfigSource;
  readonly #prefix: string;
  readonly #fetchTimeoutMs: number;

  /** @throws ConfigError when `fetchTimeoutMs` is not a finite number >= 0. */
  constructor(source: ConfigSource, options: ConfigLoaderOptions = {}) {
    this.#source = source;
    this.#prefix = (options.prefix ?? '').replace(/\/+$/, '');
    this.#fetchTimeoutMs = fetchTimeoutOption(options.fetchTimeoutMs);
  }

  /**
   * The secret `name` (under the prefix), validated by `schema` and typed by its output.
   * @throws SecretValidationError naming the secret, the schema and every failing path (never a value),
   *   also when the schema itself throws (a transform or refinement raising on the value)
   * @throws the typed Secrets Manager errors of `fromSecretsManagerError` when the secret cannot be read
   * @throws ConfigError, before any read, when `name` is not a non-empty string (under a prefix, an empty
   *   name would read `${prefix}/`, another secret than the one meant, or none)
   */
  async load<S extends StandardSchemaV1>(name: string, schema: S, options: LoadOptions = {}): Promise<InferSchemaOutput<S>> {
    if (typeof name !== 'string' || name.trim() === '') throw new ConfigError('a config name must be a non-empty string');
    const secretId = this.#prefix ? `${this.#prefix}/${name}` : name;
    const value = await this.#read(secretId);
    const standard = schema['~standard'];
    const schemaName = options.schemaName ?? describedName(schema) ?? 'schema';
    let result: StandardSchemaResult<unknown>;
    try {
      result = await standard.validate(value);
    } catch (err) {
      // A transform or refinement that throws (JSON.parse of a field, a check that raises) escapes the
      // validator with its own message, which quotes the value: V8's SyntaxError does.
      throw new SecretValidationError(
        `secret does not match ${schemaName}`,
        [
          {
            path: '',
            problem: `made the ${standard.vendor} schema throw ${summarizeCause(err).name} (its message is not shown: it may quote the value)`,
          },
        ],
        { secretId, cause: err },
      );
    }
    if (result.issues === undefined) return result.value as InferSchemaOutput<S>;
    const issues = result.issues.map((issue) => describeIssue(issue, value, standard.vendor));
    // A validator sees a Uint8Array as an object with every field missing: say what it really is first.
    if (value instanceof Uint8Array) issues.unshift({ path: '', problem: 'is a SecretBinary, not a JSON SecretString' });
    throw new SecretValidationError(`secret does not match ${schemaName}`, issues, { secretId });
  }

  async #read(secretId: string): Promise<SecretValue> {
    if (this.#source instanceof SecretCache) return this.#source.getSecret(secretId);
    const client = this.#source;
    // Bounded as the cache's reads are: an endpoint that never answers must not hang start-up.
    const output = await withinFetchTimeout(this.#fetchTimeoutMs, 'GetSecretValue', { secretId }, (options) =>
      client.send(new GetSecretValueCommand({ SecretId: secretId }), options),
    );
    return payloadToSecretValue(output, secretId);
  }
}

/** zod's `.describe()` text (zod 3 and 4 both expose it as `description`), when the schema has one. */
function describedName(schema: object): string | undefined {
  const description = (schema as { description?: unknown }).description;
  return typeof description === 'string' && description !== '' ? description : undefined;
}

/**
 * One issue as a path and a problem that cannot contain the input: built from zod's issue codes (3 and
 * 4), else only the vendor's name. `vendor` defaults to zod, which every issue with a `code` comes from.
 */
export function describeIssue(issue: StandardSchemaIssue, input: unknown, vendor = 'zod'): ValidationIssue {
  const path = (issue.path ?? []).map((segment) => (typeof segment === 'object' && segment !== null ? segment.key : segment));
  const problem = vendor === 'zod' ? describeZodProblem(issue as ZodIssueFacts, valueAt(input, path)) : `failed ${vendor} validation`;
  return { path: formatPath(path), problem };
}

/**
 * The schema-side facts zod 3 and zod 4 put on an issue, by code. Fields that can carry the INPUT
 * (zod 3's `received` of an enum, `keys` names) are read for their count or not at all.
 */
interface ZodIssueFacts {
  readonly code?: string;
  readonly expected?: unknown;
  readonly origin?: unknown;
  /** zod 3's name for `origin` on too_big / too_small. */
  readonly type?: unknown;
  readonly maximum?: unknown;
  readonly minimum?: unknown;
  readonly inclusive?: boolean;
  readonly format?: unknown;
  /** zod 3's name for `format` on invalid_string. */
  readonly validation?: unknown;
  readonly divisor?: unknown;
  readonly multipleOf?: unknown;
  readonly keys?: readonly unknown[];
  readonly values?: readonly unknown[];
  readonly options?: readonly unknown[];
}

function describeZodProblem(issue: ZodIssueFacts, received: unknown): string {
  const text = (value: unknown): string =>
    typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint' ? String(value) : '?';
  switch (issue.code) {
    case 'invalid_type':
      return received === undefined
        ? `is required (expected ${text(issue.expected)})`
        : `expected ${text(issue.expected)}, received ${typeName(received)}`;
    case 'too_big':
      return `too big: ${text(issue.origin ?? issue.type)} must be ${issue.inclusive ? '<=' : '<'} ${text(issue.maximum)}`;
    case 'too_small':
      return `too small: ${text(issue.origin ?? issue.type)} must be ${issue.inclusive ? '>=' : '>'} ${text(issue.minimum)}`;
    case 'invalid_format':
      return `invalid format: expected ${text(issue.format)}`;
    case 'invalid_string':
      return `invalid format: expected ${typeof issue.validation === 'string' ? issue.validation : 'a matching string'}`;
    case 'not_multiple_of':
      return `not a multiple of ${text(issue.divisor ?? issue.multipleOf)}`;
    case 'unrecognized_keys':
      // Key names come from the secret, not the schema: count them, do not echo them.
      return `has ${issue.keys?.length ?? 'some'} unrecognized key(s)`;
    case 'invalid_union':
    case 'invalid_union_discriminator':
      return `matches none of the allowed shapes (${issue.code})`;
    case 'invalid_key':
      return `invalid key in ${text(issue.origin)}`;
    case 'invalid_element':
      return `invalid element in ${text(issue.origin)}`;
    case 'invalid_value':
    case 'invalid_enum_value':
    case 'invalid_literal': {
      const count = (issue.values ?? issue.options)?.length;
      return count !== undefined
        ? `is not one of the ${count} allowed value(s) (${issue.code})`
        : `is not the allowed value (${issue.code})`;
    }
    case 'custom':
      return 'failed a custom check (custom)';
    case undefined:
      return 'failed zod validation';
    default:
      return `invalid (${issue.code})`;
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
