/**
 * Objects an alternate role owns itself: AWS's multi-user template leaves `app_clone` a member of `app`
 * owning the tables it created. Once the toolkit makes the clone start its sessions as the original's
 * session role (`SET role`), that role could not use them (42501 on the clone's own data).
 *
 * Chosen remedy: REASSIGN OWNED, on every rotation, to the role both logins start as. Why not the others:
 * - membership the other way round (`GRANT app_clone TO app`) is circular: the clone is already a member
 *   of the original, and PostgreSQL refuses it;
 * - GRANTs on the clone's objects would give less than ownership (no ALTER, DROP, no re-grant) and
 *   would have to follow every object kind;
 * - with one owner, what either login creates from then on is shared too (both start as the owner), and
 *   the equivalence holds without a second owner to keep in step.
 *
 * REASSIGN OWNED needs privileges of both the old and the new owner. The master takes them by acting
 * as the clone for the transaction (SET LOCAL ROLE): the clone is a member of the original, so it has
 * the new owner's privileges. A master that is not a superuser borrows the clone's SET option for the
 * transaction and gives it back before commit; on PostgreSQL 16+ that needs ADMIN OPTION on the clone,
 * which the master holds on a clone it created.
 *
 * REASSIGN OWNED reaches one database (plus databases and tablespaces). Objects the clone owns in
 * another database are refused before any change, with the statement to run there.
 * Default privileges the clone defined (ALTER DEFAULT PRIVILEGES), which REASSIGN OWNED leaves, are
 * moved in the same step (postgres-clone-default-privileges.ts).
 */
import { DatabaseError, type ErrorContext } from '../errors';
import { failureCode } from './driver-errors';
import type { ServerInfo, SqlSession } from '../rotation/database-engine';
import { escapePostgresIdentifier } from './postgres-escape';
import { moveCloneDefaultPrivileges, type DefaultPrivilegeGrant } from './postgres-clone-default-privileges';
import { RESET_ROLE_SQL, borrowRoleSql, reassignOwnedSql, returnRoleSql, setLocalRoleSql } from './postgres-role-sql';

/**
 * How many objects the role owns, by database (NULL datname: shared objects, reachable from any
 * database). Default-privilege entries are left out: REASSIGN OWNED does not move them.
 */
export const OWNED_OBJECTS_SQL =
  'SELECT d.datname, d.datname = current_database() OR s.dbid = 0 AS here, count(*)::int AS n FROM pg_shdepend s ' +
  'LEFT JOIN pg_database d ON d.oid = s.dbid ' +
  "WHERE s.refclassid = 'pg_catalog.pg_authid'::regclass AND s.deptype = 'o' AND s.classid <> 'pg_catalog.pg_default_acl'::regclass " +
  'AND s.refobjid = (SELECT oid FROM pg_roles WHERE rolname = $1) GROUP BY 1, 2';

/** Whether the master may SET ROLE to the clone now, and whether it granted itself the clone before. */
export function canActAsSql(server: ServerInfo): string {
  const option = server.major >= 16 ? 'SET' : 'MEMBER';
  return (
    `SELECT current_user AS master, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS master_super, pg_has_role($1, '${option}') AS can_set, ` +
    'EXISTS (SELECT 1 FROM pg_auth_members a WHERE a.roleid = (SELECT oid FROM pg_roles WHERE rolname = $1) ' +
    'AND a.member = (SELECT oid FROM pg_roles WHERE rolname = current_user) AND a.grantor = a.member) AS self_granted'
  );
}

/** The clone's objects that the toolkit cannot move for the DBA; names the statement that moves them. */
export class CloneOwnsObjectsError extends DatabaseError {
  override readonly name: string = 'CloneOwnsObjectsError';
  /** The alternate role that owns objects. */
  readonly role: string;
  /** The statement a DBA runs (in each named database). */
  readonly remedy: string;
  constructor(role: string, why: string, remedy: string, context: ErrorContext = {}) {
    super(
      `PostgreSQL: role "${role}" owns objects that its sessions could no longer use after the switch: ${why}. Remedy: ${remedy}; nothing was changed`,
      context,
    );
    this.role = role;
    this.remedy = remedy;
  }
}

