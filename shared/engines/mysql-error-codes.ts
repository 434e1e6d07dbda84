/**
 * MySQL and MariaDB error numbers that decide what a refused login means, MariaDB's own names for the
 * numbers it shares with MySQL, and the numbers a statement is refused with for lack of a privilege.
 *
 * mysql2 names every error from MySQL's table, but MariaDB numbered its own errors independently from
 * 1900 and 4000 up: MariaDB's 4151 "account locked" reaches the toolkit as MySQL's
 * ER_BULK_PARSER_INCOMPLETE_ESCAPE_SEQUENCE. Since the toolkit reports codes, never the server's
 * message, the name must be right: these numbers are renamed here, by number, never by message text.
 *
 * This file imports nothing at run time: the driver-error classifier depends on it.
 */
import type { RefusalReason } from '../errors';

/** MariaDB's names for its numbers where mysql2 (MySQL's table) names something else. */
const MARIADB_NAMES: Readonly<Record<number, string>> = {
  1927: 'ER_CONNECTION_KILLED',
  4150: 'ER_USER_IS_BLOCKED',
  4151: 'ER_ACCOUNT_HAS_BEEN_LOCKED',
  4167: 'ER_NO_SECURE_TRANSPORTS_CONFIGURED',
};

/**
 * MariaDB numbers that MySQL never sends while a client logs in (MySQL uses them for bulk-load and
 * other statement errors), so a login refused with one of them comes from MariaDB whatever the driver
 * says.
 */
const MARIADB_ONLY_AT_LOGIN: ReadonlySet<number> = new Set([4150, 4151]);

/** Login refusals and the reason each number gives without reading any catalog. */
const REASON_BY_CODE: Readonly<Record<string, RefusalReason>> = {
  // MariaDB max_password_errors; MySQL FAILED_LOGIN_ATTEMPTS / PASSWORD_LOCK_TIME.
  ER_USER_IS_BLOCKED: 'blocked-after-failed-logins',
  '4150': 'blocked-after-failed-logins',
  ER_USER_ACCESS_DENIED_FOR_USER_ACCOUNT_BLOCKED_BY_PASSWORD_LOCK: 'blocked-after-failed-logins',
  '3955': 'blocked-after-failed-logins',
  // max_connect_errors: the server refuses every login from the address until FLUSH HOSTS.
  ER_HOST_IS_BLOCKED: 'blocked-after-failed-logins',
  '1129': 'blocked-after-failed-logins',
  // ACCOUNT LOCK: MariaDB 4151, MySQL 3118 (the same name on both).
  ER_ACCOUNT_HAS_BEEN_LOCKED: 'login-disabled',
  '4151': 'login-disabled',
  '3118': 'login-disabled',
  // An expired password, to a client that does not announce it can handle one.
  ER_MUST_CHANGE_PASSWORD_LOGIN: 'expired',
  '1862': 'expired',
  // No account at all for the client's address.
  ER_HOST_NOT_PRIVILEGED: 'host-not-allowed',
  '1130': 'host-not-allowed',
  // The server asks for a client plugin the driver lacks, or the account's plugin is not loaded.
  AUTH_SWITCH_PLUGIN_ERROR: 'unsupported-auth-plugin',
  MYSQL_CLEAR_PASSWORD_NOT_ENABLED: 'unsupported-auth-plugin',
  ER_NOT_SUPPORTED_AUTH_MODE: 'unsupported-auth-plugin',
  '1251': 'unsupported-auth-plugin',
  ER_PLUGIN_IS_NOT_LOADED: 'unsupported-auth-plugin',
  '1524': 'unsupported-auth-plugin',
  // A pre-4.1 (mysql_old_password) hash: the server refuses it to any client under secure_auth.
  ER_SERVER_IS_IN_SECURE_AUTH_MODE: 'unsupported-auth-plugin',
  '1275': 'unsupported-auth-plugin',
  // Connection limits: the credentials were right, there is no room for the session. MAX_USER_CONNECTIONS,
  // MAX_CONNECTIONS_PER_HOUR (1226), the global max_user_connections (1203), max_connections (1040).
  ER_USER_LIMIT_REACHED: 'connection-limit',
  '1226': 'connection-limit',
  ER_TOO_MANY_USER_CONNECTIONS: 'connection-limit',
  '1203': 'connection-limit',
  ER_CON_COUNT_ERROR: 'connection-limit',
  '1040': 'connection-limit',
  // The secret's database: the server checks the password first, so these prove it right. 1044 when the
  // user has no right on that database (or it does not exist and the user may not know), 1049 when it
  // does not exist and the user could see it.
  ER_DBACCESS_DENIED_ERROR: 'database-not-allowed',
  '1044': 'database-not-allowed',
  ER_BAD_DB_ERROR: 'database-not-allowed',
  '1049': 'database-not-allowed',
};

