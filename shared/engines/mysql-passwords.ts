/**
 * Single-user MySQL/MariaDB password changes: the logged-in user sets its own password, or the master
 * sets it on every account of the name.
 */
import { columnText as text } from './mysql-connector';
import type { OwnPasswordChange, Row, ServerInfo, SqlSession } from '../rotation/engine-strategy';
import { assertSupportedServer } from './mysql-server-info';
import { accountName, alterPasswordStatement, ownPasswordStatements, pluginFromCreateUser } from './mysql-sql';
import { accountsOf, describeAccount, ensureBackslashEscapes, errorCode, quoteName, run, statementFailure } from './mysql-accounts';

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

/** Single-user: the logged-in user sets its own password. */
export async function setOwnMysqlPassword(session: SqlSession, server: ServerInfo, change: OwnPasswordChange): Promise<void> {
  const { username, password } = change;
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

