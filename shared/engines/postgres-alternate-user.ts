/**
 * Alternating users on PostgreSQL, as the master: the alternate role is made the same account as the
 * original on every rotation, whichever of the two is being changed.
 *
 * The original is the role the other is a member of (else the current user, or, when both exist
 * unrelated, the one without the `_clone` suffix). The clone then:
 * - is a member of the original (16+: WITH INHERIT TRUE, SET TRUE): its rights follow the original's
 *   with nothing to copy or go stale;
 * - holds the original's session defaults, role-wide and per database, with `role` set so it starts
 *   every session as the role the original starts as (postgres-role-settings.ts);
 * - carries INHERIT (before 16: always INHERIT), CONNECTION LIMIT, VALID UNTIL and REPLICATION, the
 *   attributes checked against the login role itself (postgres-role-attributes.ts);
 * - owns nothing: objects it owns are reassigned to that session role (postgres-clone-objects.ts), and
 *   default privileges it defined move there too (postgres-clone-default-privileges.ts);
 * - holds nothing of its own: rights and memberships granted to it alone are revoked, with a warning
 *   (postgres-clone-rights.ts);
 * - gets its password in the original's hashing (md5 stays md5 where the server accepts it).
 *
 * Reads and checks come first (a master on a hot standby, the master's ADMIN OPTION on 16+, an expired
 * original or one with CONNECTION LIMIT 0, a NOLOGIN alternate, no room under the CONNECTION LIMIT for the
 * proving login, a pg_hba.conf that admits the current user and not the alternate (postgres-alternate-hba.ts), a clone whose original was dropped, objects in another database, REPLICATION the master
 * may not change), then every change in one transaction: a crash leaves either nothing or everything, and
 * the next attempt converges from whatever it finds. Warnings about what changed are told after COMMIT.
 *
 * Round trips: the reads that do not depend on an earlier answer are sent with BEGIN, together (the
 * connector's pipeline mode), for both roles where which one is the original is not yet known; the
 * checks then read their answers. When the alternate already exists, its password change is sent
 * together with COMMIT. A pipelined statement after a failed one fails too (the transaction is
 * aborted) and COMMIT then rolls back, so what a crash or a refusal leaves is unchanged.
 */
import { assertScramStablePassword } from './postgres-passwords';
import { AuthenticationError, DatabaseError } from '../errors';
import { failureCode } from './driver-errors';
import { CLONE_SUFFIX } from '../rotation/alternate-username';
import type { AlternateUserChange, Row, ServerInfo, SqlSession } from '../rotation/database-engine';
import { MASTER_ADMINISTERS_SQL, RoleAdministrationError, assertMasterAdministers } from './postgres-admin-option';
import { assertHbaAdmitsAlternate } from './postgres-alternate-hba';
import { escapePostgresIdentifier } from './postgres-escape';
import { OWN_MEMBERSHIPS_SQL, ownPrivilegesSql, revokeCloneOwnRights } from './postgres-clone-rights';
import { AlternateUserNotACloneError } from './alternate-user-identity';
import {
  CLONE_DEFAULT_PRIVILEGES_ELSEWHERE_SQL,
  CLONE_DEFAULT_PRIVILEGES_SQL,
  movableDefaultPrivileges,
  reportClonesDefaultPrivilegesLeft,
} from './postgres-clone-default-privileges';
import { cloneOverrides, cloneOverridesWarning } from './postgres-clone-overrides';
import { OWNED_OBJECTS_SQL, assertNoObjectsElsewhere, ownedObjects, reassignCloneObjects } from './postgres-clone-objects';
import {
  OriginalRoleClosedError,
  OriginalRoleExpiredError,
  OriginalRoleMissingError,
  PASSWORD_METHOD_SQL,
  ROLE_ATTRIBUTES_SQL,
  alternateInherits,
  assertMasterMayCarryReplication,
  hashedPassword,
  passwordHashingFor,
  roleAttributesOf,
  sameLoginAttributes,
} from './postgres-role-attributes';
import { ROLE_SETTING, loginAttributesSql, resetRoleSettingSql, settingNameSql } from './postgres-role-sql';
import {
  ROLE_SETTINGS_SQL,
  desiredAlternateSettings,
  effectiveStartRole,
  readSettingsCatalog,
  settingChanges,
  type SettingChange,
} from './postgres-role-settings';
import { MEMBERSHIP_SQL, ROLE_EXISTS_SQL, createRoleSql, grantMembershipSql, setPasswordAsMasterSql } from './postgres-sql';
import { INSUFFICIENT_PRIVILEGE, INVALID_CATALOG_NAME } from './postgres-error-codes';

