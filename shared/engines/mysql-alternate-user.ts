/**
 * Alternating users on MySQL/MariaDB, as the master: the alternate user gets one account per host part
 * of the current user (`'app'@'%'` and `'app'@'10.0.%'` give `'app_clone'@'%'` and
 * `'app_clone'@'10.0.%'`), each with the grants and TLS options of its counterpart.
 *
 * MySQL account DDL commits implicitly, so nothing here is atomic. Instead every statement is
 * idempotent and the order makes a crash at any point converge on retry:
 *   1. CREATE USER IF NOT EXISTS for every host part of the current user, with a throw-away password;
 *   2. replay every SHOW GRANTS row of the current account (GRANT is additive);
 *   3. only then set the real password (and TLS requirement) with ALTER USER.
 * Until step 3 the pending password does not log in, so the rotation's "pending already works" check
 * cannot end a retry early with a half-granted user.
 */
import { randomBytes } from 'node:crypto';
import { columnText as text, escapeMysql as escape } from './mysql-connector';
import type { AlternateUserChange, ServerInfo, SqlSession } from '../rotation/engine-strategy';
import { copyGrantRow, grantRowsOf } from './mysql-grants';
import { assertSupportedServer } from './mysql-server-info';
import { accountName, alterPasswordStatement, createAccountStatement } from './mysql-sql';
import { accountsOf, describeAccount, ensureBackslashEscapes, errorCode, run, statementFailure } from './mysql-accounts';
import { runPasswordStatement } from './mysql-passwords';

/** A replayed partial revoke that is already in place. */
const NO_SUCH_GRANT_CODES: ReadonlySet<string> = new Set(['ER_NONEXISTING_GRANT', '1141', 'ER_NONEXISTING_TABLE_GRANT', '1147']);

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
  // Every character class, so a password-validation plugin accepts the placeholder too.
  const placeholder = `Aa1-${randomBytes(24).toString('base64url')}`;
  for (const account of accounts) {
    await runPasswordStatement(
      session,
      (form) => createAccountStatement(server, accountName(alternate, account.host), account.plugin, placeholder, account, form),
      `creating ${describeAccount(alternate, account.host)}`,
      'master',
    );
  }
  for (const account of accounts) await copyGrants(session, server, current, alternate, account.host);
  for (const account of accounts) {
    await runPasswordStatement(
      session,
      (form) => alterPasswordStatement(server, accountName(alternate, account.host), account.plugin, change.password, account, { form }),
      `setting the password of ${describeAccount(alternate, account.host)}`,
      'master',
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