/** What the clone owns: here (this database and shared objects) and in other databases. */
export interface OwnedObjects {
  readonly here: number;
  readonly elsewhere: ReadonlyMap<string, number>;
}

/** Counts the objects `role` owns. Reads only. */
export async function ownedObjects(session: SqlSession, role: string): Promise<OwnedObjects> {
  let here = 0;
  const elsewhere = new Map<string, number>();
  for (const row of await session.query(OWNED_OBJECTS_SQL, [role])) {
    const n = Number(row.n ?? 0);
    if (row.here === true) here += n;
    else if (typeof row.datname === 'string') elsewhere.set(row.datname, n);
  }
  return { here, elsewhere };
}

/**
 * Before any change: refuses when the clone owns objects in another database than the master's.
 * @throws CloneOwnsObjectsError naming the databases and the REASSIGN OWNED to run in each
 */
export function assertNoObjectsElsewhere(clone: string, owner: string, owned: OwnedObjects, context: ErrorContext = {}): void {
  if (owned.elsewhere.size === 0) return;
  const where = [...owned.elsewhere].map(([db, n]) => `${n} in database "${db}"`).join(', ');
  throw new CloneOwnsObjectsError(
    clone,
    `${where}, which the master's session (one database) cannot reach`,
    `in each of those databases run ${reassignOwnedSql(clone, owner)} as a superuser`,
    context,
  );
}

/** What `reassignCloneObjects` moves: the clone's objects, and its default privileges (postgres-clone-default-privileges.ts). */
export interface CloneMoves {
  /** REASSIGN OWNED (the clone owns objects here). @default true */
  readonly objects?: boolean;
  /** Grants of the clone's default privileges to move to the owner. @default none */
  readonly defaultPrivileges?: readonly DefaultPrivilegeGrant[];
}

/**
 * Inside the caller's transaction: gives everything `clone` owns in this database (and its databases
 * and tablespaces) to `owner`, and moves its default privileges there, acting as the clone; the
 * master's borrowed SET option is returned before this returns. Idempotent: with nothing owned,
 * nothing runs.
 * @throws CloneOwnsObjectsError when the clone lacks the owner's privileges, or the move is refused
 */
export async function reassignCloneObjects(
  session: SqlSession,
  server: ServerInfo,
  clone: string,
  owner: string,
  context: ErrorContext = {},
  moves: CloneMoves = {},
): Promise<void> {
  const who = (await session.query(canActAsSql(server), [clone]))[0] ?? {};
  const master = String(who.master);
  const borrow = who.master_super !== true && who.can_set !== true;
  const remedy = `run ${reassignOwnedSql(clone, owner)} as a superuser`;
  if (borrow && who.self_granted === true) {
    throw new CloneOwnsObjectsError(
      clone,
      `the master "${master}" holds a grant of "${clone}" it made itself, which this step would change`,
      remedy,
      context,
    );
  }
  if (borrow) await session.query(borrowRoleSql(clone, master, server));
  await session.query(setLocalRoleSql(clone));
  const reach = (await session.query("SELECT pg_has_role($1, 'USAGE') AS ok", [owner]))[0];
  if (reach?.ok !== true) {
    throw new CloneOwnsObjectsError(
      clone,
      `"${clone}" does not have the privileges of ${escapePostgresIdentifier(owner)} (NOINHERIT), so it may not give its objects to it`,
      remedy,
      context,
    );
  }
  try {
    if (moves.objects !== false) await session.query(reassignOwnedSql(clone, owner));
    await moveCloneDefaultPrivileges(session, clone, owner, moves.defaultPrivileges ?? []);
  } catch (err) {
    const code = failureCode(err);
    throw new CloneOwnsObjectsError(clone, `the server refused to reassign them${code !== undefined ? ` (error ${code})` : ''}`, remedy, {
      ...context,
      cause: err,
    });
  }
  await session.query(RESET_ROLE_SQL);
  if (borrow) await session.query(returnRoleSql(clone, master));
}
