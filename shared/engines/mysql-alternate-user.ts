/**
 * Alternating users on MySQL/MariaDB, as the master: on EVERY rotation the alternate user is made the
 * same account as the current one, host entry by host entry (`'app'@'%'` and `'app'@'10.0.%'` give
 * `'app_clone'@'%'` and `'app_clone'@'10.0.%'`), in everything but its name and password:
 * - the same host entries (an entry the current user no longer has is dropped from the alternate);
 * - the same account options (TLS, resource limits, password lifetime, lock, authentication methods:
 *   mysql-account-options.ts);
 * - the same rights as SHOW GRANTS reads them back, missing ones granted AND extra ones revoked
 *   (mysql-grants.ts), so a right the DBA revoked from the current user does not come back when the
 *   alternate user becomes AWSCURRENT. A grant on a table that no longer exists (MySQL keeps grants on
 *   dropped tables and columns) is copied as it is, with CREATE for the time of the grant (the only form
 *   the server accepts), so it applies to both users alike if a migration creates the table again. One
 *   on a dropped column or routine cannot be re-created: it is skipped with a warning that names it,
 *   never stopping the rotation. The other way round, such a grant held by the alternate user alone is
 *   left in place with a warning rather than revoked: it would apply again if the object came back, as
 *   the DBA set it, and it grants nothing meanwhile. Not so a table-level right on a missing table where
 *   the master can copy such grants: it is revoked like any other (else a DBA's revoke after the drop
 *   would come back with the table, and be copied back to the current user), as is CREATE there, which
 *   lets the table be made. Two more such leftovers are treated
 *   alike: PROXY on an account that was dropped (DROP USER leaves it, and only that account could give
 *   it), and a MariaDB default role no longer granted (revoked or dropped: MariaDB keeps it).
 *
 * The source is always the user AWSCURRENT names (as in AWS's template): a DBA changes the rights of
 * that user, and the other follows at the next rotation.
 *
 * The account lock is mirrored per host entry. The current user must log in before this runs, so the
 * entry the rotation uses is unlocked on both; an entry the DBA locked on the original stays locked on
 * the alternate (unlocking it would open a door the DBA closed), and an alternate entry locked while
 * the original's is open is unlocked, with a warning, because the alternate becomes AWSCURRENT and must
 * then work wherever the original did; an alternate locked on EVERY entry is the DBA's lock on the user,
 * refused instead (`assertAlternateNotLocked`).
 *
 * Refused before any change: an existing alternate user not shown to be a copy of the current one
 * (alternate-user-identity.ts: one the sync would take a host entry or a right from, unless the secret's
 * AWSPREVIOUS names it), an alternate user the DBA locked on every host entry (login-disabled, as a
 * NOLOGIN PostgreSQL alternate), a read-only server (read_only and the like: a replica, whose master may
 * still write there and diverge from its source), and no room under the alternate's MAX_USER_CONNECTIONS
 * (its own sessions open) for the login that proves its new password.
 *
 * MySQL account DDL commits implicitly, so nothing here is atomic. Every statement is idempotent or
 * computed from a fresh read, and the order makes a crash at any point converge on retry:
 *   1. read everything and build the password statement (fails, before any change, on what cannot be copied);
 *   2. drop alternate host entries the current user lacks; CREATE USER IF NOT EXISTS for the others,
 *      with a throw-away password;
 *   3. account options, then rights, per host entry (re-read and compared until equal);
 *   4. only then the real password, for every host entry in ONE statement (an entry no method of which
 *      takes a password, e.g. `VIA unix_socket` for a job run as the OS user, gets its methods copied in
 *      step 3 and no password, as the single-user rotation leaves it alone).
 * Until step 4 the pending password does not log in, so the rotation's "pending already works" check
 * cannot end a retry early with a half-synced user; and one statement cannot leave a host entry behind.
 *
 * A statement refused after step 2 (a right the master may not give: mysql-grant-refusal.ts; the
 * original dropped meanwhile) drops an alternate user this run created, so nothing is left half-made;
 * an alternate user that existed keeps its old password (step 4 never ran), so it logs in as before.
 * A lost connection or a timeout is a crash like any other: nothing is undone, the retry converges.
 */
