/**
 * Single-user MySQL/MariaDB password changes: the logged-in user sets its own password on every account
 * (host part) of its name, with the master's help for what its own session may not do; or the master
 * sets it (healing proven drift).
 *
 * Every account the secret stands for, or none. A user exists once per host part ('app'@'%',
 * 'app'@'10.0.1.%'); SET PASSWORD / ALTER USER USER() change only the one the session matched
 * (CURRENT_USER()). Before anything changes, the accounts of the name are listed (by the user itself
 * when it may read mysql.user, else by the master) and:
 * - the other accounts are set first, by the master (or by the user itself when it holds CREATE USER),
 *   then the user's own: a crash in between leaves AWSCURRENT working here, so the retry redoes all;
 * - without a master the step refuses, naming the host entries it cannot reach, or saying it cannot
 *   list them (grant SELECT (User, Host) ON mysql.user, or give the secret a masterarn).
 * Accounts that authenticate without a password (unix_socket, PAM, GSSAPI) are not the secret's and
 * are left alone; an account on a plugin nobody can explain stops the step before any change.
 *
 * Never undo what the DBA set: the statements name only the authentication, so TLS requirements,
 * resource limits, password lifetime and ACCOUNT LOCK stay; a MariaDB chain is re-stated with every
 * method in its order (the user's own SET PASSWORD would change only one method of it, so chains are
 * set by the master).
 *
 * An expired password (MariaDB PASSWORD EXPIRE or lifetime, MySQL alike) gets a restricted session in
 * which only SET / SET PASSWORD / ALTER USER run (ER_MUST_CHANGE_PASSWORD on anything else): no
 * SELECT is sent on it before the change; the accounts are listed by the master, and the session sets
 * its own password, which renews it.
 *
 * Refused before any change: a read-only server (a replica or reader: the change would diverge from
 * its source, or fail), and an account at its MAX_USER_CONNECTIONS (the login that proves the new
 * password would be refused, 1226). The heal sets the function's own account last, so a crash
 * between accounts leaves the pending password refused here and the retry heals them all again.
 *
 * The password travels as its client-computed hash; only when a password-validation plugin refuses the
 * hash (MariaDB strict_password_validation) is the change repeated with the plaintext the server
 * validates (see mysql-sql.ts for what the server then logs).
 */
import { AuthenticationError, DatabaseError, PartialChangeError, ToolkitError } from '../errors';
import type { OwnPasswordChange, Row, ServerInfo, SqlSession } from '../rotation/database-engine';
import {
  accountStatesOf,
  describeAccount,
  ensureSafeSqlMode,
  quoteName,
  restoreStoredPasswords,
  run,
  statementFailure,
  type AccountState,
} from './mysql-accounts';
import {
  describeChain,
  holdsAnotherPassword,
  holdsPasswordAlready,
  methodTakesPassword,
  passwordEmpty,
  pluginKind,
  secretMethods,
  takesPassword,
  type AuthMethod,
} from './mysql-auth-chain';
import { columnText as text, escapeMysql as escape } from './mysql-connector';
import { MYSQL_PRIVILEGE_DENIED_CODES } from './mysql-error-codes';
import { accountForClient, hostOfUserFunction } from './mysql-host-match';
import { assertSupportedServer } from './mysql-server-info';
import {
  accountName,
  alterAccountPasswordStatement,
  ambiguousChain,
  chainFromCreateUser,
  discardOldPasswordStatement,
  hasDualPasswords,
  ownPasswordStatements,
  requiresCurrentPassword,
  type PasswordForm,
} from './mysql-sql';
import { failureCode } from './driver-errors';

/** Refusals for lack of privilege: a less demanding statement may still work. */
const PRIVILEGE_CODES: ReadonlySet<string> = new Set([
  ...MYSQL_PRIVILEGE_DENIED_CODES,
  // MySQL 8: a PASSWORD REQUIRE CURRENT account given a form without REPLACE, or a wrong REPLACE.
  'ER_MISSING_CURRENT_PASSWORD',
  '3892',
  'ER_INCORRECT_CURRENT_PASSWORD',
  '3891',
]);

