/**
 * What the master's catalogs say about the other user of a pre-created pair, before its password is
 * set: two small reads, one per engine family. They live here rather than in the database engines
 * because only the pre-created pair asks them, and they read nothing but names and flags.
 *
 * The name is never spliced into SQL: PostgreSQL binds it as a parameter; MySQL compares bytes with a
 * hex literal, which no sql_mode (NO_BACKSLASH_ESCAPES, ANSI_QUOTES) reads differently.
 */
import type { EngineFamily } from '../database-secret';
import type { SqlSession } from './database-engine';

/** The other user as the catalogs show it. */
export interface PairedUserFacts {
  /** A role (PostgreSQL) or at least one account, any host part (MySQL), of that name exists. */
  readonly exists: boolean;
  /** It is the account the master session is logged in as. */
  readonly isMaster: boolean;
  /** PostgreSQL: the role has LOGIN. MySQL: always true (locks are left to the login's own refusal). */
  readonly canLogin: boolean;
}

const POSTGRES_SQL = 'SELECT rolname = current_user AS is_master, rolcanlogin AS can_login FROM pg_roles WHERE rolname = $1';

// CURRENT_USER() is `user@host`; the user part is everything before the LAST `@` (a user name may hold one).
const MYSQL_MASTER_USER =
  "SUBSTRING(CURRENT_USER(), 1, CHAR_LENGTH(CURRENT_USER()) - CHAR_LENGTH(SUBSTRING_INDEX(CURRENT_USER(), '@', -1)) - 1)";

/** Reads the facts as the master. */
export async function pairedUserFacts(session: SqlSession, family: EngineFamily, username: string): Promise<PairedUserFacts> {
  if (family === 'postgres') {
    const row = (await session.query(POSTGRES_SQL, [username]))[0];
    return row === undefined
      ? { exists: false, isMaster: false, canLogin: false }
      : { exists: true, isMaster: row.is_master === true, canLogin: row.can_login === true };
  }
  const hex = Buffer.from(username, 'utf8').toString('hex');
  const rows = await session.query(
    `SELECT COUNT(*) AS accounts, COALESCE(SUM(CAST(User AS BINARY) = CAST(${MYSQL_MASTER_USER} AS BINARY)), 0) AS is_master ` +
      `FROM mysql.user WHERE CAST(User AS BINARY) = X'${hex}'`,
  );
  const accounts = Number(rows[0]?.accounts ?? 0);
  return { exists: accounts > 0, isMaster: Number(rows[0]?.is_master ?? 0) > 0, canLogin: true };
}
