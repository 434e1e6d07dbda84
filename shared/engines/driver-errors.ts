/**
 * The one place where pg and mysql2 errors become the toolkit's typed errors, for both engines.
 *
 * Classification is by stable codes (SQLSTATE, MySQL errno, Node's error codes), never by message text:
 * server messages are localised (lc_messages) and change between versions, and mysql2's errors carry the
 * SQL statement, which can hold a password. Nothing of the driver's error survives but its class name
 * and code (`summarizeCause`).
 *
 * The single exception is pg's "server does not support SSL" error, which pg raises with no code at
 * all; it is matched by exact equality with the driver's own constant, never by searching text.
 */
import { isMysqlAuthFailure, isPostgresAuthFailure } from '../auth-errors';
import type { EngineFamily } from '../database-secret';
import {
  AuthenticationError,
  DatabaseError,
  NetworkError,
  REFUSAL_REASON_TEXT,
  type RefusalReason,
  TimeoutError,
  TlsError,
  ToolkitError,
  summarizeCause,
} from '../errors';
import type { LoginRole } from '../rotation/database-engine';
import {
  MYSQL_LOGIN_REFUSAL_CODES,
  mysqlErrorCode,
  mysqlRefusalDetail,
  mysqlRefusalReasonFromCode,
  renamedMysqlError,
} from './mysql-error-codes';
import { isPostgresLoginRefusalCode, postgresRefusalCauses, postgresRefusalReasonFromCode } from './postgres-refusals';

export interface DriverErrorContext {
  readonly family: EngineFamily;
  /** Which credential was used: named in the message, never its value. */
  readonly role: LoginRole;
  readonly secretId?: string;
  readonly step?: string;
  /** Whether the login ran over TLS (kept on a refusal: it decides the pg_hba line met). */
  readonly tls?: boolean;
}

export interface StatementErrorContext extends DriverErrorContext {
  /** What the statement was for, e.g. "set the password": never the statement itself. */
  readonly action: string;
}

/**
 * On top of the credential refusals `auth-errors` knows: a login whose user may not open the database
 * it asked for also ends the rotation's attempt with that credential.
 */
const MYSQL_DB_ACCESS_DENIED_ERRNO = 1044;
const MYSQL_DB_ACCESS_DENIED_CODE = 'ER_DBACCESS_DENIED_ERROR';

const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'EPIPE',
  'ECONNABORTED',
  'PROTOCOL_CONNECTION_LOST',
  // MariaDB/MySQL: the session was killed (KILL, server shutdown).
  'ER_CONNECTION_KILLED',
  '1927',
  // PostgreSQL: the server ended the session (pg_terminate_backend, shutdown, recovery).
  '57P01',
  '57P02',
  '57P03',
]);

const TIMEOUT_CODES: ReadonlySet<string> = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'PROTOCOL_SEQUENCE_TIMEOUT']);

/** Node's certificate-verification codes (from OpenSSL's X509_V_ERR_*) and the drivers' TLS codes. */
const TLS_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'CERT_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'EPROTO',
  'HANDSHAKE_NO_SSL_SUPPORT',
  'HANDSHAKE_SSL_ERROR',
]);
const TLS_CODE_PREFIXES: readonly string[] = ['ERR_TLS_', 'ERR_SSL_'];

/** pg raises this with no code when the server answers 'N' to the SSLRequest. */
const PG_NO_SSL_MESSAGE = 'The server does not support SSL connections';

interface DriverErrorFields {
  readonly code?: unknown;
  readonly errno?: unknown;
  readonly message?: unknown;
}

/** Whether the refused login ran over TLS, when the caller knows (a MySQL REQUIRE SSL account refuses a plaintext one). */
function tlsOf(context: DriverErrorContext): { tls?: boolean } {
  return context.tls !== undefined ? { tls: context.tls } : {};
}