/** What a server answers when a password-validation plugin refuses a statement. */
const VALIDATION_CODES: ReadonlySet<string> = new Set([
  // MariaDB strict_password_validation: SET PASSWORD with a hash.
  'ER_OPTION_PREVENTS_STATEMENT',
  '1290',
  // MariaDB: ALTER/CREATE USER with a hash, or a plaintext the plugin rejects.
  'ER_CANNOT_USER',
  '1396',
  // MySQL validate_password, MariaDB plugins: the plaintext does not meet the policy.
  'ER_NOT_VALID_PASSWORD',
  '1819',
]);

/** The session's expired-password state: ER_MUST_CHANGE_PASSWORD on anything but a password change. */
const MUST_CHANGE_CODES: ReadonlySet<string> = new Set(['ER_MUST_CHANGE_PASSWORD', '1820']);

/**
 * Single-user: the logged-in user sets its own password on every account of its name (see the module comment).
 * @throws DatabaseError before any change when the server is read-only, or when the account manager
 *   may not read the user's accounts; AuthenticationError (`connection-limit`) before any change when
 *   the proving login would exceed a connection limit.
 */
export async function setOwnMysqlPassword(session: SqlSession, server: ServerInfo, change: OwnPasswordChange): Promise<void> {
  const { username } = change;
  assertSupportedServer(server);
  await prepareOwnSession(session);
  const own = await readOwnAccount(session);
  const expired = own === undefined;
  if (own !== undefined && change.restoring !== true) {
    await assertWritable(session, server, 'current');
    await assertRoomForProof(session, username, own.host, own.maxUserConnections);
  }
  const listed = expired ? undefined : await listOwnHosts(session, server, username);
  const others = listed?.filter((h) => h !== own?.host);
  const ownChainNeedsMaster = own !== undefined && own.chain.length > 1;
  if (own !== undefined && listed !== undefined && others!.length === 0 && !ownChainNeedsMaster) {
    try {
      await setOwnAccount(session, server, change, own.chain, own.requireCurrent);
      return;
    } catch (err) {
      // The user may not change its own password here (RDS rds.restrict_password_commands, a plugin
      // refusing the session): the master can, when there is one.
      if (change.master === undefined || !(err instanceof ToolkitError) || err.code !== 'DATABASE') throw err;
    }
  }

  const helper = await accountManager(session, server, change);
  if (helper === undefined) throw unreachable(username, own?.host, others, expired, ownChainNeedsMaster);
  await ensureSafeSqlMode(helper.session, helper.role);
  const states = (await readAccountsAs(helper, server, username)).filter((a) => !a.isRole);
  const ownState = await ownAccountState(session, states, own?.host);
  if (ownState === undefined) {
    throw new DatabaseError(`The account user ${quoteName(username)} logged in as is not among its accounts in the catalogs`);
  }
  if (expired && change.restoring !== true) {
    // The expired session may run no SELECT: the account manager checks for it.
    await assertWritable(helper.session, server, helper.role);
    await assertRoomForProof(helper.session, username, ownState.host, await maxUserConnectionsOf(helper.session, username, ownState.host));
  }
  // An entry that holds the new password already (set by an attempt that did not finish) is not set again.
  const rest = states.filter(
    (a) => a !== ownState && usesPassword(a) && !holdsPasswordAlready(a.chain, change.password, change.currentPassword),
  );
  const unexplained = rest.find((a) => a.chain.some((m) => pluginKind(m.plugin) === 'unknown'));
  if (unexplained !== undefined) {
    throw new DatabaseError(
      `${describeAccount(username, unexplained.host)} authenticates with ${describeChain(unexplained.chain)}, which this toolkit cannot explain: nothing was changed`,
    );
  }
  // The function's own entry proved which password is the secret's (the one it logged in with); another
  // entry holding a third one is not the secret's to change. A heal, where no entry holds the secret's,
  // is decided by the diagnosis.
  const replacing = change.currentPassword;
  const foreign =
    change.restoring === true || replacing === undefined
      ? []
      : rest.filter((a) => holdsAnotherPassword(a.chain, [replacing, change.password]));
  if (foreign.length > 0) {
    const names = foreign.map((a) => describeAccount(a.user, a.host)).join(', ');
    throw new DatabaseError(
      `${names} ${foreign.length === 1 ? 'holds' : 'hold'} a password that is neither the secret's current one nor its new one: ` +
        "its clients do not log in with this secret, and setting the new password there would lock them out. Give it the secret's password (ALTER USER) if its clients use the secret, or rotate it with its own secret. Nothing was changed",
    );
  }
  const retain = !change.restoring && hasDualPasswords(server);
  // Every statement is built before the first runs: a chain whose passwords none is the secret's stops
  // the change before any entry is set.
  for (const account of [...rest, ...(ownState.chain.length > 1 ? [ownState] : [])]) {
    assertSettable(server, account, change.password, replacing);
  }
  const set: AccountState[] = [];
  try {
    for (const account of rest) {
      await setAccountPassword(helper.session, server, account, change.password, helper.role, retain, replacing);
      set.push(account);
    }
    if (ownState.chain.length > 1) {
      await setAccountPassword(helper.session, server, ownState, change.password, helper.role, false, replacing);
      return;
    }
    try {
      await setOwnAccount(session, server, change, ownState.chain, ownState.requireCurrent === 'Y' || own?.requireCurrent === true);
    } catch (err) {
      // The user may not change its own password here (RDS rds.restrict_password_commands, a plugin
      // refusing the session): the master can, when there is one.
      if (helper.role !== 'master' || (err instanceof ToolkitError && err.code !== 'DATABASE')) throw err;
      await setAccountPassword(helper.session, server, ownState, change.password, 'master', retain, replacing);
    }
  } catch (err) {
    throw await putBackEntries(helper, server, set, err);
  }
}

