/**
 * What the MySQL/MariaDB password changes and the alternate-user sync share: the accounts (host parts)
 * of a user name, the session's escaping mode, and statement failures as typed errors that name the
 * action, never the statement (it may hold a password or a hash).
 */
import { columnText as text, escapeMysql as escape } from './mysql-connector';
import { DatabaseError, ToolkitError } from '../errors';
import type { LoginRole, Row, SqlSession } from '../rotation/engine-strategy';
import { classifyStatementError, codeOf } from './driver-errors';
import { accountName, type TlsRequirement } from './mysql-sql';

/** One `user@host` account as mysql.user stores it: what the password and TLS statements need. */
export interface AccountRow extends TlsRequirement {
  readonly host: string;
  readonly plugin: string;
}

/** Every account (host part) of a user name, with what the password and TLS statements need. */
export async function accountsOf(session: SqlSession, username: string): Promise<AccountRow[]> {
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

/**
 * mysql2's `escape` writes backslash escapes; under NO_BACKSLASH_ESCAPES a backslash would end a
 * literal early, so the session's sql_mode is corrected before any escaped statement runs.
 */
export async function ensureBackslashEscapes(session: SqlSession, role: LoginRole): Promise<void> {
  const rows = await run(session, 'SELECT @@SESSION.sql_mode AS mode', 'reading sql_mode', role);
  const modes = text(rows[0]?.mode).split(',');
  if (!modes.includes('NO_BACKSLASH_ESCAPES')) return;
  const kept = modes.filter((m) => m !== 'NO_BACKSLASH_ESCAPES' && /^[A-Z_]+$/.test(m)).join(',');
  await run(session, `SET SESSION sql_mode = '${kept}'`, 'turning off NO_BACKSLASH_ESCAPES', role);
}

export async function run(session: SqlSession, sql: string, action: string, role: LoginRole = 'master'): Promise<readonly Row[]> {
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
export function statementFailure(err: unknown, action: string, role: LoginRole): ToolkitError {
  if (err instanceof ToolkitError && err.code !== 'DATABASE') return err;
  if (!(err instanceof ToolkitError)) {
    const classified = classifyStatementError(err, { family: 'mysql', role, action });
    if (classified.code !== 'DATABASE') return classified;
  }
  const code = errorCode(err);
  const cause = err instanceof ToolkitError ? { name: err.causeSummary?.name ?? err.name, code } : err;
  return new DatabaseError(`MySQL as the ${role} user: ${action} was refused${code !== undefined ? ` (${code})` : ''}`, { cause });
}

export function errorCode(err: unknown): string | undefined {
  if (err instanceof ToolkitError) return err.causeSummary?.code;
  return codeOf(err);
}

export function describeAccount(user: string, host: string): string {
  return `account ${accountName(user, host)}`;
}

export function quoteName(name: string): string {
  return escape(name);
}
