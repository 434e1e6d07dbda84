/**
 * A `pg.Pool` that survives rotation: every new connection logs in with the secret's current
 * credentials (user, password, host, port, database, TLS through the connection-options mapper), a
 * refused login is retried once after one shared probe of AWSCURRENT then AWSPENDING, and connections
 * of a retired account (alternating users switched user) are closed when they fall idle, never while
 * a query runs. Everything else is pg's own pool: same options, same `query`/`connect`/`end`, same events.
 *
 * pg is required when the first pool is created, not when this file is imported.
 */
import type * as Pg from 'pg';
import type { AuthErrorClassifier } from '../auth-errors';
import { toPgClientConfig, type TlsMode } from '../connection-options';
import type { DatabaseSecret } from '../database-secret';
import { ConfigError } from '../errors';
import type { SecretCache } from '../secret-cache';
import { PoolCredentials, defaultPoolCache, type PoolLogin, type PoolRotationStats } from './pool-credentials';
import { rejectLoginKeys, resolveConnectTimeout } from './pool-options';

/** pg's pool options without what the secret decides: credentials, host, port, database and TLS. */
export type PgPoolOptions = Omit<Pg.PoolConfig, 'user' | 'password' | 'host' | 'port' | 'database' | 'connectionString' | 'ssl' | 'stream'>;

const PG_LOGIN_KEYS = ['user', 'password', 'host', 'port', 'database', 'connectionString', 'ssl', 'stream'] as const;

/** Which secret `createPgPool` logs in with, and the driver's own pool options. */
export interface CreatePgPoolOptions {
  /** Name or ARN of the database secret (RDS format, a PostgreSQL engine). */
  readonly secretId: string;
  /** Where the secret is read. @default one process-wide `SecretCache` with its defaults (TTL 300 s) */
  readonly cache?: SecretCache;
  /** pg's own pool options (max, idleTimeoutMillis, maxUses, application_name, statement_timeout, …). */
  readonly pool?: PgPoolOptions;
  /** Used when the secret has no `ssl`. @default verify-full */
  readonly tlsMode?: TlsMode;
  /** A PEM bundle trusted on top of Node's roots (e.g. the RDS CA bundle). */
  readonly caBundlePath?: string;
  /** Login timeout per connection, in milliseconds. @default `pool.connectionTimeoutMillis` when set, else 5000 */
  readonly connectTimeoutMs?: number;
  /** Decides which connect failures mean "credentials refused". @default SQLSTATE 28P01 / 28000 */
  readonly isAuthError?: AuthErrorClassifier;
}

/** What `createPgPool` returns: a `pg.Pool` plus the rotation counters. */
export interface RotatingPgPool extends Pg.Pool {
  readonly secretId: string;
  /** Logins, refused logins, probes and drained connections since the pool was created. */
  rotationStats(): PoolRotationStats;
}

type PgModule = typeof Pg;
type ConnectCallback = (err: Error | undefined, client: Pg.PoolClient | undefined, done: (release?: Error | boolean) => void) => void;
type ClientConnectCallback = ((err: Error) => void) | ((err: null, c: Pg.Client) => void);
type RotatingPoolClass = new (options: Pg.PoolConfig, credentials: PoolCredentials) => RotatingPgPool;

let pg: PgModule | undefined;
let poolClass: RotatingPoolClass | undefined;
/** Which credentials a failed connect used, by its error object. */
const refusedWith = new WeakMap<object, PoolLogin>();

function loadPg(): PgModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  pg ??= require('pg') as PgModule;
  return pg;
}

/**
 * A rotation-aware `pg.Pool` for the secret. Switching is one line:
 * `new pg.Pool({ host, user, password, max: 20 })` becomes `createPgPool({ secretId, pool: { max: 20 } })`.
 * Nothing is read or connected until the first query.
 * A refused login makes one probe per secret for the value the database takes (AWSCURRENT refreshed,
 * then AWSPENDING mid-rotation); pooled connections are retired only when the account changes
 * (alternating users), since a password change does not end a logged-in session.
 *
 * @throws ConfigError when `pool` names credentials, host, port, database, a connection string or TLS.
 * @example
 * import { createPgPool } from 'db-secret-rotation-toolkit/shared';
 *
 * const pool = createPgPool({ secretId: 'prod/app/db', pool: { max: 20 } });
 * const { rows } = await pool.query('SELECT now()');
 */