/**
 * A statement refused after other host entries were set: those entries go back to their stored
 * authentication before the error is thrown. Left on the new password, they would refuse AWSCURRENT to
 * the applications matching them for as long as the refusal lasts (every retry meets it again: a plugin
 * no longer loaded, a policy), while the function's own entry keeps the old one. Only a refusal (code
 * DATABASE) is put back: after a lost connection or a timeout the failed statement may have run, and the
 * retry, which sets every entry again, is the way to an account whose entries agree.
 * @returns the error to throw: the original, or one saying what was put back or could not be
 */
async function putBackEntries(helper: AccountManager, server: ServerInfo, set: readonly AccountState[], err: unknown): Promise<unknown> {
  if (set.length === 0 || !(err instanceof ToolkitError) || err.code !== 'DATABASE') return err;
  const names = set.map((a) => describeAccount(a.user, a.host)).join(', ');
  try {
    await restoreStoredPasswords(helper.session, server, set, helper.role);
  } catch (second) {
    return new DatabaseError(
      `${err.message}; ${names}, set before it, could not be put back (${failureCode(second) ?? 'unknown'}): ` +
        'they hold the new password, which AWSPENDING holds, and the next attempt sets every host entry again',
      { cause: err },
    );
  }
  return new DatabaseError(`${err.message}; ${names}, set before it, ${set.length === 1 ? 'was' : 'were'} put back: nothing was changed`, {
    cause: err,
  });
}

/**
 * Single-user self-healing: the master sets the password on every password account of `username`, the
 * function's own account last. `replacing` is the secret's refused password: in a MariaDB chain holding
 * several passwords only the methods holding it (or `password`, set by an earlier attempt) are set.
 * @throws DatabaseError before any change when the server is read-only, the user has no password account,
 *   or an entry cannot be set (a plugin the toolkit cannot set, a chain of passwords none of which is the secret's).
 * @throws PartialChangeError when a statement fails after others set some host entries (the caller puts back).
 */
