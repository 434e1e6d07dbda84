/**
 * Shared pieces of the PostgreSQL alternating-users suites: an admin connection per server (the shared
 * one or a private one, by PG* variables), roles with SCRAM or md5 verifiers made from outside the
 * product, logins that run one query, the handler wired to the embedded endpoint, and clean-up that
 * drops what a test made in every database. Every name starts with `pgclone_`.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id, escapeLiteral as lit } from 'pg';
import { createHash, randomBytes } from 'node:crypto';
import { connectPostgresAdmin } from '../../local/admin-connections';
import { postgresAdminSettings, type Env } from '../../local/db-settings';
import { noteSensitive } from '../../local/sensitive-values';
import { scramSha256Verifier } from '../../shared/engines/password-hashes';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { DatabaseEngine, SqlSession } from '../../shared/rotation/database-engine';
import { captureLogger, createSecret, lambdaArn, startEndpoint, uniqueName, type Endpoint } from './rotation-endpoint';

export const PREFIX = 'pgclone';

/** A unique role or database name with this suite's prefix; short enough for `_clone`. */
export function name(kind = 'u'): string {
  return `${PREFIX}_${kind}_${randomBytes(4).toString('hex')}`;
}

export function password(): string {
  const value = `Pw-${randomBytes(15).toString('base64url')}`;
  noteSensitive(value);
  return value;
}

/** An admin connection to `database` on the server the PG* variables of `env` name. */
export async function admin(env: Env = process.env, database?: string): Promise<Client> {
  return connectPostgresAdmin(database === undefined ? env : { ...env, PGDATABASE: database });
}

/** A SqlSession over an admin client, for calling the engine's functions directly. */
export function sessionOf(client: Client): SqlSession {
  return {
    query: async (sql, params) => (await client.query(sql, params === undefined ? undefined : [...params])).rows,
    close: async () => undefined,
  };
}

/** Creates a login role whose password reaches the server as a verifier only (md5 on request). */
export async function createRole(db: Client, role: string, pw: string, attributes = '', hashing: 'scram' | 'md5' = 'scram'): Promise<void> {
  const verifier =
    hashing === 'md5'
      ? `md5${createHash('md5')
          .update(pw + role)
          .digest('hex')}`
      : scramSha256Verifier(pw);
  await db.query(`CREATE ROLE ${id(role)} WITH LOGIN ${attributes} PASSWORD ${lit(verifier)}`);
}

/** Logs in as `user` and runs `sql`; the rows, or the SQLSTATE of the failure. */
export async function asLogin(
  env: Env,
  user: string,
  pw: string,
  sql: string,
  database?: string,
): Promise<{ rows?: any[]; code?: string }> {
  const { Client: PgClient } = await import('pg');
  const s = postgresAdminSettings(env);
  const c = new PgClient({
    host: s.host,
    port: s.port,
    user,
    password: pw,
    database: database ?? s.database,
    connectionTimeoutMillis: 5000,
  });
  c.on('error', () => undefined);
  try {
    await c.connect();
    // Several statements answer with one result each: the last one's rows are what the caller asked.
    const result: any = await c.query(sql);
    return { rows: Array.isArray(result) ? result[result.length - 1].rows : result.rows };
  } catch (err) {
    return { code: String((err as { code?: unknown }).code ?? 'unknown') };
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Drops roles (after REASSIGN/DROP OWNED in every database) and databases; ignores what is gone. */
export async function dropAll(env: Env, roles: readonly string[], databases: readonly string[] = []): Promise<void> {
  const main = await admin(env);
  try {
    const existing = (await main.query('SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])', [roles])).rows.map((r) =>
      String(r.rolname),
    );
    const dbs = (await main.query('SELECT datname FROM pg_database WHERE datallowconn')).rows.map((r) => String(r.datname));
    for (const dbName of databases) await main.query(`DROP DATABASE IF EXISTS ${id(dbName)}`).catch(() => undefined);
    if (existing.length > 0) {
      for (const dbName of dbs.filter((d) => !databases.includes(d))) {
        const c = await admin(env, dbName).catch(() => undefined);
        if (c === undefined) continue;
        try {
          for (const r of existing) await c.query(`DROP OWNED BY ${id(r)} CASCADE`).catch(() => undefined);
        } finally {
          await c.end();
        }
      }
      for (const r of existing) await main.query(`DROP ROLE IF EXISTS ${id(r)}`).catch(() => undefined);
    }
  } finally {
    await main.end();
  }
}

/** The embedded endpoint with both PostgreSQL handlers registered (optionally a replaced strategy). */
export interface Rig {
  readonly endpoint: Endpoint;
  readonly logs: ReturnType<typeof captureLogger>;
  fn(strategy: 'single-user' | 'alternating-users'): string;
  secret(value: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

export async function startRig(engine: DatabaseEngine = postgresEngine): Promise<Rig> {
  const endpoint = await startEndpoint();
  const logs = captureLogger();
  const tag = randomBytes(3).toString('hex');
  for (const strategy of ['single-user', 'alternating-users'] as const) {
    endpoint.local.registerRotationFunction(
      lambdaArn(`pgclone-${strategy}-${tag}`),
      createRotationHandler({ engine, strategy, secretsClient: endpoint.client, env: { DB_TLS_MODE: 'disable' }, logger: logs }),
    );
  }
  return {
    endpoint,
    logs,
    fn: (strategy) => lambdaArn(`pgclone-${strategy}-${tag}`),
    secret: (value) => createSecret(endpoint.client, uniqueName('pgclone'), value),
    close: () => endpoint.close(),
  };
}

/** A secret value for `user` on the server of `env`. */
export function secretValueFor(env: Env, user: string, pw: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const s = postgresAdminSettings(env);
  return {
    engine: 'postgres',
    host: s.host,
    port: s.port,
    username: user,
    password: pw,
    dbname: s.database ?? 'postgres',
    ssl: false,
    ...extra,
  };
}

/** A master secret for the admin of `env` (loopback trusts postgres on the shared server: any password). */
export function adminMasterValue(env: Env): Record<string, unknown> {
  const s = postgresAdminSettings(env);
  return secretValueFor(env, s.user, s.password || 'trusted-on-loopback');
}
