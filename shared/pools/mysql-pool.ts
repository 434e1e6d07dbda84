/**
 * A mysql2 pool that survives rotation: every new connection logs in with the secret's current
 * credentials (user, password, host, port, database, TLS through the connection-options mapper), a
 * refused login is retried once after one shared probe of AWSCURRENT then AWSPENDING, and connections
 * of a retired account (alternating users switched user) are closed when they fall idle, never while
 * a query runs. Everything else is mysql2's own pool: same options, and the promise API of
 * `mysql2/promise`'s `createPool` (`query`, `execute`, `getConnection`, `end`, events).
 *
 * How: mysql2 builds each new connection's settings from the pool's `config.connectionConfig`,
 * synchronously inside `getConnection`. This pool sets that object to the current credentials' own
 * `ConnectionConfig` (built by mysql2 itself) just before each `getConnection` reaches the driver,
 * including the driver's own re-entries for queued requests. Every such config carries the login it
 * was built from, so each connection knows its account. mysql2 is required when the first pool is
 * created, not when this file is imported.
 */
import type * as Mysql from 'mysql2';
import type { Pool as PromisePool, PoolOptions } from 'mysql2/promise';
import type { AuthErrorClassifier } from '../auth-errors';
import { toMysqlConnectionOptions, type TlsMode } from '../connection-options';
import type { DatabaseSecret } from '../database-secret';
import type { SecretCache } from '../secret-cache';
import { PoolCredentials, defaultPoolCache, type PoolLogin, type PoolRotationStats } from './pool-credentials';
import { rejectLoginKeys, resolveConnectTimeout } from './pool-options';

/** mysql2's pool options without what the secret decides: credentials, host, port, database and TLS. */
export type MysqlPoolOptions = Omit<
  PoolOptions,
  | 'user'
  | 'password'
  | 'password1'
  | 'password2'
  | 'password3'
  | 'passwordSha1'
  | 'host'
  | 'port'
  | 'database'
  | 'uri'
  | 'ssl'
  | 'socketPath'
  | 'stream'
>;

const MYSQL_LOGIN_KEYS = [
  'user',
  'password',
  'password1',
  'password2',
  'password3',
  'passwordSha1',
  'host',
  'port',
  'database',
  'uri',
  'ssl',
  'socketPath',
  'stream',
] as const;

/** Which secret `createMysqlPool` logs in with, and the driver's own pool options. */
export interface CreateMysqlPoolOptions {
  /** Name or ARN of the database secret (RDS format, a MySQL, Aurora MySQL or MariaDB engine). */
  readonly secretId: string;
  /** Where the secret is read. @default one process-wide `SecretCache` with its defaults (TTL 300 s) */
  readonly cache?: SecretCache;
  /** mysql2's own pool options (connectionLimit, maxIdle, idleTimeout, queueLimit, timezone, …). */
  readonly pool?: MysqlPoolOptions;
  /** Used when the secret has no `ssl`. @default verify-full */
  readonly tlsMode?: TlsMode;
  /** A PEM bundle trusted on top of Node's roots (e.g. the RDS CA bundle). */
  readonly caBundlePath?: string;
  /** Login timeout per connection, in milliseconds. @default `pool.connectTimeout` when set, else 5000 */
  readonly connectTimeoutMs?: number;
  /** Decides which connect failures mean "credentials refused". @default errno 1045 / 1698 */
  readonly isAuthError?: AuthErrorClassifier;
}

/** What `createMysqlPool` returns: a `mysql2/promise` pool plus the rotation counters. */
export interface RotatingMysqlPool extends PromisePool {
  readonly secretId: string;
  /** Logins, refused logins, probes and drained connections since the pool was created. */
  rotationStats(): PoolRotationStats;
}

/** The parts of mysql2 used here, some of them exported but not typed. */
interface MysqlRuntime {
  createPool(options: PoolOptions): Mysql.Pool;
  createConnection(options: Mysql.ConnectionOptions): Mysql.Connection;
  ConnectionConfig: new (options: Mysql.ConnectionOptions & { pool?: unknown }) => object;
}