export async function setMysqlPasswordAsMaster(
  session: SqlSession,
  server: ServerInfo,
  username: string,
  password: string,
  replacing?: string,
): Promise<void> {
  assertSupportedServer(server);
  await assertWritable(session, server, 'master');
  await ensureSafeSqlMode(session, 'master');
  const accounts = (await accountStatesOf(session, server, [username])).filter((a) => !a.isRole);
  if (accounts.length === 0) throw new DatabaseError(`No account of user ${quoteName(username)} exists in mysql.user (any host)`);
  const targets = accounts.filter(usesPassword);
  if (targets.length === 0) {
    throw new DatabaseError(`No account of user ${quoteName(username)} authenticates with a password: nothing was changed`);
  }
  // The account the function's address matches goes last: a crash before it leaves the pending
  // password refused here, so the retry heals again (and reaches every other account) instead of
  // finding the pending password in place and skipping the accounts not yet set.
  const who = await run(session, 'SELECT USER() AS client', 'reading the client address');
  const own = accountForClient(
    targets,
    username,
    hostOfUserFunction(text(who[0]?.client)),
    server.flavor === 'mariadb' ? 'mariadb' : 'mysql',
  );
  // Entries that hold the new password already (a heal that did not finish) are not set again.
  const ordered = [...targets.filter((a) => a !== own), ...(own !== undefined ? [own] : [])].filter(
    (a) => !holdsPasswordAlready(a.chain, password, replacing),
  );
  // Every statement is built before the first runs: an entry the toolkit cannot set (mysql_old_password,
  // a plugin it cannot explain) stops the heal before any change, not after the application's entry was set.
  for (const account of ordered) assertSettable(server, account, password, replacing);
  // Drift healing sets a password the old one never matched: nothing to retain.
  for (const [i, account] of ordered.entries()) {
    try {
      await setAccountPassword(session, server, account, password, 'master', false, replacing);
    } catch (err) {
      // A refused first statement changed nothing (and after a lost answer its session is gone, so nothing
      // could be put back through it): only entries already set call for the caller's put-back.
      if (i === 0 || !(err instanceof ToolkitError)) throw err;
      throw new PartialChangeError(`${err.message} (after ${i} of the ${ordered.length} host entries were set)`, { cause: err });
    }
  }
}

/**
 * Runs a password statement in its hashed form and, when a password-validation plugin refused it,
 * once more in the plaintext form the server validates (the one case where the plaintext reaches the
 * server: see mysql-sql.ts). `build` gives the statement for a form.
 * @throws DatabaseError naming the action (and the validation plugin when it refused the plaintext too).
 */
export async function runPasswordStatement(
  session: SqlSession,
  build: (form: PasswordForm) => string,
  action: string,
  role: 'master' | 'current',
): Promise<void> {
  const same = build('hash') === build('plain');
  await withValidationFallback(session, async (form) => void (await session.query(build(form))), action, role, same);
}

/**
 * `attempt('hash')`, then `attempt('plain')` only when a password-validation plugin explains the
 * refusal (or, in an expired session that may not read the plugin list, when the server named its
 * strict-validation option).
 */
async function withValidationFallback(
  session: SqlSession,
  attempt: (form: PasswordForm) => Promise<void>,
  action: string,
  role: 'master' | 'current',
  noPlainForm: boolean,
): Promise<void> {
  try {
    await attempt('hash');
    return;
  } catch (err) {
    const code = failureCode(err) ?? '';
    if (noPlainForm || !VALIDATION_CODES.has(code)) throw statementFailure(err, action, role);
    const plugins = await validationPlugins(session);
    const explained = plugins === undefined ? code === 'ER_OPTION_PREVENTS_STATEMENT' || code === '1290' : plugins.length > 0;
    if (!explained) throw statementFailure(err, action, role);
    try {
      await attempt('plain');
    } catch (second) {
      const failure = statementFailure(second, action, role);
      if (!VALIDATION_CODES.has(failureCode(second) ?? '')) throw failure;
      const names = plugins !== undefined && plugins.length > 0 ? plugins.join(', ') : 'password validation';
      throw new DatabaseError(
        `MySQL as the ${role} user: ${action} was refused by the server's password policy (${names}), even as the plaintext it validates; ` +
          'make the rotation password policy meet it (length, character classes, excluded characters)',
        { cause: { name: 'Error', code: failureCode(second) } },
      );
    }
  }
}

