/**
 * The SQL the PostgreSQL engine sends, as pure functions of the server and the names, so each server
 * version's statements can be unit-tested without that server. Identifiers and literals are quoted by
 * the rules of pg's escapeIdentifier/escapeLiteral (postgres-escape.ts, so this module does not load
 * pg). Passwords never appear: only a SCRAM-SHA-256 verifier (or an md5 hash when the server's
 * password_encryption is md5), computed here, so statement logs hold no plaintext.
 */
import { escapePostgresIdentifier as escapeIdentifier, escapePostgresLiteral as escapeLiteral } from './postgres-escape';
import { postgresMd5Hash, scramSha256Verifier, scramSha256VerifierAsync } from './password-hashes';
import type { ServerInfo } from '../rotation/database-engine';

/** NAMEDATALEN - 1: PostgreSQL silently truncates longer identifiers, which could make two names collide. */
export const POSTGRES_MAX_IDENTIFIER_BYTES = 63;

/**
 * One round trip: version, Aurora or not (Aurora PostgreSQL has aurora_version()), and what a password
 * change on this session needs, so it does not ask again: password_encryption; whether the session is
 * read-only (`default_transaction_read_only`, a standby) or runs as another role than it logged in as
 * (`ALTER ROLE … SET role`); the login role's CONNECTION LIMIT and open sessions, and the database's,
 * so the proving login's headroom is known before the change; RDS's `rds.restrict_password_commands`.
 */
export const SERVER_INFO_SQL =
  "SELECT current_setting('server_version_num') AS version_num, current_setting('server_version') AS version, " +
  "EXISTS (SELECT 1 FROM pg_catalog.pg_proc WHERE proname = 'aurora_version') AS aurora, " +
  "current_setting('password_encryption') AS password_encryption, current_setting('scram_iterations', true) AS scram_iterations, " +
  "current_setting('transaction_read_only') = 'on' AS read_only, pg_catalog.pg_is_in_recovery() AS in_recovery, " +
  'current_user <> session_user AS role_switched, ' +
  "current_setting('rds.restrict_password_commands', true) AS restrict_password_commands, " +
  'r.rolsuper AS superuser, r.rolreplication AS replication, r.rolconnlimit AS role_connection_limit, d.datconnlimit AS database_connection_limit, ' +
  "CASE WHEN r.rolconnlimit >= 0 THEN (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.usename = session_user AND (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usename IS NOT NULL))) END::int AS role_sessions, " +
  "CASE WHEN d.datconnlimit >= 0 THEN (SELECT count(*) FROM pg_catalog.pg_stat_activity a WHERE a.datname = current_database() AND (a.backend_type = 'client backend' OR (a.backend_type IS NULL AND a.usename IS NOT NULL))) END::int AS database_sessions " +
  'FROM pg_catalog.pg_roles r, pg_catalog.pg_database d WHERE r.rolname = session_user AND d.datname = current_database()';

export const PASSWORD_ENCRYPTION_SQL =
  "SELECT current_setting('password_encryption') AS password_encryption, current_setting('scram_iterations', true) AS scram_iterations";

export const ROLE_EXISTS_SQL = 'SELECT 1 FROM pg_roles WHERE rolname = $1';

/** Whether `member` is already a direct member of `role`, and the reverse. */
export const MEMBERSHIP_SQL =
  'SELECT ' +
  'EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member ' +
  'WHERE r.rolname = $1 AND u.rolname = $2) AS member_of_role, ' +
  'EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member ' +
  'WHERE r.rolname = $2 AND u.rolname = $1) AS role_of_member';

/** server_version_num (e.g. 150004 → 15.4; 90624 → 9.6.24) and the text version. */
export function postgresServerInfo(versionNum: string, version: string, aurora: boolean): ServerInfo {
  const n = Number(versionNum);
  if (!Number.isInteger(n) || n <= 0) return { flavor: 'postgres', aurora, major: 0, minor: 0, patch: 0, version };
  const major = Math.floor(n / 10000);
  // From version 10 the number is major*10000 + minor; before it, major*10000 + minor*100 + patch.
  const minor = n >= 100000 ? n % 10000 : Math.floor(n / 100) % 100;
  const patch = n >= 100000 ? 0 : n % 100;
  return { flavor: 'postgres', aurora, major, minor, patch, version };
}