type GetConnectionCallback = (err: NodeJS.ErrnoException | null, connection: Mysql.PoolConnection) => unknown;
/** The driver's pool, with the one field this file replaces. */
type CorePool = Mysql.Pool & { config: { connectionConfig: object } };

/** The login a `ConnectionConfig` (and, by mysql2's per-connection copy, its connection) was built from. */
const POOL_LOGIN = Symbol('poolLogin');

let mysql: MysqlRuntime | undefined;

function loadMysql(): MysqlRuntime {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mysql ??= require('mysql2') as MysqlRuntime;
  return mysql;
}

/**
 * A rotation-aware `mysql2/promise` pool for the secret. Switching is one line:
 * `mysql.createPool({ host, user, password, connectionLimit: 20 })` becomes
 * `createMysqlPool({ secretId, pool: { connectionLimit: 20 } })`. The callback-style pool is its `.pool`,
 * as with mysql2. Nothing is read or connected until the first query.
 * A refused login makes one probe per secret for the value the database takes (AWSCURRENT refreshed,
 * then AWSPENDING mid-rotation); pooled connections are retired only when the account changes
 * (alternating users), since a password change does not end a logged-in session.
 *
 * @throws ConfigError when `pool` names credentials, host, port, database, a URI, a socket or TLS.
 * @example
 * import { createMysqlPool } from 'db-secret-rotation-toolkit/shared';
 *
 * const pool = createMysqlPool({ secretId: 'prod/app/db', pool: { connectionLimit: 20 } });
 * const [rows] = await pool.query('SELECT NOW()');
 */