import { createHmac } from 'node:crypto';
import { columnText as text, escapeMysql as escape } from './mysql-connector';
import { AuthenticationError, DatabaseError, ToolkitError } from '../errors';
import type { AlternateUserChange, ServerInfo, SqlSession } from '../rotation/database-engine';
import {
  accountOptionsClause,
  copiedIdentified,
  identifiedFor,
  readAccountOptions,
  takesPasswordAt,
  type AccountOptions,
} from './mysql-account-options';
import {
  grantRowsOf,
  objectName,
  parseGrantRows,
  planGrantSync,
  privilegeColumn,
  privilegeList,
  revokePrivileges,
  rightKey,
  accountParts,
  staleDefaultRoles,
  type AccountGrants,
  type GrantStatement,
  type ObjectName,
} from './mysql-grants';
import { assertSupportedServer } from './mysql-server-info';
import { accountName, requireClause, type PasswordForm } from './mysql-sql';
import { describeAccount, ensureSafeSqlMode, quoteName, run, statementFailure } from './mysql-accounts';
import { assertRoomForProof, assertWritable, runPasswordStatement } from './mysql-passwords';
import { grantRemedy, MASTER_CANNOT_GRANT_CODES, MysqlGrantRefusedError } from './mysql-grant-refusal';
import { failureCode } from './driver-errors';
import { AlternateUserNotACloneError } from './alternate-user-identity';
import { nativeHashesOf, storedNativeHash } from './mysql-auth-chain';

/** A revoke of a grant that is already gone (a retry, or a grant the server printed but no longer holds). */
const NO_SUCH_GRANT_CODES: ReadonlySet<string> = new Set([
  'ER_NONEXISTING_GRANT',
  '1141',
  'ER_NONEXISTING_TABLE_GRANT',
  '1147',
  'ER_NONEXISTING_PROC_GRANT',
  '1403',
]);

/** A grant refused because its object no longer exists, by the names and numbers both flavours use. */
const MISSING_OBJECT: ReadonlyMap<string, string> = new Map([
  ['ER_NO_SUCH_TABLE', 'the table'],
  ['1146', 'the table'],
  ['ER_BAD_FIELD_ERROR', 'a column'],
  ['1054', 'a column'],
  ['ER_SP_DOES_NOT_EXIST', 'the routine'],
  ['1305', 'the routine'],
]);

/** How many times the rights are compared and corrected before a remaining difference is an error. */
const GRANT_PASSES = 2;

/**
 * Alternating users, as the master: see the module comment for what is copied, the order and why.
 * @throws MysqlGrantRefusedError when the master may not give a right the original holds (what the
 *   failed sync left behind is named); AlternateUserNotACloneError, before any change, when the
 *   alternate exists, is not shown to be a copy of the current user, and AWSPREVIOUS does not name it;
 *   DatabaseError when the original has no account or a statement is refused otherwise.
 */