/** The active password-validation plugins (MariaDB) or components (MySQL); undefined when unreadable. */
async function validationPlugins(session: SqlSession): Promise<string[] | undefined> {
  try {
    const rows = await session.query(
      "SELECT PLUGIN_NAME AS name FROM information_schema.PLUGINS WHERE PLUGIN_TYPE = 'PASSWORD VALIDATION' AND PLUGIN_STATUS = 'ACTIVE'",
    );
    const names = rows.map((r) => text(r.name)).filter((n) => /^[A-Za-z0-9_]+$/.test(n));
    if (names.length > 0) return names;
    // MySQL 8's validate_password component is no plugin: its variables show it is there.
    const vars = await session.query("SHOW VARIABLES LIKE 'validate\\_password%'");
    return vars.length > 0 ? ['validate_password'] : [];
  } catch {
    return undefined;
  }
}

/**
 * Makes the session's literals and reads safe (NO_BACKSLASH_ESCAPES and PAD_CHAR_TO_FULL_LENGTH off, as
 * `ensureSafeSqlMode` does) with one SET computed on the server: the one kind of statement a session
 * restricted to changing its expired password may run besides the change itself. Two flags taken out
 * side by side leave `,,,`, hence the second REPLACE.
 */
async function prepareOwnSession(session: SqlSession): Promise<void> {
  await run(
    session,
    "SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(REPLACE(REPLACE(REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', ''), " +
      "'PAD_CHAR_TO_FULL_LENGTH', ''), ',,', ','), ',,', ','))",
    'turning off NO_BACKSLASH_ESCAPES and PAD_CHAR_TO_FULL_LENGTH',
    'current',
  );
}

/**
 * A read-only server (a replica: read_only; MySQL's super_read_only; an Aurora MySQL reader's
 * innodb_read_only, since MySQL keeps its grant tables in InnoDB) takes no password change from the
 * user, and one from a master holding SUPER / READ_ONLY ADMIN would be written on the replica only,
 * diverging from its source and lost at the next rebuild: the step refuses before any change. A server
 * that will not tell is left to refuse the statement itself.
 * @throws DatabaseError naming the setting
 */
export async function assertWritable(session: SqlSession, server: ServerInfo, role: 'master' | 'current'): Promise<void> {
  const mysqlOnly =
    server.flavor === 'mysql' ? ', @@GLOBAL.super_read_only AS super_read_only, @@GLOBAL.innodb_read_only AS innodb_read_only' : '';
  let rows: readonly Row[];
  try {
    rows = await session.query(`SELECT @@GLOBAL.read_only AS read_only${mysqlOnly}`);
  } catch {
    return;
  }
  const on = ['read_only', 'super_read_only', 'innodb_read_only'].filter((name) =>
    ['1', 'ON'].includes(text(rows[0]?.[name]).toUpperCase()),
  );
  if (on.length === 0) return;
  throw new DatabaseError(
    `MySQL as the ${role} user: the server is read-only (${on.join(', ')} ON: a replica or reader, ` +
      'or a primary fenced for maintenance), so no password can be changed on it; point the secret at the writer. Nothing was changed',
  );
}

interface OwnAccount {
  readonly host: string;
  readonly chain: readonly AuthMethod[];
  readonly requireCurrent: boolean;
  /** The account's MAX_USER_CONNECTIONS (0: none of its own, the global max_user_connections applies). */
  readonly maxUserConnections: number;
}

/**
 * The proof of a new password is a second login while this session is still open: at the account's
 * MAX_USER_CONNECTIONS (or the global max_user_connections) it would be refused with 1226/1203 and the
 * change left unproven, so the step refuses before any change. Sessions are counted by user name (the
 * user sees its own in PROCESSLIST), which can only over-count. Unreadable numbers skip the check: a
 * refused proof still puts the old password back.
 * @throws AuthenticationError (reason `connection-limit`) before any change
 */
