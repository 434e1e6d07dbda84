/**
 * A database secret in the standard RDS format, validated. Parsing lives here once: the rotation
 * steps, the connection-options mapper and the local loop all read secrets through `parseDatabaseSecret`.
 *
 * Hand-written checks, no schema library: this file is in every Lambda bundle.
 *
 * How the password stays out of logs: the returned secret and its `fields` are frozen objects whose
 * `password` is an own NON-enumerable property, so `JSON.stringify`, `util.inspect`/`console.log`,
 * jest's diffs and object spread all leave it out; `[util.inspect.custom]` also covers `showHidden`.
 * Reading `secret.password` / `fields.password` works as usual. To write a version, use
 * `serializeSecretFields`, which includes the password. The one deliberate gap: a spread
 * (`{ ...secret.fields }`) drops the password, so a caller building the next version sets it explicitly.
 */
import { isIPv6 } from 'node:net';
import { inspect } from 'node:util';
import { SecretValidationError, type ValidationIssue } from './errors';

/**
 * The toolkit's name for a database engine: `postgres` (PostgreSQL, Aurora PostgreSQL) or `mysql`
 * (MySQL, MariaDB, Aurora MySQL, named `aurora-mysql` or, for Aurora MySQL 1, `aurora`). `engineFamily` maps a secret's `engine` value to it.
 */
export type EngineFamily = 'postgres' | 'mysql';

/** A validated RDS-format secret. `util.inspect` and `JSON.stringify` of it never show the password. */
export interface DatabaseSecret {
  /** As written in the secret: postgres, aurora-postgresql, mysql, aurora-mysql, aurora, mariadb. */
  readonly engine: string;
  readonly family: EngineFamily;
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly password: string;
  /** Absent (or empty, or null in the JSON) means the engine default (Postgres: `postgres`; MySQL: no default schema). */
  readonly dbname?: string;
  /** The secret's `ssl` as true/false; undefined when absent (the function's DB_TLS_MODE then applies). */
  readonly ssl?: boolean;
  readonly masterarn?: string;
  /** Every key of the original JSON, extra keys included, for copying into the next version. */
  readonly fields: Readonly<Record<string, unknown>>;
}

/** What `parseDatabaseSecret` names in its errors and which secrets it accepts. */
export interface ParseDatabaseSecretOptions {
  /** Named in the error; never a value. */
  readonly secretId?: string;
  readonly step?: string;
  /** The engine family the caller can handle: a secret of the other family is invalid. */
  readonly expectedFamily?: EngineFamily;
  /**
   * Demand an `engine` key, as AWS's rotation templates do. Without it, a secret lacking `engine` takes
   * `expectedFamily` (and `engine` is then the family's name); lacking both, it is invalid.
   */
  readonly requireEngine?: boolean;
}

/** Secrets Manager's own size limit for a secret value. */
export const MAX_SECRET_BYTES = 65_536;

export const DEFAULT_PORTS: Readonly<Record<EngineFamily, number>> = { postgres: 5432, mysql: 3306 };

const ENGINE_FAMILIES: Readonly<Record<string, EngineFamily>> = {
  postgres: 'postgres',
  'aurora-postgresql': 'postgres',
  mysql: 'mysql',
  'aurora-mysql': 'mysql',
  // RDS's engine name for Aurora MySQL 1 (5.6-compatible), still found in secrets made for those clusters.
  aurora: 'mysql',
  mariadb: 'mysql',
};

const PASSWORD_KEY = 'password';
const REDACTED = '[redacted]';

/** Secrets made by `parseDatabaseSecret`: the mapper trusts these without parsing them again. */
const parsedSecrets = new WeakSet<object>();

/** The engine family of an `engine` value, or undefined for engines this toolkit does not rotate. */
export function engineFamily(engine: string): EngineFamily | undefined {
  const key = engine.toLowerCase();
  return Object.prototype.hasOwnProperty.call(ENGINE_FAMILIES, key) ? ENGINE_FAMILIES[key] : undefined;
}

/** True for secrets returned by `parseDatabaseSecret` (not for look-alike objects). */
export function isParsedDatabaseSecret(value: unknown): value is DatabaseSecret {
  return typeof value === 'object' && value !== null && parsedSecrets.has(value);
}

