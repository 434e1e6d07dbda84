/**
 * Admin logins to the local servers, for fixtures, setup and verification from outside a rotation.
 * These never go through the rotation code paths they are used to check.
 */
import { Client } from 'pg';
import { createConnection, type Connection } from 'mysql2/promise';
import { isMysqlAuthFailure, isPostgresAuthFailure } from '../shared/auth-errors';
import { withinTimeLimit } from '../shared/time-limit';
import { mysqlAdminSettings, postgresAdminSettings, type Env } from './db-settings';

/**
 * The PostgreSQL admin's session, logged in within `timeoutMs`.
 * @throws pg's error; or, when no answer came in time, an Error whose `code` is ETIMEDOUT: pg's own
 *   connect timeout says only "timeout expired", without a code, and the callers (db:setup, rotate:local's
 *   preflight) tell "not answering" from "login refused" by codes alone.
 */
export async function connectPostgresAdmin(env: Env = process.env, timeoutMs = 5000): Promise<Client> {
  const s = postgresAdminSettings(env);
  const client = new Client({
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    database: s.database,
    // A backstop only: the bound below answers first, with a code.
    connectionTimeoutMillis: timeoutMs + 1_000,
  });
  try {
    await withinTimeLimit(
      timeoutMs,
      () => client.connect(),
      () => Object.assign(new Error(`PostgreSQL did not answer within ${timeoutMs} ms`), { code: 'ETIMEDOUT' }),
    );
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
  // A dropped admin connection must not crash the process through an unhandled 'error' event.
  client.on('error', () => undefined);
  return client;
}

export async function connectMysqlAdmin(env: Env = process.env, timeoutMs = 5000): Promise<Connection> {
  const s = mysqlAdminSettings(env);
  const conn = await createConnection({
    host: s.host,
    port: s.port,
    user: s.user,
    password: s.password,
    connectTimeout: timeoutMs,
    charset: 'utf8mb4',
  });
  conn.on('error', () => undefined);
  return conn;
}

/** Tries a login with the given credentials; true when the server accepted it. */
export async function canLoginPostgres(user: string, password: string, env: Env = process.env, database?: string): Promise<boolean> {
  const s = postgresAdminSettings(env);
  const client = new Client({
    host: s.host,
    port: s.port,
    user,
    password,
    database: database ?? s.database,
    connectionTimeoutMillis: 5000,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch (err) {
    if (isPostgresAuthFailure(err)) return false;
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function canLoginMysql(user: string, password: string, env: Env = process.env): Promise<boolean> {
  const s = mysqlAdminSettings(env);
  let conn: Connection | undefined;
  try {
    conn = await createConnection({ host: s.host, port: s.port, user, password, connectTimeout: 5000, charset: 'utf8mb4' });
    conn.on('error', () => undefined);
    await conn.query('SELECT 1');
    return true;
  } catch (err) {
    if (isMysqlAuthFailure(err)) return false;
    throw err;
  } finally {
    await conn?.end().catch(() => undefined);
  }
}