export function createPgPool(options: CreatePgPoolOptions): RotatingPgPool {
  const poolOptions: PgPoolOptions = { ...(options.pool ?? {}) };
  rejectLoginKeys('pool', poolOptions, PG_LOGIN_KEYS);
  const driver = loadPg();
  const Base = (poolOptions.Client ?? driver.Client) as typeof Pg.Client;
  const connectTimeoutMs = resolveConnectTimeout(options.connectTimeoutMs, poolOptions.connectionTimeoutMillis);
  const clientConfig = (secret: DatabaseSecret): Pg.ClientConfig =>
    toPgClientConfig(secret, {
      ...(options.tlsMode !== undefined ? { tlsMode: options.tlsMode } : {}),
      ...(options.caBundlePath !== undefined ? { caBundlePath: options.caBundlePath } : {}),
      connectTimeoutMs,
      secretId: options.secretId,
    });

  const credentials = new PoolCredentials({
    cache: options.cache ?? defaultPoolCache(),
    secretId: options.secretId,
    family: 'postgres',
    ...(options.isAuthError !== undefined ? { isAuthError: options.isAuthError } : {}),
    probeLogin: async (secret) => {
      const client = new Base({ ...poolOptions, ...clientConfig(secret) });
      client.on('error', () => undefined);
      try {
        await client.connect();
      } finally {
        await client.end().catch(() => undefined);
      }
    },
  });

  class RotatingClient extends Base {
    constructor(config?: Pg.ClientConfig) {
      // pg-pool builds clients synchronously right after a checkout refreshed the credentials.
      const login = credentials.snapshot();
      if (login === undefined) throw new ConfigError('no credentials read yet', { secretId: options.secretId });
      super({ ...config, ...clientConfig(login.secret) });
      credentials.tag(this, login);
    }

    override connect(): Promise<Pg.Client>;
    override connect(callback: ClientConnectCallback): void;
    override connect(callback?: ClientConnectCallback): Promise<Pg.Client> | void {
      const login = credentials.loginOf(this);
      const note = (err: unknown): void => {
        if (login !== undefined && typeof err === 'object' && err !== null) refusedWith.set(err, login);
      };
      if (callback === undefined) {
        return super.connect().catch((err: unknown) => {
          note(err);
          throw err;
        });
      }
      const forward = callback as (...args: unknown[]) => void;
      return super.connect((...args: unknown[]) => {
        if (args[0]) note(args[0]);
        forward(...args);
      });
    }
  }

  const PoolClass = rotatingPoolClass(driver);
  return new PoolClass({ ...poolOptions, Client: RotatingClient as unknown as Pg.PoolConfig['Client'] }, credentials);
}

function rotatingPoolClass(driver: PgModule): RotatingPoolClass {
  if (poolClass !== undefined) return poolClass;

  class RotatingPool extends driver.Pool implements RotatingPgPool {
    readonly #credentials: PoolCredentials;

    constructor(options: Pg.PoolConfig, credentials: PoolCredentials) {
      super(options);
      this.#credentials = credentials;
      this.on('connect', () => credentials.noteLogin());
    }

    get secretId(): string {
      return this.#credentials.secretId;
    }

    rotationStats(): PoolRotationStats {
      return this.#credentials.stats();
    }

    // pg's own `query` checks out through this method, so it gets the same treatment.
    override connect(): Promise<Pg.PoolClient>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<Pg.PoolClient> | void {
      const checkout = this.#checkout();
      if (callback === undefined) return checkout;
      checkout.then(
        (client) => callback(undefined, client, client.release),
        (err: Error) => callback(err, undefined, () => undefined),
      );
    }

    async #checkout(): Promise<Pg.PoolClient> {
      // A pool being ended answers with pg's own error.
      if (this.ending) return super.connect();
      await this.#credentials.refresh();
      let lastRefused: PoolLogin | undefined;
      let refusals = 0;
      let drainedHere = 0;
      for (;;) {
        let client: Pg.PoolClient;
        try {
          client = await super.connect();
        } catch (err) {
          const refused = typeof err === 'object' && err !== null ? refusedWith.get(err) : undefined;
          if (refused === undefined || !this.#credentials.isAuthError(err)) throw err;
          this.#credentials.noteRefused();
          refusals++;
          if (!this.#credentials.shouldRetry(refused, lastRefused, refusals)) throw err;
          lastRefused = refused;
          await this.#credentials.recover(refused);
          continue;
        }
        const login = this.#credentials.loginOf(client);
        // An idle connection of a retired account: close it and take another (a bounded number of times).
        if (login !== undefined && this.#credentials.isRetired(login) && drainedHere < this.options.max) {
          drainedHere++;
          this.#credentials.noteDrained();
          client.release(true);
          continue;
        }
        this.#drainOnRelease(client, login);
        return client;
      }
    }

    /** pg sets `release` at every checkout; ours closes the connection instead when its account retired meanwhile. */
    #drainOnRelease(client: Pg.PoolClient, login: PoolLogin | undefined): void {
      if (login === undefined) return;
      const release = client.release.bind(client);
      const credentials = this.#credentials;
      client.release = (err?: Error | boolean): void => {
        if (!err && credentials.isRetired(login)) {
          credentials.noteDrained();
          release(true);
          return;
        }
        release(err);
      };
    }
  }

  poolClass = RotatingPool;
  return poolClass;
}
