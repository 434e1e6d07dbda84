/**
 * PostgreSQL 16's rule for changing another role: only a superuser, or a role holding ADMIN OPTION on
 * it, may change its password, attributes, session defaults or memberships. CREATEROLE alone (RDS's
 * master) no longer suffices. A CREATEROLE role that creates a role is granted ADMIN OPTION on it
 * implicitly (pg_auth_members shows the row, grantor the bootstrap superuser), so roles the master
 * created pass; roles a DBA created as another user do not.
 *
 * Checked before any change, so a master that cannot administer the role fails with the GRANT that
 * fixes it, instead of a bare 42501 halfway through.
 */
import { DatabaseError, type ErrorContext } from '../errors';
import type { ServerInfo, SqlSession } from '../rotation/database-engine';
import { escapePostgresIdentifier } from './postgres-escape';
import { adminOptionGrantSql } from './postgres-role-sql';

/** The version from which CREATEROLE needs ADMIN OPTION on the role it changes. */
export const ADMIN_OPTION_REQUIRED_FROM_MAJOR = 16;

/**
 * What the master is about to do to the role: `administer` (settings, memberships: the sync of an
 * alternate) or `set-password`, which before PostgreSQL 16 a non-superuser may not do to a REPLICATION
 * role (a CDC or logical-replication user): "must be superuser to alter replication roles".
 */
export type MasterAction = 'administer' | 'set-password';

/**
 * What the master holds over one role. `pg_has_role(…, 'USAGE WITH ADMIN OPTION')` is the server's own
 * test (is_admin_of_role: superuser, or ADMIN OPTION held directly or through a role the master is a
 * member of).
 */
export const MASTER_ADMINISTERS_SQL =
  'SELECT current_user AS master, m.rolsuper AS master_super, m.rolcreaterole AS master_createrole, ' +
  "r.rolsuper AS role_super, r.rolreplication AS role_replication, pg_has_role(r.oid, 'USAGE WITH ADMIN OPTION') AS admin " +
  'FROM pg_roles r, pg_roles m WHERE r.rolname = $1 AND m.rolname = current_user';

/**
 * The master may not administer `role`: names the role, the master, the rule and the exact GRANT a
 * DBA runs. Carries no value.
 */
export class RoleAdministrationError extends DatabaseError {
  override readonly name: string = 'RoleAdministrationError';
  /** The role the master must administer. */
  readonly role: string;
  /** The master's role name. */
  readonly master: string;
  /**
   * What lifts the refusal: the exact statement a superuser (or a role with ADMIN OPTION on `role`)
   * runs, or the change of master needed.
   */
  readonly remedy: string;

  constructor(role: string, master: string, remedy: string, why: string, context: ErrorContext = {}) {
    super(
      `PostgreSQL: the master role "${master}" cannot administer role "${role}": ${why}. Remedy: ${remedy}; nothing was changed`,
      context,
    );
    this.role = role;
    this.master = master;
    this.remedy = remedy;
  }
}

/**
 * Before any change: throws unless the logged-in master may change `role`'s password, settings and
 * memberships. A role that does not exist passes (the caller creates it, and on 16+ the creator holds
 * ADMIN OPTION on it). On PostgreSQL 12-15 CREATEROLE suffices for any non-superuser role.
 * Reads only.
 * @param session a session logged in as the master
 * @param server the server behind it (its major decides the rule)
 * @param role the role name, unquoted
 * @param context secret and step named in the error
 * @param action what the master is about to do (default `administer`); `set-password` also refuses a
 *   REPLICATION role to a non-superuser before PostgreSQL 16
 * @throws RoleAdministrationError when the master may not administer the role (`remedy` says what lifts it)
 */
export async function assertMasterAdministers(
  session: SqlSession,
  server: ServerInfo,
  role: string,
  context: ErrorContext = {},
  action: MasterAction = 'administer',
): Promise<void> {
  const row = (await session.query(MASTER_ADMINISTERS_SQL, [role]))[0];
  if (row === undefined) return;
  const master = String(row.master);
  if (row.master_super === true) return;
  if (row.role_super === true) {
    throw new RoleAdministrationError(
      role,
      master,
      'name a superuser in the masterarn secret',
      'only a superuser may change a superuser role',
      context,
    );
  }
  if (row.master_createrole !== true) {
    throw new RoleAdministrationError(
      role,
      master,
      `ALTER ROLE ${escapePostgresIdentifier(master)} CREATEROLE`,
      'it has neither SUPERUSER nor CREATEROLE',
      context,
    );
  }
  if (action === 'set-password' && row.role_replication === true && server.major < ADMIN_OPTION_REQUIRED_FROM_MAJOR) {
    throw new RoleAdministrationError(
      role,
      master,
      'name a superuser in the masterarn secret',
      `before PostgreSQL ${ADMIN_OPTION_REQUIRED_FROM_MAJOR} only a superuser may alter a REPLICATION role, its password included`,
      context,
    );
  }
  if (server.major < ADMIN_OPTION_REQUIRED_FROM_MAJOR || row.admin === true) return;
  throw new RoleAdministrationError(
    role,
    master,
    `${adminOptionGrantSql(role, master, server)}`,
    `since PostgreSQL ${ADMIN_OPTION_REQUIRED_FROM_MAJOR} only a superuser or a role holding ADMIN OPTION on a role may change its password, ` +
      'settings or memberships or grant it to another role, and CREATEROLE alone no longer suffices (pg_auth_members shows no ADMIN OPTION ' +
      `for "${master}" on "${role}")`,
    context,
  );
}