/** Whether `member` holds a direct membership in `role` with INHERIT and SET (16+ options; before 16, any row). */
function directMembershipSql(server: ServerInfo): string {
  const options = server.major >= 16 ? ' AND a.inherit_option AND a.set_option' : '';
  return (
    'SELECT EXISTS (SELECT 1 FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.roleid JOIN pg_roles m ON m.oid = a.member ' +
    `WHERE r.rolname = $1 AND m.rolname = $2${options}) AS ok`
  );
}

/**
 * Where the master works: its database and role, whether the server is a hot standby, and the database's
 * CONNECTION LIMIT with the sessions open there (the proving login of the alternate needs one more).
 */
const CURRENT_DATABASE_SQL =
  'SELECT current_database() AS db, current_user AS master, pg_catalog.pg_is_in_recovery() AS in_recovery, ' +
  '(SELECT datconnlimit FROM pg_catalog.pg_database WHERE datname = current_database()) AS db_limit, ' +
  '(SELECT count(*)::int FROM pg_catalog.pg_stat_activity WHERE datname = current_database()) AS db_sessions';

const RECOVERY_SQL = 'SELECT pg_catalog.pg_is_in_recovery() AS in_recovery';

/** Sessions open as a role (pg_stat_activity shows every backend's role to any role). */
const ROLE_SESSIONS_SQL = 'SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity WHERE usename = $1';

/**
 * A hot standby changes no role (25006), and the master's changes must be made on the primary that the
 * standbys follow: refused before any change, naming the writer, as the single-user rotation does.
 */
function assertMasterOnPrimary(here: Row): void {
  if (here.in_recovery !== true) return;
  throw new DatabaseError(
    "PostgreSQL as the master: the master secret's host is a hot standby (a read replica or a reader endpoint), where no role " +
      "can be changed; point the master secret's host at the primary (the writer endpoint), which the replicas follow; nothing was changed",
  );
}

/**
 * The rotation proves the alternate's new password with a fresh login while the master's session is open:
 * at the CONNECTION LIMIT the clone is given (the original's) with its own sessions open, or at the
 * database's, that login would be refused after the change. Refused before any change instead.
 * @throws AuthenticationError (reason `connection-limit`)
 */
function assertRoomForProof(alternate: string, limit: number | undefined, sessions: number, here: Row): void {
  const int = (v: unknown): number => (v === null || v === undefined ? -1 : Number(v));
  const what =
    limit !== undefined && limit >= 0 && sessions + 1 > limit
      ? `role "${alternate}" would have CONNECTION LIMIT ${limit} (that of the original) with ${sessions} sessions open`
      : int(here.db_limit) >= 0 && int(here.db_sessions) + 1 > int(here.db_limit)
        ? `database "${String(here.db)}" has CONNECTION LIMIT ${int(here.db_limit)} with ${int(here.db_sessions)} sessions open`
        : undefined;
  if (what === undefined) return;
  throw new AuthenticationError(
    `PostgreSQL: the login that must prove the alternate user's new password would exceed a connection limit (${what}); nothing was changed`,
    { reason: 'connection-limit' },
  );
}

/** A statement and its parameters. */
type Statement = readonly [sql: string, params?: readonly unknown[]];

function statementKey([sql, params]: Statement): string {
  return JSON.stringify([sql, params ?? []]);
}

/**
 * `session`, answering the prefetched statements from their rows (each at most once) and sending the
 * rest: the checks below keep their own code and read the answers that came in one round trip.
 */
function answering(session: SqlSession, answers: Map<string, readonly Row[]>): SqlSession {
  return {
    query: async (sql, params) => {
      const key = statementKey([sql, params]);
      const rows = answers.get(key);
      if (rows === undefined) return session.query(sql, params);
      answers.delete(key);
      return rows;
    },
    close: () => session.close(),
  };
}