/** What a refusal's number says in MariaDB's or MySQL's own words, for messages without a master. */
const DETAIL_BY_ERRNO: Readonly<Record<number, string>> = {
  4150: 'MariaDB ER_USER_IS_BLOCKED: the account is blocked after too many failed logins (max_password_errors)',
  3955: 'MySQL: the account is locked after too many failed logins (FAILED_LOGIN_ATTEMPTS / PASSWORD_LOCK_TIME)',
  1129: 'the address is blocked after too many connection errors (max_connect_errors)',
  4151: 'MariaDB ER_ACCOUNT_HAS_BEEN_LOCKED: the account is locked (ACCOUNT LOCK)',
  3118: 'MySQL ER_ACCOUNT_HAS_BEEN_LOCKED: the account is locked (ACCOUNT LOCK)',
  1862: 'ER_MUST_CHANGE_PASSWORD_LOGIN: the password has expired',
  1130: 'ER_HOST_NOT_PRIVILEGED: no account of the user may log in from this address',
  1275: 'ER_SERVER_IS_IN_SECURE_AUTH_MODE: the account has a pre-4.1 (mysql_old_password) hash, which the server refuses',
  1226: 'ER_USER_LIMIT_REACHED: the account has used up a resource limit (MAX_USER_CONNECTIONS or MAX_CONNECTIONS_PER_HOUR), not a password problem',
  1203: 'ER_TOO_MANY_USER_CONNECTIONS: the user has max_user_connections sessions open, not a password problem',
  1040: 'ER_CON_COUNT_ERROR: the server has max_connections sessions open, not a password problem',
  1044: "ER_DBACCESS_DENIED_ERROR: the password was accepted, but the user may not open the secret's dbname (or it does not exist)",
  1049: "ER_BAD_DB_ERROR: the password was accepted, but the secret's dbname does not exist",
};

/** The refusal's number in words (MariaDB's own for its numbers); undefined when it says nothing more. */
export function mysqlRefusalDetail(err: unknown): string | undefined {
  const errno = err !== null && typeof err === 'object' ? (err as MysqlErrorFields).errno : undefined;
  return typeof errno === 'number' ? DETAIL_BY_ERRNO[errno] : undefined;
}

/**
 * Login refusals beyond 1045/1698 (auth-errors) that end an attempt with a credential: the server
 * refused this account, not the network.
 */
export const MYSQL_LOGIN_REFUSAL_CODES: ReadonlySet<string> = new Set(Object.keys(REASON_BY_CODE));

/**
 * The reason a refused login's code alone gives: 1045 (wrong password, no account for this address, a
 * missing user, an unmet REQUIRE SSL all look alike) stays `undetermined`.
 * @param code a symbolic name (as `mysqlErrorCode` gives it) or an error number, as text.
 */
export function mysqlRefusalReasonFromCode(code: string | undefined): RefusalReason {
  if (code === undefined) return 'undetermined';
  return REASON_BY_CODE[code] ?? 'undetermined';
}

interface MysqlErrorFields {
  readonly code?: unknown;
  readonly errno?: unknown;
}

/**
 * The error's code with MariaDB's numbers under MariaDB's names.
 * @param flavor the server's flavour when known (a session's); at login it is not, and only the
 *   numbers MySQL never sends at login are renamed.
 * @param atLogin true for a refused login.
 */
export function mysqlErrorCode(err: unknown, flavor?: 'mysql' | 'mariadb', atLogin = false): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as MysqlErrorFields;
  const errno = typeof e.errno === 'number' ? e.errno : typeof e.errno === 'string' && /^\d+$/.test(e.errno) ? Number(e.errno) : undefined;
  if (errno !== undefined && MARIADB_NAMES[errno] !== undefined) {
    if (flavor === 'mariadb' || (flavor === undefined && atLogin && MARIADB_ONLY_AT_LOGIN.has(errno))) return MARIADB_NAMES[errno];
  }
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  if (typeof e.code === 'number') return String(e.code);
  return errno !== undefined ? String(errno) : undefined;
}

/** A copy of a driver error that keeps only what the classifiers read, under the corrected code. */
export function renamedMysqlError(err: unknown, code: string | undefined): unknown {
  if (err === null || typeof err !== 'object' || code === undefined) return err;
  const e = err as MysqlErrorFields & { name?: unknown };
  if (e.code === code) return err;
  return { name: typeof e.name === 'string' ? e.name : 'Error', code, errno: e.errno };
}

/**
 * The access-denied errors a statement is refused with when the account lacks a privilege, by symbolic
 * name and number (mysql2 may lack a newer name): 1044 database, 1045 global (MariaDB), 1142 table,
 * 1143 column, 1227 "needs privilege X".
 */
export const MYSQL_PRIVILEGE_DENIED_CODES: ReadonlySet<string> = new Set([
  'ER_DBACCESS_DENIED_ERROR',
  '1044',
  'ER_ACCESS_DENIED_ERROR',
  '1045',
  'ER_TABLEACCESS_DENIED_ERROR',
  '1142',
  'ER_COLUMNACCESS_DENIED_ERROR',
  '1143',
  'ER_SPECIFIC_ACCESS_DENIED_ERROR',
  '1227',
]);
