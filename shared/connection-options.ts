/**
 * The connection-options mapper: a database secret in, what a driver needs out — JDBC options (the
 * `AwsSecretManager` contract), a `pg` client config, or mysql2 connection options.
 *
 * Only types are imported from pg and mysql2, so this file adds no driver to a bundle that does not
 * connect. TLS policy, in one place:
 * - `verify-full` (the default): encrypt, verify the CA and the host name;
 * - `require`: encrypt, verify nothing;
 * - `prefer`: mapped like `require`; trying plaintext after a TLS failure is the caller's decision
 *   (`allowsPlaintextFallback`), so a downgrade is never silent inside the mapper;
 * - `disable`: no TLS.
 * The secret's own `ssl` wins over the configured mode, as in AWS's rotation templates.
 */
import { inspect } from 'node:util';
import type { ClientConfig } from 'pg';
import type { ConnectionOptions as MysqlConnectionOptions } from 'mysql2';
import { ConfigError, SecretValidationError, type ValidationIssue } from './errors';
import {
  checkPort,
  hostProblem,
  isParsedDatabaseSecret,
  ownValue,
  parseDatabaseSecret,
  toRecord,
  type DatabaseSecret,
  type EngineFamily,
} from './database-secret';
import type { Env } from './secrets-client';
import { secureContextFor, trustedCertificates } from './tls';

/**
 * How a database login uses TLS, as libpq names it: `verify-full` checks the chain and the host name,
 * `require` encrypts without checking, `prefer` is `require` whose caller may retry in plaintext after a
 * TLS failure, `disable` never encrypts.
 */
export type TlsMode = 'verify-full' | 'require' | 'prefer' | 'disable';

export const TLS_MODES: readonly TlsMode[] = ['verify-full', 'require', 'prefer', 'disable'];
export const DEFAULT_TLS_MODE: TlsMode = 'verify-full';
/** AWS's templates use a 5 s connect timeout per attempt. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** PostgreSQL's documented default database for RDS secrets; MySQL has none. */
export const DEFAULT_POSTGRES_DATABASE = 'postgres';

/** What the `AwsSecretManager` contract returns. */
export interface JdbcOptions {
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly driver: string;
  /** The secret's `jars`, or '' when it has none. */
  readonly jars: string;
}

/** The database types `toJdbcOptions` maps, as the JDBC world names them. */
export type JdbcDbType = 'POSTGRES' | 'MYSQL' | 'MARIADB' | 'REDSHIFT';

interface JdbcTarget {
  readonly scheme: string;
  readonly port: number;
  readonly driver: string;
  /** Used in the URL when the secret names no database. */
  readonly defaultDatabase?: string;
}

const JDBC_TARGETS: Readonly<Record<JdbcDbType, JdbcTarget>> = {
  POSTGRES: { scheme: 'postgresql', port: 5432, driver: 'org.postgresql.Driver', defaultDatabase: DEFAULT_POSTGRES_DATABASE },
  MYSQL: { scheme: 'mysql', port: 3306, driver: 'com.mysql.cj.jdbc.Driver' },
  MARIADB: { scheme: 'mariadb', port: 3306, driver: 'org.mariadb.jdbc.Driver' },
  REDSHIFT: { scheme: 'redshift', port: 5439, driver: 'com.amazon.redshift.jdbc.Driver' },
};

/** What the secret-to-driver mappers (`toPgClientConfig`, `toMysqlConnectionOptions`) add to the secret. */
export interface DriverOptionsInput {
  /** Used when the secret has no `ssl`. @default verify-full */
  readonly tlsMode?: TlsMode;
  /**
   * `tlsMode` already accounts for a secret's `ssl` (the rotation's login resolves it, sometimes from
   * another secret: previous takes current's `ssl`), so this secret's own `ssl` is not consulted.
   */
  readonly tlsModeFinal?: boolean;
  /** A PEM bundle trusted on top of Node's roots (see `shared/tls.ts`). */
  readonly caBundlePath?: string;
  /** Default 5000. */
  readonly connectTimeoutMs?: number;
  /**
   * Overrides the secret's `dbname` (the PostgreSQL master logs in to the child's database); for MySQL,
   * `''` opens no database at all (the master's accounts work is server-wide).
   * @default the secret's `dbname`
   */
  readonly database?: string;
  /** Read for NODE_EXTRA_CA_CERTS; default `process.env`. */
  readonly env?: Env;
  /** Named in errors when the secret has to be parsed here. */
  readonly secretId?: string;
  readonly step?: string;
}

/** The JDBC driver type named by `dbType` (any case), or a ConfigError. */
export function parseJdbcDbType(dbType: string): JdbcDbType {
  const normalized = String(dbType).trim().toUpperCase();
  if (!Object.prototype.hasOwnProperty.call(JDBC_TARGETS, normalized)) {
    throw new ConfigError(`dbType must be one of ${Object.keys(JDBC_TARGETS).join(', ')}`);
  }
  return normalized as JdbcDbType;
}