/**
 * Validates a database secret given as its JSON string or as an object. Every problem is collected and
 * thrown at once as a `SecretValidationError` whose issues name fields, never values.
 */
export function parseDatabaseSecret(value: unknown, options: ParseDatabaseSecretOptions = {}): DatabaseSecret {
  const context = { secretId: options.secretId, step: options.step };
  const fail = (issues: readonly ValidationIssue[]): never => {
    throw new SecretValidationError('Database secret is invalid', issues, context);
  };

  const source = isParsedDatabaseSecret(value) ? value.fields : value;
  const raw = toRecord(source);
  if ('problem' in raw) return fail([{ path: '', problem: raw.problem }]);
  const record = raw.record;

  const issues: ValidationIssue[] = [];
  const field = <T>(path: string, check: (v: unknown) => Checked<T>): T | undefined => {
    const result = check(ownValue(record, path));
    if ('problem' in result) {
      issues.push({ path, problem: result.problem });
      return undefined;
    }
    return result.value;
  };

  const host = field('host', required(checkHost));
  const username = field('username', required(checkCredential));
  const password = field(PASSWORD_KEY, required(checkCredential));
  const rawEngine = field('engine', options.requireEngine ? required(checkText) : optional(checkText));
  const dbname = field('dbname', optional(checkDbname));
  const rawPort = field('port', optional(checkPort));
  const ssl = field('ssl', optional(checkSsl));
  const masterarn = field('masterarn', optional(checkMasterarn));

  const engineGiven = ownValue(record, 'engine') !== undefined;
  const family = engineGiven ? familyOfEngine(rawEngine, options, issues) : familyWithoutEngine(options, issues);
  if (issues.length > 0 || family === undefined) return fail(issues);

  const fields = freezeWithHiddenPassword(copyOwnKeys(record), 'SecretFields');
  const secret: Record<string, unknown> = {
    engine: rawEngine ?? family,
    family,
    host,
    port: rawPort ?? DEFAULT_PORTS[family],
    username,
    [PASSWORD_KEY]: password,
    ...(dbname !== undefined ? { dbname } : {}),
    ...(ssl !== undefined ? { ssl } : {}),
    ...(masterarn !== undefined ? { masterarn } : {}),
    fields,
  };
  const frozen = freezeWithHiddenPassword(secret, 'DatabaseSecret') as unknown as DatabaseSecret;
  parsedSecrets.add(frozen);
  return frozen;
}

/**
 * The JSON to store as a secret's value, password included (which `JSON.stringify(fields)` would leave
 * out, by design). Keys keep their order; non-enumerable keys count, so hidden passwords are written.
 */
export function serializeSecretFields(fields: Readonly<Record<string, unknown>>): string {
  const out: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(fields)) {
    defineValue(out, key, (fields as Record<string, unknown>)[key], true);
  }
  return JSON.stringify(out);
}

/** The parsed object, or why the input cannot be one. Parse errors are dropped: V8 quotes the input. */
export function toRecord(value: unknown): { record: Readonly<Record<string, unknown>> } | { problem: string } {
  let parsed = value;
  if (typeof value === 'string') {
    if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) {
      return { problem: `is larger than ${MAX_SECRET_BYTES} bytes` };
    }
    try {
      parsed = JSON.parse(value);
    } catch {
      // Said apart: the text is otherwise fine, and every JSON parser of the secret's readers refuses it too.
      if (value.startsWith('\ufeff'))
        return { problem: 'starts with a byte order mark (U+FEFF), which JSON parsers refuse; store the JSON without it' };
      return { problem: 'is not valid JSON' };
    }
  }
  if (ArrayBuffer.isView(parsed) || parsed instanceof ArrayBuffer) {
    return { problem: 'is binary; a database secret is a JSON string' };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { problem: `must be a JSON object, not ${describeType(parsed)}` };
  }
  return { record: parsed as Record<string, unknown> };
}