/**
 * The sync's BEGIN, bounded on the server: a Lambda killed at its timeout is frozen, not gone, so its
 * session stays open with the transaction and the clone's row locks it holds (a CREATE ROLE or ALTER
 * ROLE not yet committed), and every retry's CREATE/ALTER ROLE would wait on them until the lost
 * socket is noticed (hours with Linux's keepalive defaults), each retry frozen in turn at its own
 * timeout. `idle_in_transaction_session_timeout` (ms) lets the server end such an orphan; `lock_timeout`
 * (ms) makes a retry that meets one fail as a DATABASE error (55P03) the next retry gets past, instead
 * of hanging. Both are LOCAL: they end with the transaction. A live rotation is never idle that long.
 */
export const SYNC_BEGIN_SQL = 'BEGIN READ WRITE; SET LOCAL lock_timeout = 10000; SET LOCAL idle_in_transaction_session_timeout = 30000';

/**
 * BEGIN READ WRITE, bounded (`SYNC_BEGIN_SQL`), and the `reads` together (one round trip in pipeline
 * mode), then `work` on a session that answers those reads; `work` may return a last statement, sent
 * together with COMMIT. READ WRITE overrides a `default_transaction_read_only` of the database or the
 * master's role (a reporting database), as the single-user change does (`passwordTransactionSql`); a hot
 * standby refuses it, and is then named.
 */