/**
 * JDBC options from a secret (JSON string or object) in either format: the `AwsSecretManager` one
 * (`username`|`user`, `password`, `hosturl`|`url`, `driver`, `jars`) or RDS's (`host`, `port`, `dbname`),
 * the URL then built for `dbType`. The first spelling wins when both are present.
 */
export function toJdbcOptions(
  secret: unknown,
  dbType: string,
  context: { readonly secretId?: string; readonly step?: string } = {},
): JdbcOptions {
  const type = parseJdbcDbType(dbType);
  const target = JDBC_TARGETS[type];
  const parsed = toRecord(isParsedDatabaseSecret(secret) ? secret.fields : secret);
  const fail = (issues: readonly ValidationIssue[]): never => {
    throw new SecretValidationError(`Secret cannot be mapped to ${type} JDBC options`, issues, context);
  };
  if ('problem' in parsed) return fail([{ path: '', problem: parsed.problem }]);
  const record = parsed.record;

  const issues: ValidationIssue[] = [];
  const user = firstText(record, ['username', 'user'], issues);
  const password = firstText(record, ['password'], issues);
  const url = firstText(record, ['hosturl', 'url'], issues, true) ?? urlFromHost(record, target, issues);
  const driver = optionalText(record, 'driver', issues) ?? target.driver;
  const jars = optionalText(record, 'jars', issues) ?? '';
  if (issues.length > 0 || user === undefined || password === undefined || url === undefined) return fail(issues);
  return Object.freeze(redactedInInspect({ url, user, password, driver, jars }, 'JdbcOptions'));
}

/** The secret's `ssl` as a TLS mode: true → verify-full, false → disable, absent → `fallback`. */
export function resolveTlsMode(ssl: boolean | undefined, fallback: TlsMode): TlsMode {
  if (ssl === undefined) return fallback;
  return ssl ? 'verify-full' : 'disable';
}

/** A TLS mode from configuration (e.g. DB_TLS_MODE), any case; unset or blank → `verify-full`. */
export function parseTlsMode(value: string | undefined, variable = 'DB_TLS_MODE'): TlsMode {
  const normalized = value?.trim().toLowerCase();
  if (!normalized) return DEFAULT_TLS_MODE;
  if (!(TLS_MODES as readonly string[]).includes(normalized)) {
    throw new ConfigError(`${variable} must be one of ${TLS_MODES.join(', ')}`);
  }
  return normalized as TlsMode;
}

/** True when a failed TLS login may be retried in plaintext: only under `prefer`. */
export function allowsPlaintextFallback(mode: TlsMode): boolean {
  return mode === 'prefer';
}

/** A `pg` client config. Every field is set explicitly, so no PG* environment variable leaks in. */
export function toPgClientConfig(secret: unknown, opts: DriverOptionsInput = {}): ClientConfig {
  const db = asSecret(secret, 'postgres', opts);
  const mode = effectiveTlsMode(db, opts);
  return redactedInInspect<ClientConfig>(
    {
      host: db.host,
      port: db.port,
      user: db.username,
      password: db.password,
      database: opts.database ?? db.dbname ?? DEFAULT_POSTGRES_DATABASE,
      connectionTimeoutMillis: connectTimeout(opts),
      ssl: pgSsl(mode, opts),
    },
    'PgClientConfig',
  );
}

/**
 * mysql2 connection options: utf8mb4 (decoded natively, no iconv), one statement per query, and
 * LOAD DATA LOCAL not offered to the server. The `ssl` object is shared between calls with the same
 * mode and CA set, because mysql2 caches its secure context and TLS sessions by that object's
 * identity; copy it before changing it.
 */
export function toMysqlConnectionOptions(secret: unknown, opts: DriverOptionsInput = {}): MysqlConnectionOptions {
  const db = asSecret(secret, 'mysql', opts);
  const mode = effectiveTlsMode(db, opts);
  const database = opts.database ?? db.dbname;
  return redactedInInspect<MysqlConnectionOptions>(
    {
      host: db.host,
      port: db.port,
      user: db.username,
      password: db.password,
      ...(database !== undefined && database !== '' ? { database } : {}),
      connectTimeout: connectTimeout(opts),
      charset: 'utf8mb4',
      multipleStatements: false,
      flags: ['-LOCAL_FILES'],
      ...(mode === 'disable' ? {} : { ssl: mysqlSsl(mode, opts) }),
    },
    'MysqlConnectionOptions',
  );
}

function asSecret(secret: unknown, family: EngineFamily, opts: DriverOptionsInput): DatabaseSecret {
  if (isParsedDatabaseSecret(secret) && secret.family === family) return secret;
  return parseDatabaseSecret(secret, { expectedFamily: family, secretId: opts.secretId, step: opts.step });
}

function effectiveTlsMode(db: DatabaseSecret, opts: DriverOptionsInput): TlsMode {
  const configured = opts.tlsMode ?? DEFAULT_TLS_MODE;
  return opts.tlsModeFinal ? configured : resolveTlsMode(db.ssl, configured);
}