export async function syncMysqlAlternateUser(session: SqlSession, server: ServerInfo, change: AlternateUserChange): Promise<void> {
  assertSupportedServer(server);
  await ensureSafeSqlMode(session, 'master');
  const { currentUsername: current, alternateUsername: alternate } = change;
  // Held until the outcome is known: an alternate user this run made and then dropped again after a
  // refusal leaves nothing to warn about (PostgreSQL likewise tells its warnings after COMMIT only).
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
  };
  const tell = (): void => {
    for (const message of warnings.splice(0)) change.warn?.(message);
  };

  // A replica's master (SUPER, READ_ONLY ADMIN) could write there, diverging from its source: refused first.
  await assertWritable(session, server, 'master');
  const originals = await readOptions(session, server, current);
  if (originals.length === 0) throw new DatabaseError(`No account of user ${quoteName(current)} exists in mysql.user (any host)`);
  // An entry no method of which takes a password (socket-only, say) is copied as it is, and gets none;
  // the password goes to every other entry. With no such entry, identifiedFor says why.
  const withPassword = originals.some(takesPasswordAt) ? originals.filter(takesPasswordAt) : originals;
  const passwordless = originals.filter((o) => !withPassword.includes(o));
  // Built first: an authentication method that cannot be copied stops the rotation before any change.
  // Both forms: a password-validation plugin refuses hashes, and the plaintext form is then retried.
  const passwordStatement = (form: PasswordForm): string =>
    `ALTER USER ${withPassword.map((o) => `${accountName(alternate, o.host)} ${identifiedFor(server, o, change.password, form)}`).join(', ')}`;
  passwordStatement('hash');
  const copied = new Map(passwordless.map((o) => [o.host, copiedIdentified(server, o)]));
  const placeholder = alternatePlaceholder(change.password);
  const create = (o: AccountOptions, form: PasswordForm): string =>
    `CREATE USER IF NOT EXISTS ${accountName(alternate, o.host)} ${copied.get(o.host) ?? identifiedFor(server, o, placeholder, form)} ${requireClause(o)}`;

  const existing = await readOptions(session, server, alternate);
  const firstReads = await assertAlternateIsCopy(session, server, change, originals, existing);
  assertAlternateNotLocked(alternate, existing, withPassword);
  await assertRoomForAlternateProof(session, alternate, withPassword);
  try {
    const hosts = new Set(originals.map((o) => o.host));
    for (const extra of existing.filter((o) => !hosts.has(o.host))) {
      await run(session, `DROP USER IF EXISTS ${accountName(alternate, extra.host)}`, `dropping ${describeAccount(alternate, extra.host)}`);
      warn(`Dropped ${describeAccount(alternate, extra.host)}: user ${quoteName(current)} has no account at that host`);
    }
    for (const o of originals) {
      await runPasswordStatement(session, (form) => create(o, form), `creating ${describeAccount(alternate, o.host)}`, 'master');
    }
    for (const o of originals) {
      const before = existing.find((e) => e.host === o.host);
      if (before?.locked === true && o.locked === false) {
        warn(
          `Unlocked ${describeAccount(alternate, o.host)}: ${describeAccount(current, o.host)} is not locked, and the alternate user must work where it does`,
        );
      }
      // A password-less entry gets its methods here (an existing alternate entry may have had others).
      const identified = copied.has(o.host) ? `${copied.get(o.host)!} ` : '';
      await run(
        session,
        `ALTER USER ${accountName(alternate, o.host)} ${identified}${accountOptionsClause(server, o)}`,
        `setting the options of ${describeAccount(alternate, o.host)}`,
      );
      await syncRights(session, server, current, alternate, o.host, warn, firstReads.get(o.host));
    }
    await runPasswordStatement(
      session,
      passwordStatement,
      `setting the password of user ${quoteName(alternate)} (${withPassword.length} host entries)`,
      'master',
    );
    tell();
  } catch (err) {
    // A lost connection or a timeout is a crash: the session is gone, and the retry converges from
    // whatever was made (the pending password does not log in before the user is complete).
    if (err instanceof ToolkitError && (err.code === 'NETWORK' || err.code === 'TIMEOUT')) {
      tell();
      throw err;
    }
    // What was done to a user that existed stays done (MySQL DDL commits): told as it happened.
    if (existing.length > 0) tell();
    // After a refusal, a user this run created is dropped again, so nothing is left half-made; one that
    // existed keeps its password (set last), so it still logs in as before.
    const outcome =
      existing.length > 0
        ? `the password of user ${quoteName(alternate)} was not changed, so it logs in as before`
        : (await dropCreated(session, alternate, originals))
          ? `nothing was left: user ${quoteName(alternate)}, made in this run, was dropped again`
          : `user ${quoteName(alternate)}, made in this run, could not be dropped again (it has a password nobody knows); the retry continues from it`;
    if (!(err instanceof GrantRefusal)) throw err;
    const remedy = grantRemedy(err.statement.sql, err.grantee, err.master);
    throw new MysqlGrantRefusedError(err.statement.summary, err.master, remedy, err.code, outcome, {
      cause: err.cause,
    });
  }
}

/** One host entry's rights, of the current user and of the alternate, as read before any change. */
interface EntryGrants {
  readonly source: AccountGrants;
  readonly target: AccountGrants;
}

/** How many of the rights the alternate would lose are named in the error; the rest are counted. */
const NAMED_TAKEAWAYS = 8;