/** An own property only: inherited ones (`toString`, a polluted prototype) are not secret fields. */
export function ownValue(record: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/**
 * Why `host` cannot name a database server, or undefined when it can. What the drivers (pg, mysql2)
 * can connect to is valid: a DNS name (letters of any script, digits, `.`, `-`, `_`), an IPv4
 * address, or a bare IPv6 address (`::1`, `fe80::1%eth0`). Refused, each with its own problem: a
 * scheme, a path, `@`, whitespace (around the name or inside it), NUL, a port (`db.example.com:5432`, `[::1]:5432`: the port goes in
 * `port`), a bracketed IPv6 address (`[::1]`: the drivers would look the brackets up in DNS), and any
 * other character a host name cannot hold (`?`, `,`, `;`, `%`…). A bare IPv6 address is always read as
 * an address: `::1:5432` is the address 0::1:5432, not `::1` with a port.
 *
 * The problem names at most one offending character, never the host.
 */
export function hostProblem(host: string): string | undefined {
  if (host.includes('://')) return 'must be a host name, not a URL (it contains a scheme)';
  if (host.includes('/')) return 'must be a host name (it contains a path)';
  if (host.includes('@')) return 'must be a host name (it contains "@")';
  if (host.includes('\0')) return 'must not contain NUL bytes';
  // Said apart: a space or newline pasted around a host name is the common case, and trimming is the fix.
  if (host.trim() !== host) return 'must not start or end with whitespace (a space or newline around the name)';
  if (/\s/.test(host)) return 'must not contain whitespace';
  if (host.startsWith('[')) return bracketedHostProblem(host);
  if (host.includes(':')) {
    if (isIPv6(host)) return undefined;
    if (/^[^:]+:\d*$/.test(host)) return 'must not contain a port ("host:port"); put the port in "port"';
    return 'must be a host name or an IP address (it contains ":" but is not an IPv6 address)';
  }
  // The usual host is plain ASCII: answer it without the Unicode-property pattern, whose first use
  // builds its character tables (about 0.5 ms of CPU in a fresh process, on every cold start).
  if (/^[A-Za-z0-9._-]*$/.test(host)) return undefined;
  const odd = /[^\p{L}\p{M}\p{N}._-]/u.exec(host)?.[0];
  if (odd !== undefined) {
    const shown = /^[\x21-\x7e]$/.test(odd) ? `"${odd}"` : 'a control or symbol character';
    return `must be a host name or an IP address (it contains ${shown})`;
  }
  return undefined;
}

/** `[v6]` and `[v6]:port` are URL syntax, which the drivers do not parse. */
function bracketedHostProblem(host: string): string {
  const match = /^\[([^\]]*)\](.*)$/.exec(host);
  if (match === null || !isIPv6(match[1] ?? '')) return 'must be a host name or an IP address (it starts with "[")';
  if (match[2] === '') return 'must be an IPv6 address without the brackets (they belong to URLs)';
  if (/^:\d*$/.test(match[2] ?? ''))
    return 'must not contain a port ("[address]:port"); put the port in "port" and the address without brackets';
  return 'must be a host name or an IP address (it has text after "]")';
}

/** A checked value, or why the input is not one (never quoting it). */
export type Checked<T> = { value: T } | { problem: string };
type Check<T> = (value: unknown) => Checked<T>;

/** A port as a number or a numeric string, 1–65535, or why it is not one. */
export function checkPort(value: unknown): Checked<number> {
  let port: number;
  if (typeof value === 'number') {
    port = value;
  } else if (typeof value === 'string') {
    if (!/^\s*\d{1,5}\s*$/.test(value)) return { problem: 'must be a number or a numeric string' };
    port = Number(value);
  } else {
    return { problem: `must be a number or a numeric string, not ${describeType(value)}` };
  }
  if (!Number.isInteger(port)) return { problem: 'must be a whole number' };
  if (port < 1 || port > 65_535) return { problem: 'must be between 1 and 65535' };
  return { value: port };
}

function required<T>(check: Check<T>): Check<T> {
  return (value) => (value === undefined ? { problem: 'is missing' } : check(value));
}

function optional<T>(check: Check<T | undefined>): Check<T | undefined> {
  return (value) => (value === undefined ? { value: undefined } : check(value));
}

function checkText(value: unknown): Checked<string> {
  if (typeof value !== 'string') return { problem: `must be a string, not ${describeType(value)}` };
  if (value.length === 0) return { problem: 'must not be empty' };
  if (Buffer.byteLength(value, 'utf8') > MAX_SECRET_BYTES) return { problem: `is longer than ${MAX_SECRET_BYTES} bytes` };
  return { value };
}