/** Why `username` cannot be a PostgreSQL role name, or undefined. */
export function postgresUsernameProblem(username: string): string | undefined {
  if (username.length === 0) return 'must not be empty';
  if (username.includes('\u0000')) return 'must not contain a NUL character';
  const bytes = Buffer.byteLength(username, 'utf8');
  if (bytes > POSTGRES_MAX_IDENTIFIER_BYTES) {
    return `is ${bytes} bytes in UTF-8; PostgreSQL allows ${POSTGRES_MAX_IDENTIFIER_BYTES} and would silently truncate it`;
  }
  return undefined;
}

/**
 * Whether the server stores md5 hashes; anything else gets a SCRAM-SHA-256 verifier. PostgreSQL 10 to 13
 * also took the boolean spellings of `on` as md5.
 */
export function storesMd5(passwordEncryption: string): boolean {
  return ['md5', 'on', 'true', 'yes', '1'].includes(passwordEncryption.trim().toLowerCase());
}

/**
 * The most PBKDF2 rounds pg (node-postgres) accepts in a server's SCRAM challenge by default
 * (`scramMaxIterations`): a verifier of more rounds is refused by every pg client left at its default,
 * the rotation's own proving login included, and a put-back of the same kind would lock them out too.
 */
export const PG_CLIENT_MAX_SCRAM_ITERATIONS = 100_000;

/**
 * PostgreSQL 16+'s scram_iterations as a session or a role setting reports it: the PBKDF2 rounds the
 * server puts in the verifiers it makes, a hashing strength the DBA chose, which a verifier computed
 * here must keep, up to `PG_CLIENT_MAX_SCRAM_ITERATIONS` (more would lock pg clients out). Undefined
 * (PostgreSQL's 4096) for a server without the setting (null from `current_setting(…, true)`) or a
 * value that is no positive integer.
 */
export function scramIterationsOf(value: unknown): number | undefined {
  const text = value === null || value === undefined ? '' : String(value).trim();
  if (!/^[1-9][0-9]{0,9}$/.test(text)) return undefined;
  return Math.min(Number(text), PG_CLIENT_MAX_SCRAM_ITERATIONS);
}

/**
 * The stored form of the password the server expects: md5 only when password_encryption says so, else
 * a SCRAM verifier of `scramIterations` rounds (default: PostgreSQL's 4096).
 */
export function passwordHash(password: string, username: string, passwordEncryption: string, scramIterations?: number): string {
  return storesMd5(passwordEncryption) ? postgresMd5Hash(password, username) : scramSha256Verifier(password, undefined, scramIterations);
}

/** `passwordHash` with the SCRAM key derivation on libuv's thread pool instead of the event loop. */
export async function passwordHashAsync(
  password: string,
  username: string,
  passwordEncryption: string,
  scramIterations?: number,
): Promise<string> {
  return storesMd5(passwordEncryption)
    ? postgresMd5Hash(password, username)
    : scramSha256VerifierAsync(password, undefined, scramIterations);
}

/** The role sets its own password (SCRAM verifier or md5 hash); nothing else about the role changes. */
export function setPasswordSql(username: string, hash: string): string {
  return `ALTER ROLE ${escapeIdentifier(username)} WITH PASSWORD ${escapeLiteral(hash)}`;
}

/**
 * The master sets a role's password, and only its password: no LOGIN (that would re-enable a login the
 * DBA disabled), no VALID UNTIL (an expiry stays as the DBA set it).
 */
export function setPasswordAsMasterSql(username: string, hash: string): string {
  return `ALTER ROLE ${escapeIdentifier(username)} WITH PASSWORD ${escapeLiteral(hash)}`;
}

