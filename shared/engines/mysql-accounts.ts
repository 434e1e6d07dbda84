/**
 * The MySQL/MariaDB password changes and the alternate-user sync, run on an open session.
 *
 * MySQL account DDL commits implicitly, so nothing here is atomic. Instead every statement is
 * idempotent and the order makes a crash at any point converge on retry:
 *   1. CREATE USER IF NOT EXISTS for every host part of the current user, with a throw-away password;
 *   2. replay every SHOW GRANTS row of the current account (GRANT is additive);
 *   3. only then set the real password (and TLS requirement) with ALTER USER.
 * Until step 3 the pending password does not log in, so the rotation's "pending already works" check
 * cannot end a retry early with a half-granted user.
 *
 * Host parts: the alternate user gets one account per host part of the current user (`'app'@'%'` and
 * `'app'@'10.0.%'` give `'app_clone'@'%'` and `'app_clone'@'10.0.%'`), each with the grants and TLS
 * options of its counterpart. Single-user self-healing sets the password on every host part of the
 * user, since the secret is one credential for the name.
 */
import { randomBytes } from 'node:crypto';
import { columnText as text, escapeMysql as escape } from './mysql-connector';
import { DatabaseError, ToolkitError } from '../errors';
import type { AlternateUserChange, LoginRole, Row, ServerInfo, SqlSession } from '../rotation/engine-strategy';
import { classifyStatementError, codeOf } from './driver-errors';
import { copyGrantRow, grantRowsOf } from './mysql-grants';
import { assertSupportedServer } from './mysql-server-info';
import {
  accountName,
  alterPasswordStatement,
  createAccountStatement,
  ownPasswordStatements,
  pluginFromCreateUser,
  type TlsRequirement,
} from './mysql-sql';

/** Refusals for lack of privilege: a less demanding statement may still work. */
const PRIVILEGE_CODES: ReadonlySet<string> = new Set([
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  '1227',
  'ER_DBACCESS_DENIED_ERROR',
  '1044',
  'ER_TABLEACCESS_DENIED_ERROR',
  '1142',
  'ER_ACCESS_DENIED_ERROR',
  '1045',
]);
/** A replayed partial revoke that is already in place. */
const NO_SUCH_GRANT_CODES: ReadonlySet<string> = new Set(['ER_NONEXISTING_GRANT', '1141', 'ER_NONEXISTING_TABLE_GRANT', '1147']);

interface AccountRow extends TlsRequirement {
  readonly host: string;
  readonly plugin: string;
}

/** Single-user: the logged-in user sets its own password. */
export async function setOwnMysqlPassword(
  session: SqlSession,
  server: ServerInfo,
  username: string,
  password: string,
): Promise<void> {
  assertSupportedServer(server);
  await ensureBackslashEscapes(session, 'current');
  const plugin = await ownPlugin(session);
  const statements = ownPasswordStatements(server, password, plugin);
  for (let i = 0; i < statements.length; i += 1) {
    try {
      await session.query(statements[i]!);
      return;
    } catch (err) {
      const last = i === statements.length - 1;
      if (last || !PRIVILEGE_CODES.has(errorCode(err) ?? '')) {
        throw statementFailure(err, `setting the password of user ${quoteName(username)}`, 'current');
      }
    }
  }
}

/** Single-user self-healing: the master sets the password on every account of `username`. */
export async function setMysqlPasswordAsMaster(
  session: SqlSession,
  server: ServerInfo,
  username: string,
  password: string,
): Promise<void> {
  assertSupportedServer(server);
  await ensureBackslashEscapes(session, 'master');
  const accounts = await accountsOf(session, username);
  for (const account of accounts) {
    await run(
      session,
      alterPasswordStatement(server, accountName(username, account.host), account.plugin, password),
      `setting the password of ${describeAccount(username, account.host)}`,
    );
  }
}

/** Alternating users, as the master: see the module comment for the order and why. */
export async function syncMysqlAlternateUser(
  session: SqlSession,
  server: ServerInfo,
  change: AlternateUserChange,
): Promise<void> {
  assertSupportedServer(server);
  await ensureBackslashEscapes(session, 'master');
  const { currentUsername: current, alternateUsername: alternate } = change;
  const accounts = await accountsOf(session, current);
  const placeholder = randomBytes(24).toString('base64url');
  for (const account of accounts) {
    await run(
      session,
      createAccountStatement(server, accountName(alternate, account.host), account.plugin, placeholder, account),
      `creating ${describeAccount(alternate, account.host)}`,
    );
  }
  for (const account of accounts) await copyGrants(session, server, current, alternate, account.host);
  for (const account of accounts) {
    await run(
      session,
      alterPasswordStatement(server, accountName(alternate, account.host), account.plugin, change.password, account),
      `setting the password of ${describeAccount(alternate, account.host)}`,
    );
  }
}