export async function assertRoomForProof(session: SqlSession, username: string, host: string, maxUserConnections: number): Promise<void> {
  let limit = maxUserConnections;
  let sessions: number;
  try {
    const rows = await session.query(
      `SELECT @@GLOBAL.max_user_connections AS global, (SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE USER = ${escape(username)}) AS sessions`,
    );
    if (limit <= 0) limit = Number(text(rows[0]?.global) || '0');
    sessions = Number(text(rows[0]?.sessions) || '0');
  } catch {
    return;
  }
  if (!(limit > 0) || !Number.isFinite(sessions) || sessions + 1 <= limit) return;
  const which = maxUserConnections > 0 ? `MAX_USER_CONNECTIONS ${limit}` : `max_user_connections ${limit}`;
  throw new AuthenticationError(
    `MySQL: the login that must prove the new password would exceed a connection limit (${describeAccount(username, host)} has ${which} ` +
      `with ${sessions} sessions open); the password was not changed`,
    { reason: 'connection-limit' },
  );
}

/**
 * The account the session matched and how it authenticates (no chain when the server will not show
 * it); undefined when the session may only change its expired password (ER_MUST_CHANGE_PASSWORD).
 */
async function readOwnAccount(session: SqlSession): Promise<OwnAccount | undefined> {
  let who: readonly Row[];
  try {
    who = await session.query('SELECT CURRENT_USER() AS account');
  } catch (err) {
    const failure = statementFailure(err, 'reading the own account', 'current');
    if (MUST_CHANGE_CODES.has(failureCode(failure) ?? '')) return undefined;
    throw failure;
  }
  const host = hostOfUserFunction(text(who[0]?.account));
  let statement = '';
  try {
    const rows = await session.query('SHOW CREATE USER CURRENT_USER()');
    statement = rows[0] === undefined ? '' : text(Object.values(rows[0])[0]);
  } catch (err) {
    const failure = statementFailure(err, 'reading the own account', 'current');
    if (failure.code !== 'DATABASE') throw failure;
  }
  return {
    host,
    chain: chainFromCreateUser(statement),
    requireCurrent: requiresCurrentPassword(statement),
    maxUserConnections: maxUserConnectionsIn(statement),
  };
}

/** MAX_USER_CONNECTIONS of a SHOW CREATE USER statement; 0 when it names none. */
function maxUserConnectionsIn(statement: string): number {
  const limit = /\bMAX_USER_CONNECTIONS\s+(\d+)/i.exec(statement);
  return limit === null ? 0 : Number(limit[1]);
}

/** As the account manager: an account's MAX_USER_CONNECTIONS (0 when none, or when it may not be read). */
async function maxUserConnectionsOf(session: SqlSession, username: string, host: string): Promise<number> {
  try {
    const rows = await session.query(`SHOW CREATE USER ${accountName(username, host)}`);
    return maxUserConnectionsIn(rows[0] === undefined ? '' : text(Object.values(rows[0])[0]));
  } catch {
    return 0;
  }
}

/**
 * The host parts of the user's password accounts, read by the user itself (with the plugin where it may
 * read that column, so socket-only accounts are left out); undefined when it may not read them. A
 * MariaDB role of the same name is a row with an empty host (MariaDB stores a user's '' host as '%'),
 * and no account of the user: it is left out.
 */
async function listOwnHosts(session: SqlSession, server: ServerInfo, username: string): Promise<string[] | undefined> {
  const where = `FROM mysql.user WHERE User = ${escape(username)}`;
  for (const sql of [`SELECT Host AS host, plugin ${where}`, `SELECT Host AS host ${where}`]) {
    try {
      const rows = await session.query(sql);
      return rows
        .filter((r) => server.flavor !== 'mariadb' || text(r.host) !== '')
        .filter((r) => r.plugin === undefined || takesPassword(text(r.plugin)) || pluginKind(text(r.plugin)) === 'unknown')
        .map((r) => text(r.host));
    } catch (err) {
      const failure = statementFailure(err, `listing the accounts of user ${quoteName(username)}`, 'current');
      if (failure.code !== 'DATABASE') throw failure;
    }
  }
  return undefined;
}

interface AccountManager {
  readonly session: SqlSession;
  readonly role: 'master' | 'current';
}

/**
 * Who may change the other accounts: the master when the secret names one, else the user itself when
 * it holds CREATE USER and may read the catalogs; undefined when nobody may.
 */
