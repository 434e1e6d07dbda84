/**
 * The login attributes an alternate role carries from its original (INHERIT, CONNECTION LIMIT, VALID
 * UNTIL), and the password hashing it gets (md5 where the original's verifier is md5, so clients that
 * only speak md5 keep working after the switch).
 */
import { DatabaseError, type ErrorContext } from '../errors';
import type { Row, SqlSession } from '../rotation/database-engine';
import type { LoginAttributes } from './postgres-role-sql';
import { passwordHashAsync } from './postgres-sql';

/**
 * Both roles' attributes. VALID UNTIL is read as text in this session, so it parses back exactly in
 * it and two roles' texts are equal exactly when their timestamps are; 'infinity' reads as none.
 */
export const ROLE_ATTRIBUTES_SQL =
  "SELECT rolname, rolinherit, rolconnlimit, CASE WHEN rolvaliduntil = 'infinity' THEN NULL ELSE rolvaliduntil::text END AS valid_until, " +
  'coalesce(rolvaliduntil < now(), false) AS expired FROM pg_roles WHERE rolname = $1 OR rolname = $2';

/** One role's carried attributes, plus whether its VALID UNTIL has passed. */
export interface RoleAttributes extends LoginAttributes {
  readonly expired: boolean;
}

/** The attributes of `ROLE_ATTRIBUTES_SQL`'s row. */
export function roleAttributesOf(row: Row): RoleAttributes {
  return {
    inherit: row.rolinherit === true,
    connectionLimit: Number(row.rolconnlimit ?? -1),
    validUntil: typeof row.valid_until === 'string' ? row.valid_until : undefined,
    expired: row.expired === true,
  };
}

/** Whether `alternate` already carries `original`'s attributes. */
export function sameLoginAttributes(original: LoginAttributes, alternate: LoginAttributes): boolean {
  return (
    original.inherit === alternate.inherit &&
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
 * Which hashing the original's stored password uses, without reading the verifier itself (only its
 * prefix is compared on the server). pg_authid is readable by superusers only: RDS's master cannot, and
 * the server's password_encryption decides. `rds.accepted_password_auth_method = scram` (RDS) means md5
 * verifiers cannot log in: SCRAM then, whatever the original uses.
 */
export const PASSWORD_METHOD_SQL =
  "SELECT current_setting('password_encryption') AS password_encryption, " +
  "current_setting('rds.accepted_password_auth_method', true) AS rds_accepted, " +
  "has_table_privilege('pg_catalog.pg_authid', 'SELECT') AS readable";

export const VERIFIER_KIND_SQL =
  "SELECT CASE WHEN rolpassword LIKE 'md5%' THEN 'md5' WHEN rolpassword LIKE 'SCRAM-SHA-256$%' THEN 'scram-sha-256' END AS kind " +
  'FROM pg_catalog.pg_authid WHERE rolname = $1';

/** `md5` or `scram-sha-256`: the hashing the alternate's password gets. */
export type PasswordHashing = 'md5' | 'scram-sha-256';

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
  const chosen: PasswordHashing = kind === 'md5' || kind === 'scram-sha-256' ? kind : fromServer;
  return chosen === 'md5' && scramOnly ? 'scram-sha-256' : chosen;
}

/** The stored form of `password` for `username` in that hashing (md5 is salted with the role name). */
export async function hashedPassword(password: string, username: string, hashing: PasswordHashing): Promise<string> {
  return passwordHashAsync(password, username, hashing);
}
