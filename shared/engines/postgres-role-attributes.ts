/**
 * The login attributes an alternate role carries from its original (INHERIT, CONNECTION LIMIT, VALID
 * UNTIL, REPLICATION), and the password hashing it gets (md5 where the original's verifier is md5, so
 * clients that only speak md5 keep working after the switch).
 *
 * Most rights follow the original through membership and the `role` session default, because the server
 * checks them against the current role. A few are checked against the login role itself, before any
 * session default applies, and must be on the alternate: CONNECT on the database (through INHERIT, see
 * `alternateInherits`) and REPLICATION (a replication connection: Debezium, pg_recvlogical, a logical
 * replication subscriber).
 */
import { DatabaseError, type ErrorContext } from '../errors';
import type { Row, ServerInfo, SqlSession } from '../rotation/database-engine';
import { RoleAdministrationError } from './postgres-admin-option';
import { escapePostgresIdentifier as ident } from './postgres-escape';
import { adminOptionGrantSql, type LoginAttributes } from './postgres-role-sql';
import { passwordHashAsync, scramIterationsOf } from './postgres-sql';

/**
 * Both roles' attributes. VALID UNTIL is read as text in this session, so it parses back exactly in
 * it and two roles' texts are equal exactly when their timestamps are; 'infinity' reads as none.
 */
export const ROLE_ATTRIBUTES_SQL =
  "SELECT rolname, rolinherit, rolconnlimit, rolreplication, rolcanlogin, CASE WHEN rolvaliduntil = 'infinity' THEN NULL ELSE rolvaliduntil::text END AS valid_until, " +
  'coalesce(rolvaliduntil < now(), false) AS expired FROM pg_roles WHERE rolname = $1 OR rolname = $2';

/** One role's carried attributes, plus whether its VALID UNTIL has passed. */
export interface RoleAttributes extends LoginAttributes {
  readonly expired: boolean;
  /** REPLICATION: may open replication connections (checked against the login role). */
  readonly replication: boolean;
  /** LOGIN: never carried (a NOLOGIN alternate is refused, not re-enabled). */
  readonly canLogin: boolean;
}

/** The attributes of `ROLE_ATTRIBUTES_SQL`'s row. */
export function roleAttributesOf(row: Row): RoleAttributes {
  return {
    inherit: row.rolinherit === true,
    connectionLimit: Number(row.rolconnlimit ?? -1),
    validUntil: typeof row.valid_until === 'string' ? row.valid_until : undefined,
    expired: row.expired === true,
    replication: row.rolreplication === true,
    canLogin: row.rolcanlogin === true,
  };
}

/**
 * The INHERIT the alternate must have. From PostgreSQL 16 inheritance is an option of each membership
 * (the clone's in the original is granted WITH INHERIT TRUE) and the role attribute is only the default
 * for new grants: the original's is carried. Before 16 the attribute decides whether any membership
 * passes rights on; a NOINHERIT clone would hold none of the original's rights until its session
 * switches role, which happens after the server checks CONNECT on the database: where CONNECT is granted
 * to the original (not PUBLIC), the clone could not log in. So before 16 the clone always inherits: it
 * then holds at login exactly what the original holds (a NOINHERIT original passes nothing further on).
 */
export function alternateInherits(server: ServerInfo, original: LoginAttributes): boolean {
  return server.major >= 16 ? original.inherit : true;
}

/** The master's own attributes that decide whether it may change REPLICATION. */
export const MASTER_REPLICATION_SQL = 'SELECT current_user AS master, rolsuper, rolreplication FROM pg_roles WHERE rolname = current_user';

/**
 * Before any change: throws unless the master may give `clone` the original's REPLICATION (or take it
 * away). PostgreSQL lets only a superuser change the attribute, and from 16 also a role that has
 * REPLICATION itself (plus the ADMIN OPTION already checked). RDS has no REPLICATION attribute (its
 * `rds_replication` role is a membership, which the clone inherits). Reads only.
 * @param cloneExists whether the alternate role exists (the remedy then alters it, else creates it)
 * @throws RoleAdministrationError naming the statement a superuser runs
 */
export async function assertMasterMayCarryReplication(
  session: SqlSession,
  server: ServerInfo,
  clone: string,
  cloneExists: boolean,
  replication: boolean,
  context: ErrorContext = {},
): Promise<void> {
  const row = (await session.query(MASTER_REPLICATION_SQL))[0] ?? {};
  if (row.rolsuper === true || (server.major >= 16 && row.rolreplication === true)) return;
  const master = String(row.master);
  const attribute = replication ? 'REPLICATION' : 'NOREPLICATION';
  const remedy = cloneExists
    ? `a superuser runs ALTER ROLE ${ident(clone)} ${attribute}`
    : `a superuser runs CREATE ROLE ${ident(clone)} WITH LOGIN ${attribute}` +
      (server.major >= 16 ? `; ${adminOptionGrantSql(clone, master, server)}` : '') +
      ' (the rotation then sets its password and the rest)';
  const rule = server.major >= 16 ? 'only a superuser or a role with REPLICATION itself' : 'only a superuser';
  throw new RoleAdministrationError(
    clone,
    master,
    remedy,
    `the original has ${replication ? 'REPLICATION' : 'NOREPLICATION'}, checked against the login role for replication connections, ` +
      `and ${rule} may change that attribute`,
    context,
  );
}

/** Whether `alternate` already carries `original`'s attributes (`original` as the alternate must have them). */
export function sameLoginAttributes(original: LoginAttributes, alternate: LoginAttributes): boolean {
  return (
    original.inherit === alternate.inherit &&
    original.replication === alternate.replication &&
    original.connectionLimit === alternate.connectionLimit &&
    original.validUntil === alternate.validUntil
  );
}