async function copyGrants(session: SqlSession, server: ServerInfo, from: string, to: string, host: string): Promise<void> {
  const source = describeAccount(from, host);
  const rows = grantRowsOf(await run(session, `SHOW GRANTS FOR ${accountName(from, host)}`, `reading the grants of ${source}`));
  const grantee = accountName(to, host);
  for (const [index, row] of rows.entries()) {
    const copy = copyGrantRow(row, grantee);
    const action = `copying grant ${index + 1} of ${rows.length} (${copy.summary}) from ${source} to ${describeAccount(to, host)}`;
    try {
      await session.query(copy.sql);
    } catch (err) {
      if (copy.kind === 'revoke' && NO_SUCH_GRANT_CODES.has(errorCode(err) ?? '')) continue;
      throw statementFailure(err, action, 'master');
    }
  }
  // MySQL 8 keeps default roles outside SHOW GRANTS (MariaDB prints them as SET DEFAULT ROLE rows).
  if (server.flavor === 'mysql' && server.major >= 8) {
    const roles = await run(
      session,
      `SELECT DEFAULT_ROLE_USER AS user, DEFAULT_ROLE_HOST AS host FROM mysql.default_roles WHERE USER = ${escape(from)} AND HOST = ${escape(host)}`,
      `reading the default roles of ${source}`,
    );
    if (roles.length > 0) {
      const list = roles.map((r) => accountName(text(r.user), text(r.host))).join(', ');
      await run(session, `SET DEFAULT ROLE ${list} TO ${grantee}`, `copying the default roles of ${source}`);
    }
  }
}

/** Every account (host part) of a user name, with what the password and TLS statements need. */
async function accountsOf(session: SqlSession, username: string): Promise<AccountRow[]> {
  const rows = await run(
    session,
    'SELECT Host AS host, plugin, ssl_type AS sslType, ssl_cipher AS cipher, x509_issuer AS issuer, x509_subject AS subject ' +
      `FROM mysql.user WHERE User = ${escape(username)} ORDER BY Host`,
    `looking up the accounts of user ${quoteName(username)}`,
  );
  if (rows.length === 0) {
    throw new DatabaseError(`No account of user ${quoteName(username)} exists in mysql.user (any host)`);
  }
  return rows.map((r) => ({
    host: text(r.host),
    plugin: text(r.plugin),
    sslType: text(r.sslType),
    cipher: text(r.cipher),
    issuer: text(r.issuer),
    subject: text(r.subject),
  }));
}

/** The logged-in account's auth plugin; undefined when the server will not say. */
async function ownPlugin(session: SqlSession): Promise<string | undefined> {
  let rows: readonly Row[];
  try {
    rows = await session.query('SHOW CREATE USER CURRENT_USER()');
  } catch (err) {
    const failure = statementFailure(err, 'reading the own account', 'current');
    if (failure.code === 'DATABASE') return undefined;
    throw failure;
  }
  const statement = rows[0] === undefined ? undefined : Object.values(rows[0])[0];
  return statement === undefined ? undefined : pluginFromCreateUser(text(statement));
}

/**
 * mysql2's `escape` writes backslash escapes; under NO_BACKSLASH_ESCAPES a backslash would end a
 * literal early, so the session's sql_mode is corrected before any escaped statement runs.
 */
async function ensureBackslashEscapes(session: SqlSession, role: LoginRole): Promise<void> {
  const rows = await run(session, 'SELECT @@SESSION.sql_mode AS mode', 'reading sql_mode', role);
  const modes = text(rows[0]?.mode).split(',');
  if (!modes.includes('NO_BACKSLASH_ESCAPES')) return;
  const kept = modes.filter((m) => m !== 'NO_BACKSLASH_ESCAPES' && /^[A-Z_]+$/.test(m)).join(',');
  await run(session, `SET SESSION sql_mode = '${kept}'`, 'turning off NO_BACKSLASH_ESCAPES', role);
}

async function run(session: SqlSession, sql: string, action: string, role: LoginRole = 'master'): Promise<readonly Row[]> {
  try {
    return await session.query(sql);
  } catch (err) {
    throw statementFailure(err, action, role);
  }
}

/**
 * A typed error naming what was being done, never the statement or the driver's message (both may
 * hold a password or a hash). Network and timeout failures keep their class, so they stay retryable.
 */
function statementFailure(err: unknown, action: string, role: LoginRole): ToolkitError {
  if (err instanceof ToolkitError && err.code !== 'DATABASE') return err;
  if (!(err instanceof ToolkitError)) {
    const classified = classifyStatementError(err, { family: 'mysql', role, action });
    if (classified.code !== 'DATABASE') return classified;
  }
  const code = errorCode(err);
  const cause = err instanceof ToolkitError ? { name: err.causeSummary?.name ?? err.name, code } : err;
  return new DatabaseError(`MySQL as the ${role} user: ${action} was refused${code !== undefined ? ` (${code})` : ''}`, { cause });
}

function errorCode(err: unknown): string | undefined {
  if (err instanceof ToolkitError) return err.causeSummary?.code;
  return codeOf(err);
}

function describeAccount(user: string, host: string): string {
  return `account ${accountName(user, host)}`;
}

function quoteName(name: string): string {
  return escape(name);
}