/**
 * Before any change: an alternate user that exists must be shown to be a copy of the current user
 * (alternate-user-identity.ts). MySQL keeps no link between the two, so the catalogs show it only when
 * the sync would take nothing away: every host entry of the alternate is one the current user has, and
 * it holds no right the current user lacks (a copy the original has since gained rights over, or one a
 * crash left half-made, passes). Otherwise the secret's AWSPREVIOUS must name it. Returns the rights
 * read for each host entry both have, for the first plan of the sync.
 * @throws AlternateUserNotACloneError naming the host entries and rights the sync would take away
 */
async function assertAlternateIsCopy(
  session: SqlSession,
  server: ServerInfo,
  change: AlternateUserChange,
  originals: readonly AccountOptions[],
  existing: readonly AccountOptions[],
): Promise<Map<string, EntryGrants>> {
  const { currentUsername: current, alternateUsername: alternate } = change;
  const reads = new Map<string, EntryGrants>();
  const hosts = new Set(originals.map((o) => o.host));
  const takenAway = existing.filter((e) => !hosts.has(e.host)).map((e) => `the host entry ${describeAccount(alternate, e.host)}`);
  for (const e of existing.filter((x) => hosts.has(x.host))) {
    const entry = {
      source: await readAccountGrants(session, server, current, e.host),
      target: await readAccountGrants(session, server, alternate, e.host),
    };
    reads.set(e.host, entry);
    for (const statement of planGrantSync(entry.source, entry.target, accountName(alternate, e.host), server)) {
      if (statement.action === 'revoke')
        takenAway.push(`${statement.summary.replace(/^REVOKE /, '')} (${describeAccount(alternate, e.host)})`);
    }
  }
  if (takenAway.length === 0 || madeForThisRotation(existing, change.password) || (await change.previouslyHeld?.()) === true) return reads;
  const named = takenAway.slice(0, NAMED_TAKEAWAYS).join('; ');
  const more = takenAway.length > NAMED_TAKEAWAYS ? ` and ${takenAway.length - NAMED_TAKEAWAYS} more` : '';
  throw new AlternateUserNotACloneError(
    'MySQL',
    quoteName(alternate),
    quoteName(current),
    `it has what ${quoteName(current)} lacks, which the rotation would take away: ${named}${more}`,
    `make its host entries and rights those of ${quoteName(current)} (or DROP USER it, and the rotation creates it anew)`,
  );
}

/**
 * The password an alternate user is created with before its rights are copied (its own password is set
 * last, so the pending password never logs in to a half-made user). Derived from the pending password by
 * HMAC-SHA-256 rather than random, so that a retry after a crash can tell the user this rotation made
 * (`madeForThisRotation`); it reveals nothing of the pending password, and whoever can compute it holds
 * that password already. Every character class, so a password-validation plugin accepts it.
 */
function alternatePlaceholder(pendingPassword: string): string {
  return `Aa1-${createHmac('sha256', pendingPassword).update('alternate user placeholder').digest('base64url').slice(0, 32)}`;
}

/**
 * True when every host entry of the existing alternate stores, as mysql_native_password, the pending
 * password or its placeholder: an earlier attempt of this very rotation made or set it (nobody else knows
 * either), so the rights it holds beyond the current user's are ones the current user has lost since (a
 * DBA's revoke between a crash and the retry), which the sync must take away. Other stored forms cannot be
 * compared here and prove nothing.
 */
function madeForThisRotation(existing: readonly AccountOptions[], pendingPassword: string): boolean {
  const ours = nativeHashesOf([pendingPassword, alternatePlaceholder(pendingPassword)]);
  return existing.length > 0 && existing.every((e) => e.auth.length === 1 && ours.has(storedNativeHash(e.auth[0]!) ?? ''));
}

/**
 * An alternate user locked on every host entry that takes the password, while the current user is open
 * on one of them, was locked by the DBA as a whole (the lock mirrored from the current user never covers
 * the entry it logs in with): as PostgreSQL's NOLOGIN alternate and a locked pre-created pair, the
 * rotation does not unlock what the DBA locked, and refuses before any change. A lock on some entries
 * only is mirrored per entry (see the module comment).
 * @throws AuthenticationError (reason `login-disabled`)
 */