type PgSsl = Exclude<ClientConfig['ssl'], true | undefined>;
type MysqlSsl = Exclude<MysqlConnectionOptions['ssl'], string | undefined>;

/** With a CA bundle, a prebuilt secure context spares pg building one per connection; `ca` is informative. */
function pgSsl(mode: TlsMode, opts: DriverOptionsInput): PgSsl {
  if (mode === 'disable') return false;
  if (mode !== 'verify-full') return { rejectUnauthorized: false };
  const ca = trustedCertificates({ caBundlePath: opts.caBundlePath, env: opts.env });
  return ca === undefined ? { rejectUnauthorized: true } : { rejectUnauthorized: true, ca, secureContext: secureContextFor(ca) };
}

const DEFAULT_STORE: readonly string[] = [];
const mysqlSslByBundle = new WeakMap<readonly string[], Map<TlsMode, MysqlSsl>>();

/**
 * mysql2 checks the host name only with `verifyIdentity`. It also writes `rejectUnauthorized` back to
 * this object, which is why the shared object is not frozen (the value written is the one already there).
 */
function mysqlSsl(mode: Exclude<TlsMode, 'disable'>, opts: DriverOptionsInput): MysqlSsl {
  const ca = mode === 'verify-full' ? trustedCertificates({ caBundlePath: opts.caBundlePath, env: opts.env }) : undefined;
  const key = ca ?? DEFAULT_STORE;
  let byMode = mysqlSslByBundle.get(key);
  if (!byMode) {
    byMode = new Map();
    mysqlSslByBundle.set(key, byMode);
  }
  let ssl = byMode.get(mode);
  if (!ssl) {
    const verify = mode === 'verify-full';
    ssl = { rejectUnauthorized: verify, verifyIdentity: verify, ...(ca !== undefined ? { ca } : {}) };
    byMode.set(mode, ssl);
  }
  return ssl;
}

function connectTimeout(opts: DriverOptionsInput): number {
  const ms = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isFinite(ms) || ms <= 0) throw new ConfigError('connectTimeoutMs must be a positive number');
  return ms;
}

/** The first of `keys` present; a present key of the wrong type is an issue, not skipped. */
function firstText(
  record: Readonly<Record<string, unknown>>,
  keys: readonly string[],
  issues: ValidationIssue[],
  optional = false,
): string | undefined {
  const key = keys.find((k) => ownValue(record, k) !== undefined);
  if (key === undefined) {
    if (!optional) issues.push({ path: keys[0], problem: `is missing${keys.length > 1 ? ` (give ${keys.join(' or ')})` : ''}` });
    return undefined;
  }
  const value = ownValue(record, key);
  if (typeof value !== 'string') {
    issues.push({ path: key, problem: 'must be a string' });
    return undefined;
  }
  if (value.length === 0) {
    issues.push({ path: key, problem: 'must not be empty' });
    return undefined;
  }
  return value;
}

function optionalText(record: Readonly<Record<string, unknown>>, key: string, issues: ValidationIssue[]): string | undefined {
  const value = ownValue(record, key);
  // JSON null is "not given", as an empty string is (Terraform writes null for an unset dbname).
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  issues.push({ path: key, problem: 'must be a string' });
  return undefined;
}

/** RDS format: `jdbc:<scheme>://host:port[/dbname]`, an IPv6 host in brackets. */
function urlFromHost(record: Readonly<Record<string, unknown>>, target: JdbcTarget, issues: ValidationIssue[]): string | undefined {
  if (ownValue(record, 'host') === undefined) {
    // Not when hosturl/url was given but invalid: that already has its issue.
    if (ownValue(record, 'hosturl') === undefined && ownValue(record, 'url') === undefined) {
      issues.push({ path: 'hosturl', problem: 'is missing (give hosturl or url, or host to build one)' });
    }
    return undefined;
  }
  const host = firstText(record, ['host'], issues);
  const hostIssue = host === undefined ? undefined : hostProblem(host);
  if (hostIssue !== undefined) issues.push({ path: 'host', problem: hostIssue });
  const rawPort = ownValue(record, 'port');
  const port = rawPort === undefined ? { value: target.port } : checkPort(rawPort);
  if ('problem' in port) issues.push({ path: 'port', problem: port.problem });
  const database = optionalText(record, 'dbname', issues) ?? target.defaultDatabase;
  if (host === undefined || hostIssue !== undefined || 'problem' in port) return undefined;
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  return `jdbc:${target.scheme}://${hostPart}:${port.value}${database !== undefined ? `/${database}` : ''}`;
}

/**
 * Driver options must carry the password in the clear (and stay plain, spreadable objects), but
 * `console.log` of them shows it redacted: a non-enumerable inspector that a spread leaves behind.
 */
function redactedInInspect<T extends object>(options: T, label: string): T {
  Object.defineProperty(options, inspect.custom, {
    enumerable: false,
    value(depth: number, inspectOptions: object, inspectFn: typeof inspect): string {
      return `${label} ${(inspectFn ?? inspect)({ ...options, password: '[redacted]' }, { ...inspectOptions, depth })}`;
    },
  });
  return options;
}