function checkCredential(value: unknown): Checked<string> {
  const text = checkText(value);
  if ('problem' in text) return text;
  return text.value.includes('\0') ? { problem: 'must not contain NUL bytes' } : text;
}

function checkHost(value: unknown): Checked<string> {
  const text = checkText(value);
  if ('problem' in text) return text;
  const problem = hostProblem(text.value);
  return problem === undefined ? text : { problem };
}

/**
 * An empty or null `dbname` means "no database named", as if the key were absent: Terraform writes
 * `"dbname": null` for an instance created without a database name, and AWS's templates accept it.
 */
function checkDbname(value: unknown): Checked<string | undefined> {
  if (value === '' || value === null) return { value: undefined };
  return checkCredential(value);
}

/**
 * A null `masterarn` names no master, as if the key were absent: Terraform's `jsonencode` writes null for
 * an unset optional master, and AWS's single-user templates never read the key. Refusing it would fail
 * the rotation and every reader of the secret over a field they do not use.
 */
function checkMasterarn(value: unknown): Checked<string | undefined> {
  return value === null ? { value: undefined } : checkText(value);
}

/** As AWS's templates read `ssl`: a boolean or "true"/"false" in any case; anything else is refused. */
function checkSsl(value: unknown): Checked<boolean> {
  if (typeof value === 'boolean') return { value };
  if (typeof value === 'string') {
    const lowered = value.toLowerCase();
    if (lowered === 'true') return { value: true };
    if (lowered === 'false') return { value: false };
  }
  return { problem: 'must be true or false (a boolean or the string "true"/"false")' };
}

/** `engine` is undefined here when it was given but failed its own check (already an issue). */
function familyOfEngine(
  engine: string | undefined,
  options: ParseDatabaseSecretOptions,
  issues: ValidationIssue[],
): EngineFamily | undefined {
  if (engine === undefined) return undefined;
  const family = engineFamily(engine);
  if (family === undefined) {
    issues.push({ path: 'engine', problem: `is not supported (expected one of ${Object.keys(ENGINE_FAMILIES).join(', ')})` });
    return undefined;
  }
  if (options.expectedFamily !== undefined && family !== options.expectedFamily) {
    const expected = Object.keys(ENGINE_FAMILIES).filter((e) => ENGINE_FAMILIES[e] === options.expectedFamily);
    issues.push({ path: 'engine', problem: `must be a ${options.expectedFamily} engine (${expected.join(', ')})` });
  }
  return family;
}

/** Under requireEngine the missing key is already an issue; otherwise the caller's family stands in. */
function familyWithoutEngine(options: ParseDatabaseSecretOptions, issues: ValidationIssue[]): EngineFamily | undefined {
  if (options.expectedFamily === undefined && !options.requireEngine) {
    issues.push({ path: 'engine', problem: 'is missing (needed to tell PostgreSQL from MySQL)' });
  }
  return options.expectedFamily;
}

function copyOwnKeys(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const key of Object.getOwnPropertyNames(record)) {
    defineValue(copy, key, (record as Record<string, unknown>)[key], true);
  }
  return copy;
}

/** defineProperty, not assignment: a `__proto__` key in the JSON must stay a plain key. */
function defineValue(target: Record<string, unknown>, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(target, key, { value, enumerable, writable: true, configurable: true });
}

function freezeWithHiddenPassword(target: Record<string, unknown>, label: string): Readonly<Record<string, unknown>> {
  if (Object.prototype.hasOwnProperty.call(target, PASSWORD_KEY)) {
    defineValue(target, PASSWORD_KEY, target[PASSWORD_KEY], false);
  }
  Object.defineProperty(target, inspect.custom, { value: redactedInspector(label), enumerable: false });
  return Object.freeze(target);
}

function redactedInspector(label: string) {
  return function (this: Record<string, unknown>, depth: number, opts: object, inspectFn: typeof inspect): string {
    const view: Record<string, unknown> = {};
    for (const key of Object.getOwnPropertyNames(this)) {
      defineValue(view, key, key === PASSWORD_KEY ? REDACTED : this[key], true);
    }
    // `inspect` arrives as the third argument since Node 16.14; fall back for older callers.
    return `${label} ${(inspectFn ?? inspect)(view, { ...opts, depth, customInspect: true })}`;
  };
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}