function assertAlternateNotLocked(alternate: string, existing: readonly AccountOptions[], entries: readonly AccountOptions[]): void {
  const hosts = new Set(entries.map((o) => o.host));
  const theirs = existing.filter((e) => hosts.has(e.host));
  if (theirs.length === 0 || theirs.some((e) => e.locked !== true) || !entries.some((o) => o.locked !== true)) return;
  throw new AuthenticationError(
    `The alternate user ${quoteName(alternate)} is locked (ACCOUNT LOCK) on every host entry: the rotation does not unlock a user ` +
      `the DBA locked (ALTER USER ${theirs.map((e) => accountName(alternate, e.host)).join(', ')} ACCOUNT UNLOCK lets it switch); nothing was changed`,
    { reason: 'login-disabled' },
  );
}

/**
 * The rotation proves the new password with a login as the alternate user, under the MAX_USER_CONNECTIONS
 * it is given (the current user's, per host entry; 0 there means the global max_user_connections): with
 * the alternate's own sessions (an application still on AWSPREVIOUS) at that limit, the proof would be
 * refused after the change. Refused before any change instead. The entry the proof matches is not known
 * here, so the largest limit of the entries that take a password is used (never a false refusal).
 * @throws AuthenticationError (reason `connection-limit`)
 */
async function assertRoomForAlternateProof(session: SqlSession, alternate: string, entries: readonly AccountOptions[]): Promise<void> {
  if (entries.length === 0) return;
  const widest = entries.reduce((a, b) =>
    b.maxUserConnections <= 0 || (a.maxUserConnections > 0 && b.maxUserConnections > a.maxUserConnections) ? b : a,
  );
  await assertRoomForProof(session, alternate, widest.host, widest.maxUserConnections);
}

/** Drops every host entry of a user this run created; false when that could not be done (the session is gone). */
async function dropCreated(session: SqlSession, alternate: string, originals: readonly AccountOptions[]): Promise<boolean> {
  try {
    for (const o of originals) await session.query(`DROP USER IF EXISTS ${accountName(alternate, o.host)}`);
    return true;
  } catch {
    return false;
  }
}

/** Inside this module only: a grant the master was refused, turned into MysqlGrantRefusedError once the outcome is known. */
class GrantRefusal extends Error {
  constructor(
    readonly statement: GrantStatement,
    readonly grantee: string,
    readonly master: string,
    readonly code: string,
    override readonly cause: unknown,
  ) {
    super(statement.summary);
  }
}

async function readOptions(session: SqlSession, server: ServerInfo, username: string): Promise<AccountOptions[]> {
  try {
    return await readAccountOptions(session, server, username);
  } catch (err) {
    const what = `reading the account options of user ${quoteName(username)}`;
    // A master scoped to the application's databases cannot read the catalogs at all: say what it needs.
    const needs = MASTER_CANNOT_GRANT_CODES.has(failureCode(err) ?? '')
      ? ` (the master needs SELECT on the mysql schema: GRANT SELECT ON mysql.* TO ${await masterAccount(session)}; nothing was changed)`
      : '';
    throw statementFailure(err, `${what}${needs}`, 'master');
  }
}

/** Reads one account's rights: SHOW GRANTS, plus MySQL 8's default roles, which it does not print. */
export async function readAccountGrants(session: SqlSession, server: ServerInfo, username: string, host: string): Promise<AccountGrants> {
  const account = describeAccount(username, host);
  const rows = grantRowsOf(await run(session, `SHOW GRANTS FOR ${accountName(username, host)}`, `reading the grants of ${account}`));
  let defaults: string[] = [];
  if (server.flavor === 'mysql' && server.major >= 8) {
    const roles = await run(
      session,
      `SELECT DEFAULT_ROLE_USER AS user, DEFAULT_ROLE_HOST AS host FROM mysql.default_roles WHERE USER = ${escape(username)} AND HOST = ${escape(host)}`,
      `reading the default roles of ${account}`,
    );
    defaults = roles.map((r) => accountName(text(r.user), text(r.host)));
  }
  return parseGrantRows(rows, defaults);
}

/**
 * Makes the alternate entry's rights equal the current entry's: plan, apply, read back, and once more
 * for what the first pass could not express (e.g. a revoked ALL PRIVILEGES); whatever is still
 * different afterwards, apart from grants skipped for missing objects, is an error naming it.
 */