async function accountManager(session: SqlSession, server: ServerInfo, change: OwnPasswordChange): Promise<AccountManager | undefined> {
  if (change.master !== undefined) return { session: await change.master(), role: 'master' };
  try {
    const rows = await session.query("SELECT COUNT(*) AS n FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'CREATE USER'");
    if (Number(text(rows[0]?.n) || '0') === 0) return undefined;
    await accountStatesOf(session, server, [change.username]);
    return { session, role: 'current' };
  } catch {
    return undefined;
  }
}

/**
 * The accounts of `username` read by the account manager. Every one is re-stated with its own chain,
 * which only the catalogs show: a master that may not read them (an RDS-like master without SELECT on
 * mysql.*) stops the step before any change, saying what to grant.
 * @throws DatabaseError naming the missing grant
 */
async function readAccountsAs(helper: AccountManager, server: ServerInfo, username: string): Promise<AccountState[]> {
  try {
    return await accountStatesOf(helper.session, server, [username]);
  } catch (err) {
    if (!(err instanceof ToolkitError) || err.code !== 'DATABASE') throw err;
    throw new DatabaseError(
      `The ${helper.role} user may not read the accounts of user ${quoteName(username)} (mysql.global_priv / mysql.user), which the rotation ` +
        'needs to set every host entry with its own authentication methods; grant it SELECT on them. Nothing was changed',
      { cause: { name: 'Error', code: failureCode(err) } },
    );
  }
}

/**
 * The user's own account among `states`: by its host when the session could read CURRENT_USER(); an
 * expired session, which may run SET statements only, is asked entry by entry. The master's USER() cannot
 * tell it: with name resolution on it shows a host name while the server also matched the address
 * ('app'@'127.0.0.1' before 'app'@'%'), and a wrong guess sets one entry twice and leaves another, perhaps
 * the application's, on the old password.
 */
async function ownAccountState(
  session: SqlSession,
  states: readonly AccountState[],
  host: string | undefined,
): Promise<AccountState | undefined> {
  if (host !== undefined) return states.find((a) => a.host === host);
  for (const account of states) if (await isCurrentUser(session, account)) return account;
  return undefined;
}

/** Error codes of a SET given a value its variable refuses: the probe's "no". */
const WRONG_VALUE_CODES: ReadonlySet<string> = new Set(['ER_WRONG_VALUE_FOR_VAR', '1231']);

/**
 * True when the session is logged in as `account`. A SET that keeps sql_mode as it is when CURRENT_USER()
 * is the account, and is refused (1231) otherwise: the one question a session restricted to changing its
 * expired password may ask. Compared as bytes, since the session's collation ignores case.
 */
async function isCurrentUser(session: SqlSession, account: AccountState): Promise<boolean> {
  const name = escape(`${account.user}@${account.host}`);
  try {
    await session.query(
      `SET SESSION sql_mode = IF(CAST(CURRENT_USER() AS BINARY) = CAST(${name} AS BINARY), @@SESSION.sql_mode, 'NOT A MODE')`,
    );
    return true;
  } catch (err) {
    if (WRONG_VALUE_CODES.has(failureCode(err) ?? '')) return false;
    throw statementFailure(err, 'finding the host entry of the expired session', 'current');
  }
}

/** The user's own statement (SET PASSWORD / ALTER USER USER()), with the privilege and validation fallbacks. */
async function setOwnAccount(
  session: SqlSession,
  server: ServerInfo,
  change: OwnPasswordChange,
  chain: readonly AuthMethod[],
  requireCurrent: boolean,
): Promise<void> {
  const plugin = chain[0]?.plugin;
  const action = `setting the password of user ${quoteName(change.username)}`;
  const attempt = async (form: PasswordForm): Promise<void> => {
    const statements = ownPasswordStatements(server, change.password, plugin, {
      form,
      ...(change.currentPassword !== undefined ? { currentPassword: change.currentPassword } : {}),
      requireCurrent,
      ...(change.restoring === true ? { restoring: true } : {}),
    });
    for (let i = 0; i < statements.length; i += 1) {
      try {
        await session.query(statements[i]!);
        return;
      } catch (err) {
        if (i === statements.length - 1 || !PRIVILEGE_CODES.has(failureCode(err) ?? '')) throw err;
      }
    }
  };
  const same =
    ownPasswordStatements(server, change.password, plugin, { form: 'hash' }).join() ===
    ownPasswordStatements(server, change.password, plugin, { form: 'plain' }).join();
  await withValidationFallback(session, attempt, action, 'current', same);
  if (change.restoring === true && hasDualPasswords(server)) {
    // The password that failed its proof must not stay valid as the secondary one.
    await session.query(discardOldPasswordStatement()).catch(() => undefined);
  }
}