/**
 * The original role has expired (VALID UNTIL in the past): carrying that to the alternate would lock
 * the application out at the switch, and not carrying it would silently undo the DBA's expiry.
 */
export class OriginalRoleExpiredError extends DatabaseError {
  override readonly name: string = 'OriginalRoleExpiredError';
  /** The expired role. */
  readonly role: string;
  constructor(role: string, validUntil: string, context: ErrorContext = {}) {
    super(
      `PostgreSQL: role "${role}" expired at ${validUntil} (VALID UNTIL): its alternate would carry the expiry and the application ` +
        `could not log in after the switch. Extend it (ALTER ROLE ... VALID UNTIL) or rotate another way; nothing was changed`,
      context,
    );
    this.role = role;
  }
}

/**
 * The original role takes no connections (CONNECTION LIMIT 0, a common way to disable a login while
 * keeping its grants): carrying the limit to the alternate would refuse every new login of the
 * application when the alternate is the one in use, and not carrying it would silently undo the DBA's
 * choice.
 */
export class OriginalRoleClosedError extends DatabaseError {
  override readonly name: string = 'OriginalRoleClosedError';
  /** The role with CONNECTION LIMIT 0. */
  readonly role: string;
  constructor(role: string, context: ErrorContext = {}) {
    super(
      `PostgreSQL: role "${role}" has CONNECTION LIMIT 0 (no login may connect): its alternate would carry the limit and the ` +
        `application could not open a connection. Lift it (ALTER ROLE ${ident(role)} CONNECTION LIMIT -1) or rotate another way; nothing was changed`,
      context,
    );
    this.role = role;
  }
}

/**
 * The secret's user is a clone whose original was dropped: the toolkit set it to start its sessions as
 * that role (`role` session default), and no role of that name exists. Creating a new, empty role under
 * the name would turn the pair around (the new role a member of the clone) and silently undo the DBA's
 * DROP ROLE, while the application's rights went with the dropped role either way.
 */
export class OriginalRoleMissingError extends DatabaseError {
  override readonly name: string = 'OriginalRoleMissingError';
  /** The dropped original's name. */
  readonly role: string;
  /** The clone the secret names. */
  readonly clone: string;
  constructor(role: string, clone: string, context: ErrorContext = {}) {
    super(
      `PostgreSQL: role "${role}" does not exist, yet its alternate "${clone}" is set to start its sessions as it (the original was ` +
        `dropped). Re-create "${role}" with the application's rights, or keep "${clone}" on its own: ALTER ROLE ${ident(clone)} RESET role ` +
        `(in each database where it is set), then rotate again; nothing was changed`,
      context,
    );
    this.role = role;
    this.clone = clone;
  }
}

/**
 * Which hashing the original's stored password uses, without reading the verifier itself (only its
 * prefix is compared on the server). pg_authid is readable by superusers only: RDS's master cannot, and
 * the server's password_encryption decides. `rds.accepted_password_auth_method = scram` (RDS) means md5
 * verifiers cannot log in: SCRAM then, whatever the original uses.
 */
export const PASSWORD_METHOD_SQL =
  "SELECT current_setting('password_encryption') AS password_encryption, " +
  "current_setting('rds.accepted_password_auth_method', true) AS rds_accepted, " +
  "current_setting('scram_iterations', true) AS scram_iterations, " +
  "has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS readable";

export const VERIFIER_KIND_SQL =
  "SELECT CASE WHEN rolpassword LIKE 'md5%' THEN 'md5' WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram-sha-256' END AS kind " +
  'FROM pg_catalog.pg_authid WHERE rolname = $1';

/** `md5` or `scram-sha-256`: the kind of hash the alternate's password gets. */
export type PasswordHashKind = 'md5' | 'scram-sha-256';

/** The hashing the alternate's password gets: its kind, and the server's scram_iterations (undefined: 4096). */
export interface PasswordHashing {
  readonly kind: PasswordHashKind;
  readonly scramIterations?: number;
}

/**
 * The hashing for the alternate's password: the original's where readable, else the server's
 * password_encryption; never md5 where the server accepts SCRAM only. Reads only.
 */
export async function passwordHashingFor(session: SqlSession, original: string): Promise<PasswordHashing> {
  const server = (await session.query(PASSWORD_METHOD_SQL))[0] ?? {};
  const scramOnly =
    String(server.rds_accepted ?? '')
      .trim()
      .toLowerCase() === 'scram';
  let kind: unknown;
  if (server.readable === true) kind = (await session.query(VERIFIER_KIND_SQL, [original]))[0]?.kind;
  const fromServer =
    String(server.password_encryption ?? '')
      .trim()
      .toLowerCase() === 'md5'
      ? 'md5'
      : 'scram-sha-256';
  const chosen: PasswordHashKind = kind === 'md5' || kind === 'scram-sha-256' ? kind : fromServer;
  const scramIterations = scramIterationsOf(server.scram_iterations);
  return {
    kind: chosen === 'md5' && scramOnly ? 'scram-sha-256' : chosen,
    ...(scramIterations !== undefined ? { scramIterations } : {}),
  };
}

/** The stored form of `password` for `username` in that hashing (md5 is salted with the role name). */
export async function hashedPassword(password: string, username: string, hashing: PasswordHashing): Promise<string> {
  return passwordHashAsync(password, username, hashing.kind, hashing.scramIterations);
}