async function inTransaction(
  session: SqlSession,
  reads: readonly Statement[],
  work: (session: SqlSession) => Promise<Statement | undefined>,
): Promise<void> {
  try {
    let begun: readonly (readonly Row[])[];
    try {
      begun = await Promise.all([session.query(SYNC_BEGIN_SQL), ...reads.map(([sql, params]) => session.query(sql, params))]);
    } catch (err) {
      await session.query('ROLLBACK').catch(() => undefined);
      const standby = await session.query(RECOVERY_SQL).then(
        (r) => r[0] ?? {},
        () => ({}),
      );
      assertMasterOnPrimary(standby);
      throw err;
    }
    const [, ...rows] = begun;
    const answers = new Map(reads.map((read, i) => [statementKey(read), rows[i]!] as const));
    const last = await work(answering(session, answers));
    await Promise.all([...(last === undefined ? [] : [session.query(last[0], last[1])]), session.query('COMMIT')]);
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** The reads that do not depend on which role is the original: asked for both orders where it matters. */
function independentReads(server: ServerInfo, current: string, alternate: string): Statement[] {
  const both = [
    [current, alternate],
    [alternate, current],
  ] as const;
  return [
    [ROLE_EXISTS_SQL, [alternate]],
    [MEMBERSHIP_SQL, [current, alternate]],
    [MASTER_ADMINISTERS_SQL, [current]],
    [MASTER_ADMINISTERS_SQL, [alternate]],
    ...both.map((pair): Statement => [ROLE_ATTRIBUTES_SQL, pair]),
    [PASSWORD_METHOD_SQL],
    ...both.map((pair): Statement => [ROLE_SETTINGS_SQL, pair]),
    [CURRENT_DATABASE_SQL],
    [OWNED_OBJECTS_SQL, [current]],
    [OWNED_OBJECTS_SQL, [alternate]],
    [CLONE_DEFAULT_PRIVILEGES_SQL, [current]],
    [CLONE_DEFAULT_PRIVILEGES_SQL, [alternate]],
    [CLONE_DEFAULT_PRIVILEGES_ELSEWHERE_SQL, [current]],
    [CLONE_DEFAULT_PRIVILEGES_ELSEWHERE_SQL, [alternate]],
    ...both.map((pair): Statement => [directMembershipSql(server), pair]),
  ];
}

/** Which of the two roles is the original, from the catalogs (memberships) and then the names. */
async function originalOf(
  session: SqlSession,
  current: string,
  alternate: string,
): Promise<{ original: string; clone: string; alternateExists: boolean; linked: boolean }> {
  const alternateExists = (await session.query(ROLE_EXISTS_SQL, [alternate])).length > 0;
  if (!alternateExists) return { original: current, clone: alternate, alternateExists, linked: false };
  const membership = (await session.query(MEMBERSHIP_SQL, [current, alternate]))[0] ?? {};
  const linked = membership.member_of_role === true || membership.role_of_member === true;
  const alternateIsOriginal =
    membership.member_of_role === true
      ? false
      : membership.role_of_member === true
        ? true
        : current.endsWith(CLONE_SUFFIX) && !alternate.endsWith(CLONE_SUFFIX);
  return alternateIsOriginal
    ? { original: alternate, clone: current, alternateExists, linked }
    : { original: current, clone: alternate, alternateExists, linked };
}

/**
 * Before any change: an alternate role that exists with no membership either way between it and the
 * current role, and that the secret did not hand out before, is not shown to be a copy of the current
 * role (alternate-user-identity.ts): another application's role of that name, or the copy of another
 * role. Refused, naming what it holds that the sync would take away.
 * @throws AlternateUserNotACloneError
 */
async function assertAlternateIsClone(
  session: SqlSession,
  server: ServerInfo,
  change: AlternateUserChange,
  roles: { readonly original: string; readonly alternateExists: boolean; readonly linked: boolean },
): Promise<void> {
  if (!roles.alternateExists || roles.linked) return;
  if ((await change.previouslyHeld?.()) === true) return;
  const { currentUsername: current, alternateUsername: alternate } = change;
  const [memberships, privileges, owned] = await Promise.all([
    session.query(OWN_MEMBERSHIPS_SQL, [alternate, current]),
    session.query(ownPrivilegesSql(server), [alternate]),
    ownedObjects(session, alternate),
  ]);
  const ownedCount = owned.here + [...owned.elsewhere.values()].reduce((a, b) => a + b, 0);
  const holds = [
    ...memberships.map((row) => `membership in ${escapePostgresIdentifier(String(row.rolname))}`),
    ...(privileges.length > 0 ? [`${privileges.length} grant(s) on objects`] : []),
    ...(ownedCount > 0 ? [`${ownedCount} object(s) it owns`] : []),
  ];
  const evidence =
    `neither role is a member of the other (the toolkit and AWS's multi-user function both make the alternate a member of the original)` +
    (holds.length > 0 ? `, and "${alternate}" holds ${holds.join(', ')}` : '');
  const [member, of] = roles.original === current ? [alternate, current] : [current, alternate];
  throw new AlternateUserNotACloneError(
    'PostgreSQL',
    `"${alternate}"`,
    `"${current}"`,
    evidence,
    `run GRANT ${escapePostgresIdentifier(of)} TO ${escapePostgresIdentifier(member)} (the rotation then revokes what "${member}" holds alone and gives its objects to the role "${of}" starts as)`,
  );
}

/**
 * One change to the clone's settings. A per-database one runs under a savepoint: a database dropped
 * since the settings were read (3D000) takes its settings with it, so there is nothing left to carry
 * there, and the rest of the sync goes on instead of failing the rotation. Any other refusal is
 * `refused(err)`.
 */
async function applySetting(session: SqlSession, setting: SettingChange, refused: (err: unknown) => Error): Promise<void> {
  if (setting.database === undefined) {
    await session.query(setting.sql).catch((err: unknown) => {
      throw refused(err);
    });
    return;
  }
  await session.query('SAVEPOINT per_database_setting');
  try {
    await session.query(setting.sql);
  } catch (err) {
    if (failureCode(err) !== INVALID_CATALOG_NAME) throw refused(err);
    await session.query('ROLLBACK TO SAVEPOINT per_database_setting');
  }
  await session.query('RELEASE SAVEPOINT per_database_setting');
}

/**
 * The error for a setting the master could not give the clone. 42501 is a setting only a superuser
 * may set (PGC_SUSET: log_statement, log_min_duration_statement, session_replication_role…): from
 * PostgreSQL 15 a superuser can let the master set it with GRANT SET ON PARAMETER.
 */
function settingRefused(err: unknown, server: ServerInfo, master: string, clone: string, original: string, setting: SettingChange): Error {
  const where = setting.database === undefined ? '' : ` in database "${setting.database}"`;
  const code = failureCode(err);
  if (code === INSUFFICIENT_PRIVILEGE) {
    const remedy =
      server.major >= 15
        ? `a superuser runs GRANT SET ON PARAMETER ${settingNameSql(setting.name)} TO ${escapePostgresIdentifier(master)}`
        : `a superuser runs ${superuserSettingSql(clone, original, setting)}`;
    return new RoleAdministrationError(
      clone,
      master,
      remedy,
      `"${original}" has the setting ${setting.name}${where}, which only a superuser${server.major >= 15 ? ' or a role granted SET on it' : ''} may set (error 42501)`,
      { cause: err },
    );
  }
  return new DatabaseError(
    `PostgreSQL: the master could not give role "${clone}" the setting ${setting.name}${where} that "${original}" has` +
      `${code !== undefined ? ` (error ${code})` : ''}; nothing was changed`,
    { cause: err },
  );
}

/**
 * The statement a superuser runs to give the clone `setting` (before 15, which has no GRANT SET ON
 * PARAMETER): a RESET as it is; a SET without its value, which an error never shows (a role setting can
 * hold a secret, as PostgREST's pgrst.jwt_secret does).
 */
function superuserSettingSql(clone: string, original: string, setting: SettingChange): string {
  if (setting.sql === resetRoleSettingSql(clone, setting.database, setting.name)) return setting.sql;
  const scope = setting.database === undefined ? '' : ` IN DATABASE ${escapePostgresIdentifier(setting.database)}`;
  return `ALTER ROLE ${escapePostgresIdentifier(clone)}${scope} SET ${settingNameSql(setting.name)} = (the value "${original}" has)`;
}

/**
 * Creates or updates the alternate role and makes the clone equal to the original (see the module
 * comment); safe to re-run after a crash at any point.
 * @throws DatabaseError when the master's session is on a hot standby
 * @throws AuthenticationError `connection-limit` when the proving login would exceed the CONNECTION LIMIT
 *   of the alternate (the original's) or of the database
 * @throws AuthenticationError `host-not-allowed` when pg_hba.conf would refuse the alternate's proving login
 * @throws RoleAdministrationError (16+) when the master lacks ADMIN OPTION on a role it must change
 * @throws OriginalRoleExpiredError when the original's VALID UNTIL has passed
 * @throws AuthenticationError `login-disabled` when the alternate exists and is NOLOGIN
 * @throws OriginalRoleClosedError when the original has CONNECTION LIMIT 0
 * @throws OriginalRoleMissingError when the secret names a clone whose original was dropped
 * @throws AlternateUserNotACloneError when the alternate exists, neither role is a member of the other,
 *   and the secret's AWSPREVIOUS does not name it (another role of that name)
 * @throws RoleAdministrationError also when the master may not give the clone REPLICATION or a
 *   superuser-only setting the original has
 * @throws CloneOwnsObjectsError when the clone's objects cannot be given to the original's session role
 * @throws DatabaseError when a statement is refused (the transaction is rolled back)
 * @throws SecretValidationError before anything when the password changes under SASLprep
 */
export async function syncPostgresAlternateUser(connection: SqlSession, server: ServerInfo, change: AlternateUserChange): Promise<void> {
  const { currentUsername, alternateUsername, password } = change;
  assertScramStablePassword(password);
  // Warnings name changes (a lifted limit, revoked rights) that only hold once COMMIT does: they are
  // held until then, so a refusal later in the transaction leaves no warning about what rolled back.
  const warnings: string[] = [];
  const warn = (message: string): void => {
    warnings.push(message);
  };
  await inTransaction(connection, independentReads(server, currentUsername, alternateUsername), async (session) => {
    const here = (await session.query(CURRENT_DATABASE_SQL))[0] ?? {};
    assertMasterOnPrimary(here);
    const roles = await originalOf(session, currentUsername, alternateUsername);
    const { original, clone, alternateExists } = roles;
    await assertAlternateIsClone(session, server, change, roles);
    const cloneExists = clone !== alternateUsername || alternateExists;
    await assertMasterAdministers(session, server, original);
    if (cloneExists) await assertMasterAdministers(session, server, clone);

    const attributes = new Map(
      (await session.query(ROLE_ATTRIBUTES_SQL, [original, clone])).map((row) => [String(row.rolname), roleAttributesOf(row)]),
    );
    const originalAttributes = attributes.get(original);
    if (originalAttributes?.expired === true) throw new OriginalRoleExpiredError(original, originalAttributes.validUntil ?? '');
    if (originalAttributes?.connectionLimit === 0) throw new OriginalRoleClosedError(original);
    if (alternateExists && attributes.get(alternateUsername)?.canLogin === false) {
      // As the pre-created pair's: the DBA disabled the role whose password this sets; LOGIN is never granted back.
      throw new AuthenticationError(
        `The alternate user ${alternateUsername} may not log in (NOLOGIN): the rotation does not re-enable a login the DBA disabled ` +
          `(ALTER ROLE ${escapePostgresIdentifier(alternateUsername)} LOGIN lets it switch); nothing was changed`,
        { reason: 'login-disabled' },
      );
    }
    const alternateSessions = alternateExists ? Number((await session.query(ROLE_SESSIONS_SQL, [alternateUsername]))[0]?.n ?? 0) : 0;
    // Whichever of the two the alternate is, it logs in under the original's CONNECTION LIMIT (the clone carries it).
    assertRoomForProof(alternateUsername, originalAttributes?.connectionLimit, alternateSessions, here);
    await assertHbaAdmitsAlternate(session, {
      current: currentUsername,
      original,
      alternate: alternateUsername,
      database: String(here.db),
    });
    const hash = await hashedPassword(password, alternateUsername, await passwordHashingFor(session, original));
    const catalog = await readSettingsCatalog(session, server, original, clone);
    // The secret names a clone whose original was dropped: the clone's own `role` default still names it.
    if (!alternateExists && [...catalog.original.values()].some((settings) => settings.get(ROLE_SETTING) === alternateUsername)) {
      throw new OriginalRoleMissingError(alternateUsername, currentUsername);
    }
    const database = String(here.db);
    const master = String(here.master);
    const owner = effectiveStartRole(catalog, original, database);
    const owned = cloneExists ? await ownedObjects(session, clone) : { here: 0, elsewhere: new Map<string, number>() };
    assertNoObjectsElsewhere(clone, owner, owned);
    const cloneAttributes = attributes.get(clone);
    const wanted =
      originalAttributes === undefined ? undefined : { ...originalAttributes, inherit: alternateInherits(server, originalAttributes) };
    const replicationChanges = wanted !== undefined && wanted.replication !== (cloneAttributes?.replication ?? false);
    if (replicationChanges) await assertMasterMayCarryReplication(session, server, clone, cloneExists, wanted.replication);

    // Every check passed: from here on, changes. A new role is created first (the grants below name it);
    // an existing one's password change goes last, with COMMIT.
    if (!alternateExists) await session.query(createRoleSql(alternateUsername, hash));
    const member = (await session.query(directMembershipSql(server), [original, clone]))[0];
    if (member?.ok !== true) await session.query(grantMembershipSql(original, clone, server));
    // Attributes before the reassignment: before 16 a NOINHERIT clone lacks the owner's privileges it needs.
    if (wanted !== undefined && (cloneAttributes === undefined || !sameLoginAttributes(wanted, cloneAttributes))) {
      if (cloneAttributes?.connectionLimit === 0) {
        // As MySQL's locked alternate entry: the clone is about to be (or is) in use, and must open where the original does.
        warn(`Lifted CONNECTION LIMIT 0 from "${clone}": it takes the connections of "${original}" (limit ${wanted.connectionLimit})`);
      }
      await session.query(loginAttributesSql(clone, { ...wanted, replication: replicationChanges ? wanted.replication : undefined }));
    }
    const defaultRows = cloneExists && owner !== clone ? await session.query(CLONE_DEFAULT_PRIVILEGES_SQL, [clone]) : [];
    const defaultPrivileges = movableDefaultPrivileges(defaultRows, owner);
    if ((owned.here > 0 || defaultPrivileges.length > 0) && owner !== clone) {
      await reassignCloneObjects(session, server, clone, owner, {}, { objects: owned.here > 0, defaultPrivileges });
    }
    if (cloneExists && owner !== clone) {
      // Read again only when something moved; otherwise what is left is what was read.
      await reportClonesDefaultPrivilegesLeft(session, clone, owner, warn, defaultPrivileges.length > 0 ? undefined : defaultRows);
    }
    if (cloneExists) {
      await revokeCloneOwnRights(session, server, clone, original, warn, clone === currentUsername);
    }
    const changes = settingChanges(clone, catalog.alternate, desiredAlternateSettings(catalog, original));
    if (clone === currentUsername) {
      // The DBA's changes to the login in use are undone below (the original is the account): said, not silent.
      const overrides = cloneOverrides(changes, catalog.alternate, cloneAttributes, wanted);
      if (overrides.length > 0) warn(cloneOverridesWarning(clone, original, overrides));
    }
    for (const setting of changes) {
      await applySetting(session, setting, (err) => settingRefused(err, server, master, clone, original, setting));
    }
    return alternateExists ? [setPasswordAsMasterSql(alternateUsername, hash)] : undefined;
  });
  for (const message of warnings) change.warn?.(message);
}