/**
 * Throws, before any change, when the account's password statement cannot be built: a plugin the toolkit
 * cannot set, or a chain holding several passwords none of which is `replacing` (or `password`); or, when
 * `replacing` is given (single user), when the account's only password is the empty one (`passwordEmpty`).
 * @throws DatabaseError naming the account, saying nothing was changed
 */
function assertSettable(server: ServerInfo, account: AccountState, password: string, replacing: string | undefined): void {
  const name = describeAccount(account.user, account.host);
  const passwords = account.chain.filter(methodTakesPassword);
  if (replacing !== undefined && passwords.length > 0 && passwords.every(passwordEmpty)) {
    throw new DatabaseError(
      `${name} has no password (it admits the empty one, for clients that log in without a password): it holds no password of the secret, ` +
        "and setting one would lock those clients out; set the secret's password on it (ALTER USER) if its clients use the secret, or drop it if nobody logs in there. Nothing was changed",
    );
  }
  if (server.flavor === 'mariadb' && account.chain.length > 1 && secretMethods(account.chain, password, replacing) === undefined) {
    throw ambiguousChain(account.chain, name);
  }
  try {
    alterAccountPasswordStatement(server, accountName(account.user, account.host), account.chain, password, { replacing });
  } catch (err) {
    if (!(err instanceof ToolkitError)) throw err;
    throw new DatabaseError(
      `${name} authenticates with ${describeChain(account.chain)}, which this toolkit cannot set: nothing was changed`,
    );
  }
}

/**
 * The master (or a user holding CREATE USER) sets one account's password, its chain kept; with `replacing`
 * (the password being replaced), a second password of a chain is kept too.
 */
async function setAccountPassword(
  session: SqlSession,
  server: ServerInfo,
  account: AccountState,
  password: string,
  role: 'master' | 'current',
  retain: boolean,
  replacing?: string,
): Promise<void> {
  const name = accountName(account.user, account.host);
  await runPasswordStatement(
    session,
    (form) =>
      alterAccountPasswordStatement(server, name, account.chain, password, {
        form,
        retainCurrent: retain,
        ...(replacing !== undefined ? { replacing } : {}),
      }),
    `setting the password of ${describeAccount(account.user, account.host)}`,
    role,
  );
}

function usesPassword(account: AccountState): boolean {
  return account.chain.some(methodTakesPassword) || account.chain.some((m) => pluginKind(m.plugin) === 'unknown');
}

function unreachable(
  username: string,
  ownHost: string | undefined,
  others: readonly string[] | undefined,
  expired: boolean,
  chain: boolean,
): DatabaseError {
  const user = quoteName(username);
  const fix = 'give the secret a masterarn (a master that may ALTER USER)';
  if (expired) {
    return new DatabaseError(
      `The password of user ${user} has expired: the expired session may set only its own password and cannot list the user's other host entries; ${fix}. Nothing was changed`,
    );
  }
  if (others === undefined) {
    return new DatabaseError(
      `User ${user} cannot list its own host entries (SELECT on mysql.user is refused), so the rotation cannot make sure it changes every one of them; ` +
        `grant SELECT (User, Host) ON mysql.user to the user, or ${fix}. Nothing was changed`,
    );
  }
  if (chain) {
    return new DatabaseError(
      `${describeAccount(username, ownHost ?? '%')} authenticates with a chain of methods, which only ALTER USER can change whole (the user's own SET PASSWORD changes one method); ${fix}. Nothing was changed`,
    );
  }
  return new DatabaseError(
    `User ${user} also exists as ${others.map((h) => describeAccount(username, h)).join(', ')}, which its own session cannot change ` +
      `(SET PASSWORD changes only ${describeAccount(username, ownHost ?? '%')}); ${fix}. Nothing was changed`,
  );
}
