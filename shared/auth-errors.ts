/**
 * Recognising "the database refused these credentials", by stable error codes only: message text is
 * localised (lc_messages), changes between server versions, and must not be relied on or logged.
 *
 * - PostgreSQL (pg): SQLSTATE 28P01 invalid_password (a wrong password, but also an expired or missing
 *   role, or one without a password) and 28000 invalid_authorization_specification (no pg_hba line or a
 *   rejecting one, NOLOGIN, a failed ldap/pam/cert method). 53300 (too many connections) is not one: a
 *   fresh secret would not help.
 * - MySQL/MariaDB (mysql2): errno 1045 ER_ACCESS_DENIED_ERROR, and 1698
 *   ER_ACCESS_DENIED_NO_PASSWORD_ERROR, which MariaDB returns for a user that does not exist (observed
 *   on 10.11 even when a password was sent).
 * - The toolkit's own `AuthenticationError` (code AUTH_FAILED), raised by its connectors.
 *
 * A locked or blocked MySQL/MariaDB account (MariaDB 4151/4150, which mysql2 names after unrelated
 * MySQL errors; MySQL 3118/3955) is deliberately not a stale-credential failure: refreshing the secret
 * and retrying cannot help, and under max_password_errors each retry is one more failed login. The
 * rotation's own connector types those refusals with their reason (see engines/mysql-error-codes.ts).
 *
 * Wrappers that keep the driver error as `cause` are followed a few levels down.
 */
import { AuthenticationError, isToolkitError, type RefusalReason } from './errors';

/** Decides whether an error thrown by an application callback is an authentication failure. */
export type AuthErrorClassifier = (err: unknown) => boolean;

const PG_AUTH_SQLSTATES: ReadonlySet<string> = new Set(['28P01', '28000']);
const MYSQL_ACCESS_DENIED_ERRNOS: ReadonlySet<unknown> = new Set([1045, 1698]);
const MYSQL_ACCESS_DENIED_CODES: ReadonlySet<unknown> = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR']);
const MAX_CAUSE_DEPTH = 5;

interface ErrorFields {
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly sqlState?: unknown;
  readonly cause?: unknown;
}

/** pg's DatabaseError: `code` is the SQLSTATE. */
export function isPostgresAuthFailure(err: unknown): boolean {
  const e = fields(err);
  return e !== undefined && typeof e.code === 'string' && PG_AUTH_SQLSTATES.has(e.code);
}

/** mysql2's error: numeric `errno` 1045/1698, or the matching symbolic `code`. */
export function isMysqlAuthFailure(err: unknown): boolean {
  const e = fields(err);
  if (e === undefined) return false;
  return MYSQL_ACCESS_DENIED_ERRNOS.has(e.errno) || MYSQL_ACCESS_DENIED_CODES.has(e.code);
}

/** Refusals that come after the password checked out. */
const CREDENTIALS_WERE_RIGHT: ReadonlySet<RefusalReason> = new Set<RefusalReason>(['connection-limit', 'database-not-allowed']);

/**
 * The toolkit's AuthenticationError, except a `connection-limit` refusal (PostgreSQL 53300 at login) or a
 * `database-not-allowed` one (3D000, 42501, 55000 at login): the credentials were right, so reading the
 * secret again would not help.
 */
export function isToolkitAuthFailure(err: unknown): boolean {
  return (
    isToolkitError(err) && err.code === 'AUTH_FAILED' && !(err instanceof AuthenticationError && CREDENTIALS_WERE_RIGHT.has(err.reason))
  );
}

/** Every built-in classifier, applied to the error and to its `cause` chain. */
export const isAuthenticationFailure: AuthErrorClassifier = (err) => {
  let current: unknown = err;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && current !== undefined && current !== null; depth++) {
    if (isToolkitAuthFailure(current) || isPostgresAuthFailure(current) || isMysqlAuthFailure(current)) return true;
    current = fields(current)?.cause;
  }
  return false;
};

function fields(err: unknown): ErrorFields | undefined {
  return err !== null && typeof err === 'object' ? (err as ErrorFields) : undefined;
}