async function syncRights(
  session: SqlSession,
  server: ServerInfo,
  from: string,
  to: string,
  host: string,
  warn: (message: string) => void,
  first?: EntryGrants,
): Promise<void> {
  const source = first?.source ?? (await readAccountGrants(session, server, from, host));
  // The alternate's rights as read before any change (unchanged since: options and other host entries
  // do not touch them), used for the first plan only; every later plan reads them back.
  let known = first?.target;
  const targetGrants = async (): Promise<AccountGrants> => {
    const grants = known ?? (await readAccountGrants(session, server, to, host));
    known = undefined;
    return grants;
  };
  const grantee = accountName(to, host);
  for (const role of staleDefaultRoles(source, server)) {
    warnSkipped(
      warn,
      `SET DEFAULT ROLE ${role}: the role is no longer granted to it (revoked or dropped), so it activates nothing`,
      from,
      to,
      host,
    );
  }
  const skipped = new Set<string>();
  const kept = new Set<string>();
  const catalog = new ObjectCatalog(session);
  const pending = async (): Promise<GrantStatement[]> =>
    planGrantSync(source, await targetGrants(), grantee, server).filter(
      (s) =>
        !(s.adds.length > 0 && s.adds.every((k) => skipped.has(k))) &&
        !(s.proxied !== undefined && skipped.has(proxyKey(s))) &&
        !(s.revokes !== undefined && s.revokes.privileges.every((p) => kept.has(rightKey(s.revokes!.object, p)))),
    );
  const onKeep = (what: string): void =>
    warn(`Left on ${describeAccount(to, host)}, though ${describeAccount(from, host)} lacks it, as it grants nothing: ${what}`);
  let plan = await pending();
  for (let pass = 0; pass < GRANT_PASSES && plan.length > 0; pass += 1) {
    for (const planned of plan) {
      const statement = await withoutStaleRevokes(planned, catalog, grantee, kept, onKeep);
      if (statement !== undefined)
        await apply(session, statement, grantee, skipped, (what) => warnSkipped(warn, what, from, to, host), onKeep);
    }
    plan = await pending();
  }
  if (plan.length > 0) {
    throw new DatabaseError(
      `The rights of ${describeAccount(to, host)} still differ from those of ${describeAccount(from, host)} after ${GRANT_PASSES} passes: ${plan
        .map((s) => s.summary)
        .join('; ')}`,
    );
  }
}

async function apply(
  session: SqlSession,
  statement: GrantStatement,
  grantee: string,
  skipped: Set<string>,
  onSkip: (what: string) => void,
  onKeep: (what: string) => void,
): Promise<void> {
  try {
    await runGrantStatement(session, statement);
    return;
  } catch (err) {
    const code = failureCode(err) ?? '';
    if (statement.action === 'revoke' && NO_SUCH_GRANT_CODES.has(code)) return;
    if (MASTER_CANNOT_GRANT_CODES.has(code)) {
      // Only the proxied account itself could give or take back PROXY on an account that is gone.
      if (statement.proxied !== undefined && !(await accountExists(session, statement.proxied))) {
        skipped.add(proxyKey(statement));
        const what = `${statement.summary.replace(/^REVOKE /, '')}: the proxied account no longer exists (${code})`;
        return statement.action === 'revoke' ? onKeep(what) : onSkip(what);
      }
      throw new GrantRefusal(statement, grantee, await masterAccount(session), code, err);
    }
    const missing = statement.action === 'grant' ? MISSING_OBJECT.get(code) : undefined;
    if (missing === undefined) throw statementFailure(err, `${statement.summary} (to the alternate user)`, 'master');
    // A dropped table's grant is copied as it is (with CREATE for the time of the grant), so it applies
    // to both users alike if the table comes back; its column privileges cannot be, and are skipped.
    const absent = missing === 'the table' ? statement.absentTable : undefined;
    if (absent !== undefined && (await grantOnAbsentTable(session, absent))) {
      const columns = statement.adds.filter((key) => !absent.adds.includes(key));
      for (const key of columns) skipped.add(key);
      if (columns.length > 0) onSkip(`the column privileges of ${statement.summary}: the table no longer exists (${code})`);
      return;
    }
    // A dropped column refuses the whole list: the privileges on the columns that remain still count.
    if (missing === 'a column' && statement.parts.length > 0) {
      for (const part of statement.parts) await apply(session, part, grantee, skipped, onSkip, onKeep);
      return;
    }
    for (const key of statement.adds) skipped.add(key);
    onSkip(`${statement.summary}: ${missing} no longer exists (${code})`);
  }
}