/**
 * Puts a stored password (pg_authid.rolpassword, a verifier or md5 hash, which the server keeps as it
 * is) back exactly; `null` when the role had none.
 */
export function restorePasswordSql(username: string, stored: string | null): string {
  return `ALTER ROLE ${escapeIdentifier(username)} WITH PASSWORD ${stored === null ? 'NULL' : escapeLiteral(stored)}`;
}

/** Whether this session may read pg_authid (superusers, by default). */
export const CAN_READ_AUTHID_SQL = "SELECT pg_catalog.has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS readable";

/** Whether `$1`'s stored password is a SCRAM verifier (superuser: pg_authid). */
export const STORED_SCRAM_SQL = "SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_catalog.pg_authid WHERE rolname = $1";

/**
 * Opens the transaction a password change runs in when the session is read-only
 * (`default_transaction_read_only`, for the role or the database) or runs as another role: an explicit
 * READ WRITE transaction overrides the default, and SET LOCAL ROLE NONE makes the login role change
 * its own password (a role may do that only as itself). Both end with the transaction.
 */
export function passwordTransactionSql(roleSwitched: boolean): string {
  return roleSwitched ? 'BEGIN READ WRITE; SET LOCAL ROLE NONE' : 'BEGIN READ WRITE';
}

/**
 * One setting as it applies to `$1`'s own sessions in the current database: the role's setting for this
 * database, else the role's, else the database's, else this session's (the master's), which is the
 * server's unless the master's role has its own. Null when the server has no such setting.
 */
function roleSettingSql(setting: string): string {
  return (
    `(SELECT v FROM (SELECT substr(c, ${setting.length + 2}) AS v, ` +
    'CASE WHEN s.setrole <> 0 AND s.setdatabase <> 0 THEN 1 WHEN s.setrole <> 0 THEN 2 ELSE 3 END AS rank ' +
    'FROM pg_catalog.pg_db_role_setting s CROSS JOIN LATERAL pg_catalog.unnest(s.setconfig) AS c ' +
    `WHERE c LIKE '${setting.replace(/_/g, '\\_')}=%' ` +
    'AND s.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = $1)) ' +
    'AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())) ' +
    'AND NOT (s.setrole = 0 AND s.setdatabase = 0) ' +
    `UNION ALL SELECT pg_catalog.current_setting('${setting}', true), 4) o ORDER BY rank LIMIT 1)`
  );
}

/**
 * password_encryption and scram_iterations as they apply to `$1`'s own sessions in the current database
 * (`roleSettingSql`): what the server would use had the role set its password itself. With them,
 * whether the master may read pg_authid (`STORED_SCRAM_SQL`).
 */
export const ROLE_PASSWORD_ENCRYPTION_SQL =
  `SELECT ${roleSettingSql('password_encryption')} AS password_encryption, ${roleSettingSql('scram_iterations')} AS scram_iterations, ` +
  "pg_catalog.has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS can_read_authid";

export function createRoleSql(username: string, hash: string): string {
  return `CREATE ROLE ${escapeIdentifier(username)} WITH LOGIN PASSWORD ${escapeLiteral(hash)}`;
}

/**
 * Membership gives the alternate user the current user's rights, always in sync (no copy to go stale).
 * PostgreSQL 16 split membership into INHERIT and SET options: both are asked for explicitly, SET being
 * what lets the member's default role (below) take effect.
 */
export function grantMembershipSql(role: string, member: string, server: ServerInfo): string {
  const base = `GRANT ${escapeIdentifier(role)} TO ${escapeIdentifier(member)}`;
  return server.major >= 16 ? `${base} WITH INHERIT TRUE, SET TRUE` : base;
}

/**
 * The member's sessions start as `role`, so what either user creates is owned by `role` and usable by
 * both (the AWS template's clone owned its objects alone, invisible to the original user).
 */
export function defaultRoleSql(member: string, role: string): string {
  return `ALTER ROLE ${escapeIdentifier(member)} SET role = ${escapeLiteral(role)}`;
}