export function createMysqlPool(options: CreateMysqlPoolOptions): RotatingMysqlPool {
  const poolOptions: MysqlPoolOptions = { ...(options.pool ?? {}) };
  rejectLoginKeys('pool', poolOptions, MYSQL_LOGIN_KEYS);
  const driver = loadMysql();
  const connectTimeoutMs = resolveConnectTimeout(options.connectTimeoutMs, poolOptions.connectTimeout);
  const connectionOptions = (secret: DatabaseSecret): Mysql.ConnectionOptions => ({
    ...toMysqlConnectionOptions(secret, {
      ...(options.tlsMode !== undefined ? { tlsMode: options.tlsMode } : {}),
      ...(options.caBundlePath !== undefined ? { caBundlePath: options.caBundlePath } : {}),
      connectTimeoutMs,
      secretId: options.secretId,
    }),
    ...poolOptions,
  });

  const credentials = new PoolCredentials({
    cache: options.cache ?? defaultPoolCache(),
    secretId: options.secretId,
    family: 'mysql',
    ...(options.isAuthError !== undefined ? { isAuthError: options.isAuthError } : {}),
    probeLogin: (secret) => probeLogin(driver, connectionOptions(secret)),
  });

  const core = driver.createPool({ ...poolOptions }) as CorePool;
  const driverGetConnection = Object.getPrototypeOf(core).getConnection as (this: Mysql.Pool, cb: GetConnectionCallback) => void;
  const configs = new WeakMap<PoolLogin, object>();
  /** Our callbacks into the driver, each with the setter of the login its latest attempt used. */
  const ours = new WeakMap<GetConnectionCallback, (login: PoolLogin) => void>();
  const releasePatched = new WeakSet<Mysql.PoolConnection>();

  const configFor = (login: PoolLogin): object => {
    let config = configs.get(login);
    if (config === undefined) {
      config = new driver.ConnectionConfig({ ...connectionOptions(login.secret), pool: core });
      // Plain driver state otherwise; hidden so that inspecting the pool never shows the password.
      const password = (config as { password?: unknown }).password;
      Object.defineProperty(config, 'password', { value: password, enumerable: false, writable: true, configurable: true });
      Object.defineProperty(config, POOL_LOGIN, { value: login, enumerable: false });
      configs.set(login, config);
    }
    return config;
  };

  /** Points the driver's next new connection at the current credentials; returns them. */
  const applyCurrentLogin = (): PoolLogin | undefined => {
    const login = credentials.snapshot();
    if (login !== undefined) core.config.connectionConfig = configFor(login);
    return login;
  };

  const loginOf = (connection: Mysql.PoolConnection): PoolLogin | undefined =>
    (connection.config as { [POOL_LOGIN]?: PoolLogin })[POOL_LOGIN];

  /** Closes an idle connection the way the driver's idle reaper does. */
  const drain = (connection: Mysql.PoolConnection): void => {
    credentials.noteDrained();
    if ((connection.config as { gracefulEnd?: boolean }).gracefulEnd === true) connection.end();
    else connection.destroy();
  };

  /** Once per connection: `release` closes it instead when its account retired while it was checked out. */
  const drainOnRelease = (connection: Mysql.PoolConnection): void => {
    if (releasePatched.has(connection)) return;
    releasePatched.add(connection);
    const release = connection.release;
    let drained = false;
    connection.release = function releaseOrDrain(this: Mysql.PoolConnection): void {
      const login = loginOf(connection);
      if (login !== undefined && credentials.isRetired(login)) {
        if (!drained) drain(connection);
        drained = true;
        return;
      }
      release.call(connection);
    };
  };

  core.getConnection = function getConnection(callback: GetConnectionCallback): void {
    const reentry = ours.get(callback);
    if (reentry !== undefined) {
      // The driver serving a queued request: it may open a connection now, with today's credentials.
      const login = applyCurrentLogin();
      if (login !== undefined) reentry(login);
      driverGetConnection.call(core, callback);
      return;
    }
    let used: PoolLogin | undefined;
    let lastRefused: PoolLogin | undefined;
    let refusals = 0;
    let drainedHere = 0;
    const attempt = (): void => {
      used = applyCurrentLogin();
      driverGetConnection.call(core, onResult);
    };
    const onResult: GetConnectionCallback = (err, connection) => {
      if (err) {
        if (used === undefined || !credentials.isAuthError(err)) return callback(err, connection);
        credentials.noteRefused();
        const refused = used;
        refusals++;
        if (!credentials.shouldRetry(refused, lastRefused, refusals)) return callback(err, connection);
        lastRefused = refused;
        credentials.recover(refused).then(attempt, (probeErr: NodeJS.ErrnoException) => callback(probeErr, connection));
        return;
      }
      const login = loginOf(connection);
      const limit = Number.isFinite(core.config.connectionLimit) && core.config.connectionLimit! > 0 ? core.config.connectionLimit! : 10;
      if (login !== undefined && credentials.isRetired(login) && drainedHere < limit) {
        drainedHere++;
        drain(connection);
        attempt();
        return;
      }
      drainOnRelease(connection);
      return callback(null, connection);
    };
    ours.set(onResult, (login) => (used = login));
    credentials.refresh().then(attempt, (err: NodeJS.ErrnoException) => callback(err, undefined as unknown as Mysql.PoolConnection));
  };

  core.on('connection', () => credentials.noteLogin());

  const pool = core.promise() as RotatingMysqlPool;
  Object.defineProperties(pool, {
    secretId: { value: options.secretId, enumerable: false },
    rotationStats: { value: (): PoolRotationStats => credentials.stats(), enumerable: false },
  });
  return pool;
}

/** One login with `options`, closed at once; rejects with the driver's error. */
function probeLogin(driver: MysqlRuntime, options: Mysql.ConnectionOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const connection = driver.createConnection(options);
    connection.on('error', () => undefined);
    connection.connect((err) => {
      if (err) {
        connection.destroy();
        reject(err);
        return;
      }
      connection.end(() => resolve());
    });
  });
}