/** Maps a failed login (connect + authenticate) to a typed error naming the engine and the credential. */
export function classifyConnectError(raw: unknown, context: DriverErrorContext): ToolkitError {
  if (raw instanceof ToolkitError) return raw;
  // MariaDB's numbers under MariaDB's names (mysql2 names them from MySQL's table).
  const err = context.family === 'mysql' ? renamedMysqlError(raw, mysqlErrorCode(raw, undefined, true)) : raw;
  const ctx = { secretId: context.secretId, step: context.step, cause: err };
  const who = `${engineName(context.family)} login with the ${context.role} secret`;
  const code = codeOf(err);
  if (context.family === 'postgres' && isPostgresLoginRefusalCode(code)) {
    // The code alone rarely tells the cause: the message names what it can stand for.
    const reason = postgresRefusalReasonFromCode(code);
    const causes = postgresRefusalCauses(code);
    // A code that tells one cause is the diagnosis itself, with or without a master.
    const detail = reason !== 'undetermined' && causes !== undefined ? { detail: `${code}: ${causes}` } : {};
    return new AuthenticationError(`${who} was refused (${code}: ${causes})`, { ...ctx, reason, ...detail, ...tlsOf(context) });
  }
  if (isAuthCode(err, context.family)) {
    const reason = context.family === 'postgres' ? postgresRefusalReasonFromCode(code) : mysqlLoginReason(err, code);
    const why = reason === 'undetermined' ? '' : `: ${REFUSAL_REASON_TEXT[reason]}`;
    const detail = context.family === 'mysql' ? mysqlRefusalDetail(err) : undefined;
    return new AuthenticationError(`${who} was refused${why} (${code})`, {
      ...ctx,
      reason,
      ...(detail !== undefined ? { detail } : {}),
      ...tlsOf(context),
    });
  }
  if (isTlsFailure(err)) return new TlsError(`${who} failed to set up TLS (${code ?? 'no TLS on the server'})`, ctx);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new TimeoutError(`${who} timed out (${code})`, ctx);
  if (code !== undefined && NETWORK_CODES.has(code)) return new NetworkError(`${who} could not reach the server (${code})`, ctx);
  return new DatabaseError(`${who} failed (${describeCause(err)})`, ctx);
}

/** Maps a failed statement on an open session; the statement and the driver's message are dropped. */
export function classifyStatementError(err: unknown, context: StatementErrorContext): ToolkitError {
  if (err instanceof ToolkitError) return err;
  const ctx = { secretId: context.secretId, step: context.step, cause: err };
  const who = `${engineName(context.family)} as the ${context.role} user`;
  const code = codeOf(err);
  if (code !== undefined && TIMEOUT_CODES.has(code)) return new TimeoutError(`${who}: ${context.action} timed out (${code})`, ctx);
  if (code !== undefined && NETWORK_CODES.has(code)) {
    return new NetworkError(`${who}: the connection was lost during ${context.action} (${code})`, ctx);
  }
  return new DatabaseError(`${who}: ${context.action} was refused (${describeCause(err)})`, ctx);
}

/**
 * The code behind a failure a session threw: a typed error's cause's code (what the driver said), else
 * the driver error's own (`codeOf`); undefined when there is none.
 */
export function failureCode(err: unknown): string | undefined {
  if (err instanceof ToolkitError) return err.causeSummary?.code;
  return codeOf(err);
}

/** The SQLSTATE (pg), the symbolic code (mysql2, Node) or the errno, as text. */
export function codeOf(err: unknown): string | undefined {
  const e = fieldsOf(err);
  if (e === undefined) return undefined;
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  if (typeof e.code === 'number') return String(e.code);
  if (typeof e.errno === 'number' || typeof e.errno === 'string') return String(e.errno);
  return undefined;
}

function isAuthCode(err: unknown, family: EngineFamily): boolean {
  if (isPostgresAuthFailure(err) || isMysqlAuthFailure(err)) return true;
  const e = fieldsOf(err);
  if (e === undefined) return false;
  if (e.code === MYSQL_DB_ACCESS_DENIED_CODE || e.errno === MYSQL_DB_ACCESS_DENIED_ERRNO) return true;
  // Locked, blocked, expired, plugin: refusals of the account that carry their reason in the code.
  const code = codeOf(err);
  return (
    family === 'mysql' && code !== undefined && (MYSQL_LOGIN_REFUSAL_CODES.has(code) || MYSQL_LOGIN_REFUSAL_CODES.has(String(e.errno)))
  );
}

/** By the symbolic code, else by the number (mysql2's table may lack a newer MySQL name). */
function mysqlLoginReason(err: unknown, code: string | undefined): RefusalReason {
  const byCode = mysqlRefusalReasonFromCode(code);
  const errno = fieldsOf(err)?.errno;
  return byCode !== 'undetermined' || errno === undefined ? byCode : mysqlRefusalReasonFromCode(String(errno));
}

function isTlsFailure(err: unknown): boolean {
  const code = codeOf(err);
  if (code !== undefined) return TLS_CODES.has(code) || TLS_CODE_PREFIXES.some((p) => code.startsWith(p));
  return fieldsOf(err)?.message === PG_NO_SSL_MESSAGE;
}

function describeCause(err: unknown): string {
  const s = summarizeCause(err);
  return s.code !== undefined ? `${s.name} ${s.code}` : s.name;
}

function engineName(family: EngineFamily): string {
  return family === 'postgres' ? 'PostgreSQL' : 'MySQL';
}

function fieldsOf(err: unknown): DriverErrorFields | undefined {
  return err !== null && typeof err === 'object' ? (err as DriverErrorFields) : undefined;
}