/**
 * Copies a grant on a table that no longer exists (`GrantStatement.absentTable`): the grant with CREATE,
 * then CREATE taken back where it was added. False, with nothing changed, when the server or the master
 * refuses the grant (a master without CREATE WITH GRANT OPTION there): the grant is then skipped as one
 * that grants nothing. A crash between the two leaves CREATE on the alternate, which the next sync
 * revokes (CREATE on a missing table lets it be created, so it is never left as granting nothing).
 * @throws DatabaseError when CREATE cannot be taken back
 */
async function grantOnAbsentTable(session: SqlSession, absent: NonNullable<GrantStatement['absentTable']>): Promise<boolean> {
  try {
    await session.query(absent.sql);
  } catch (err) {
    const code = failureCode(err) ?? '';
    if (MASTER_CANNOT_GRANT_CODES.has(code) || MISSING_OBJECT.has(code)) return false;
    throw statementFailure(err, 'copying a grant on a table that no longer exists (to the alternate user)', 'master');
  }
  if (absent.revokeCreate !== undefined) {
    await run(session, absent.revokeCreate, 'taking back CREATE, added to copy a grant on a table that no longer exists');
  }
  return true;
}

/**
 * Runs a grant or revoke; one on a MariaDB package under sql_mode=ORACLE, the only mode that parses it,
 * and the session's own sql_mode put back before anything else runs (the master's ANSI_QUOTES, say, or
 * the escapes the other statements rely on). The mode is kept in a user variable, so no value is quoted here.
 */
async function runGrantStatement(session: SqlSession, statement: GrantStatement): Promise<void> {
  if (statement.oracleSyntax !== true) {
    await session.query(statement.sql);
    return;
  }
  await run(
    session,
    "SET @toolkit_sql_mode = @@SESSION.sql_mode, SESSION sql_mode = 'ORACLE'",
    'switching to sql_mode=ORACLE for a package grant',
  );
  try {
    await session.query(statement.sql);
  } finally {
    await run(session, 'SET SESSION sql_mode = @toolkit_sql_mode', 'putting back the sql_mode after a package grant');
  }
}

/** The key under which a skipped PROXY grant or kept PROXY right is remembered for the later passes. */
function proxyKey(statement: GrantStatement): string {
  return rightKey(statement.proxied ?? '', statement.action === 'revoke' ? 'REVOKE PROXY' : 'PROXY');
}

/** Whether a printed account (`` `u`@`h` ``) exists in mysql.user; true when it cannot be told, so the refusal stands. */
async function accountExists(session: SqlSession, printed: string): Promise<boolean> {
  const parts = accountParts(printed);
  if (parts === undefined) return true;
  const rows = await run(
    session,
    `SELECT 1 FROM mysql.user WHERE User = ${escape(parts.user)} AND Host = ${escape(parts.host)}`,
    `looking up the proxied ${describeAccount(parts.user, parts.host)}`,
  );
  return rows.length > 0;
}

/** The master's account as the server matched it (`'admin'@'%'`), for the remedy of a refused grant. */
async function masterAccount(session: SqlSession): Promise<string> {
  try {
    const rows = await session.query('SELECT CURRENT_USER() AS me');
    const me = text(rows[0]?.me);
    const at = me.lastIndexOf('@');
    return at <= 0 ? 'the master user' : accountName(me.slice(0, at), me.slice(at + 1));
  } catch {
    return 'the master user';
  }
}

/**
 * A revoke of rights on a table, column or routine that no longer exists grants nothing today, but
 * would apply again if the object were created again under its name: such rights are left on the
 * alternate user (with a warning), as the DBA set them, rather than revoked. The rest is revoked.
 */
