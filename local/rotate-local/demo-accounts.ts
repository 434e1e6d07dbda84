/**
 * The demo users `rotate:local` rotates, created through the fixtures or reused by their fixed names.
 * A reused user's password is unknown (the last run rotated it), so it is reset through the admin
 * before its secret is seeded. Passwords reach the servers only as hashes where the server allows it.
 */
import { escapeIdentifier, escapeLiteral } from 'pg';
import { scramSha256Verifier } from '../../shared/engines/password-hashes';
import { connectMysqlAdmin, connectPostgresAdmin } from '../admin-connections';
import { mysqlAdminSettings, postgresAdminSettings, type Env } from '../db-settings';
import { createMysqlUser, createPostgresUser, mysqlIdentifiedBy } from '../fixtures';
import { fixturePassword } from '../fixtures/names';
import { noteSensitive } from '../sensitive-values';
import { demoMasterUsername } from './scenarios';
import type { EngineFamily } from '../../shared/database-secret';

/** A database login; the password never leaves this process except into a secret. */
export interface DemoLogin {
  readonly username: string;
  readonly password: string;
  /** The database the user works in (Postgres: the admin's; MySQL: the user's own). */
  readonly database?: string;
}

/** Creates the user, or resets the password of the one a previous run left. */
export async function ensureDemoUser(engine: EngineFamily, username: string, env: Env): Promise<DemoLogin> {
  const password = fixturePassword();
  noteSensitive(password);
  return engine === 'postgres' ? ensurePostgresUser(username, password, env, []) : ensureMysqlUser(username, password, env, false);
}

/**
 * The master for alternating users: the admin account itself when it has a password, else (a loopback
 * server that trusts its admin with an empty password, which no secret can hold) a demo master with the
 * admin's powers and a fresh password.
 */
export async function ensureDemoMaster(engine: EngineFamily, env: Env): Promise<DemoLogin> {
  const admin = engine === 'postgres' ? postgresAdminSettings(env) : mysqlAdminSettings(env);
  if (admin.password !== '') return { username: admin.user, password: admin.password };
  const password = fixturePassword();
  noteSensitive(password);
  const username = demoMasterUsername(engine);
  return engine === 'postgres'
    ? ensurePostgresUser(username, password, env, ['SUPERUSER'])
    : ensureMysqlUser(username, password, env, true);
}

async function ensurePostgresUser(username: string, password: string, env: Env, attributes: readonly string[]): Promise<DemoLogin> {
  const database = postgresAdminSettings(env).database ?? 'postgres';
  const admin = await connectPostgresAdmin(env);
  let exists: boolean;
  try {
    exists = ((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [username])).rowCount ?? 0) > 0;
    if (exists) {
      const attrs = ['LOGIN', ...attributes].join(' ');
      await admin.query(`ALTER ROLE ${escapeIdentifier(username)} WITH ${attrs} PASSWORD ${escapeLiteral(scramSha256Verifier(password))}`);
      await admin.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${escapeIdentifier(username)}`);
    }
  } finally {
    await admin.end();
  }
  if (!exists) await createPostgresUser({ username, password, attributes, env });
  return { username, password, database };
}

async function ensureMysqlUser(username: string, password: string, env: Env, master: boolean): Promise<DemoLogin> {
  const admin = await connectMysqlAdmin(env);
  const database = master ? undefined : `${username}_db`;
  let exists: boolean;
  try {
    const [rows] = await admin.query("SELECT 1 AS found FROM mysql.user WHERE User = ? AND Host = '%'", [username]);
    exists = (rows as unknown[]).length > 0;
    if (exists) {
      await admin.query(`ALTER USER ${admin.format("?@'%'", [username])} ${await mysqlIdentifiedBy(admin, password)}`);
      if (database !== undefined) {
        // Single-user rotation without a master must see every host entry of the user (as createMysqlUser grants).
        await admin.query(`GRANT SELECT (User, Host) ON mysql.user TO ${admin.format("?@'%'", [username])}`);
        await admin.query(`CREATE DATABASE IF NOT EXISTS ${admin.escapeId(database)}`);
        await admin.query(`GRANT ALL PRIVILEGES ON ${admin.escapeId(database)}.* TO ${admin.format("?@'%'", [username])}`);
      }
    }
    if (!exists && master) {
      await admin.query(`CREATE USER ${admin.format("?@'%'", [username])} ${await mysqlIdentifiedBy(admin, password)}`);
    }
    if (master) {
      await admin.query(`GRANT ALL PRIVILEGES ON *.* TO ${admin.format("?@'%'", [username])} WITH GRANT OPTION`);
    }
  } finally {
    await admin.end();
  }
  if (!exists && !master) await createMysqlUser({ username, password, env });
  return { username, password, ...(database !== undefined ? { database } : {}) };
}