async function withoutStaleRevokes(
  statement: GrantStatement,
  catalog: ObjectCatalog,
  grantee: string,
  kept: Set<string>,
  onKeep: (what: string) => void,
): Promise<GrantStatement | undefined> {
  const r = statement.revokes;
  if (r === undefined || (r.kind !== 'table' && r.kind !== 'routine')) return statement;
  const name = objectName(r.object);
  if (name === undefined) return statement;
  const exists = await catalog.exists(name);
  if (!exists && r.kind === 'routine') {
    for (const p of r.privileges) kept.add(rightKey(r.object, p));
    onKeep(`${statement.summary.replace(/^REVOKE /, '')}: the routine no longer exists`);
    return undefined;
  }
  const live: string[] = [];
  const stale: string[] = [];
  for (const p of r.privileges) {
    const column = privilegeColumn(p);
    // CREATE (and ALL, which holds it) on a missing table is a live right: it lets the table be made.
    // Another table privilege there is revoked where the master can copy such grants (the other way
    // round it would be copied too, so the users stay equal and a DBA's revoke sticks if the table
    // comes back); where it cannot, revoking would lose for good a grant it could not give back.
    const isLive = exists
      ? column === undefined || (await catalog.exists(name, column))
      : p === 'CREATE' || p === 'ALL PRIVILEGES' || (column === undefined && (await catalog.masterCopiesAbsentTables(name.schema)));
    (isLive ? live : stale).push(p);
  }
  for (const p of stale) kept.add(rightKey(r.object, p));
  if (!exists && stale.length > 0) onKeep(`${privilegeList(stale)} ON ${r.object}: the table no longer exists`);
  if (exists) for (const p of stale) onKeep(`${p} ON ${r.object}: the column no longer exists`);
  if (live.length === r.privileges.length) return statement;
  return live.length === 0 ? undefined : revokePrivileges(live, r.object, grantee);
}

/** Whether tables, columns and routines exist, read from information_schema once each. */
class ObjectCatalog {
  private readonly known = new Map<string, boolean>();

  constructor(private readonly session: SqlSession) {}

  async exists(name: ObjectName, column?: string): Promise<boolean> {
    const key = JSON.stringify([name.routineType ?? '', name.schema, name.name, column ?? '']);
    const cached = this.known.get(key);
    if (cached !== undefined) return cached;
    const where = `${escape(name.schema)} AND `;
    const sql =
      name.routineType !== undefined
        ? `SELECT 1 FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = ${where}ROUTINE_NAME = ${escape(name.name)} AND ROUTINE_TYPE = ${escape(name.routineType)}`
        : column === undefined
          ? `SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${where}TABLE_NAME = ${escape(name.name)}`
          : `SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${where}TABLE_NAME = ${escape(name.name)} AND COLUMN_NAME = ${escape(column)}`;
    const found =
      (await run(this.session, sql, `looking up ${column === undefined ? name.name : column} in information_schema`)).length > 0;
    this.known.set(key, found);
    return found;
  }

  /**
   * Whether the master holds CREATE WITH GRANT OPTION on `schema` (globally or on that database), so a
   * grant on a missing table there can be copied (`GrantStatement.absentTable`). Read from
   * information_schema once per schema; a right reached through a role or a wildcard database name is
   * not seen (false: the caller then keeps what it cannot copy back).
   */
  async masterCopiesAbsentTables(schema: string): Promise<boolean> {
    const key = JSON.stringify(['copies', schema]);
    const cached = this.known.get(key);
    if (cached !== undefined) return cached;
    const grantee =
      "CONCAT('''', LEFT(CURRENT_USER(), LENGTH(CURRENT_USER()) - LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1), " +
      "'''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";
    const sql =
      `SELECT 1 FROM information_schema.USER_PRIVILEGES WHERE GRANTEE = ${grantee} AND PRIVILEGE_TYPE = 'CREATE' AND IS_GRANTABLE = 'YES' ` +
      `UNION ALL SELECT 1 FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = ${grantee} AND TABLE_SCHEMA = ${escape(schema)} ` +
      "AND PRIVILEGE_TYPE = 'CREATE' AND IS_GRANTABLE = 'YES'";
    const found = (await run(this.session, sql, 'reading whether the master may grant CREATE (information_schema)')).length > 0;
    this.known.set(key, found);
    return found;
  }
}

function warnSkipped(warn: (message: string) => void, what: string, from: string, to: string, host: string): void {
  warn(`Not copied from ${describeAccount(from, host)} to ${describeAccount(to, host)}, as it grants nothing: ${what}`);
}
