/**
 * Why an admin login to a local server failed, told apart the way an operator needs it: nothing answers
 * at host:port (start it, or fix PGHOST/PGPORT), the server answered and refused the login (fix the user
 * or password), or something else (named by its code). Decided by error codes only: driver messages are
 * localised and may quote values.
 */
import { isMysqlAuthFailure, isPostgresAuthFailure } from '../shared/auth-errors';
import type { AdminSettings } from './db-settings';

/** Node's codes for "no server answered there". */
const UNREACHABLE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ECONNRESET',
  'EADDRNOTAVAIL',
]);

export type AdminLoginProblemKind = 'unreachable' | 'refused' | 'other';

export interface AdminLoginProblem {
  readonly kind: AdminLoginProblemKind;
  /** The error code that decided it (`ECONNREFUSED`, `28P01`, `1045`…), when there was one. */
  readonly code?: string;
}

/** The kind of failure behind an admin login error. */
export function classifyAdminLoginFailure(err: unknown): AdminLoginProblem {
  const code = errorCode(err);
  if (isPostgresAuthFailure(err) || isMysqlAuthFailure(err)) return { kind: 'refused', ...(code ? { code } : {}) };
  if (code !== undefined && UNREACHABLE_CODES.has(code)) return { kind: 'unreachable', code };
  return { kind: 'other', ...(code ? { code } : {}) };
}

/** What the variables of each engine are called, for the fix in the message. */
const VARIABLES = {
  postgres: { where: 'PGHOST/PGPORT', login: 'PGUSER/PGPASSWORD' },
  mysql: { where: 'MYSQL_HOST/MYSQL_PORT', login: 'MYSQL_USER/MYSQL_PASSWORD' },
} as const;

/**
 * One line naming the server, host AND port, and what to do. `startHint` is how to start the server
 * when nothing answers (e.g. "`npm run db:setup`").
 */
export function describeAdminLoginProblem(
  engine: 'postgres' | 'mysql',
  serverName: string,
  settings: Pick<AdminSettings, 'host' | 'port' | 'user'>,
  problem: AdminLoginProblem,
  startHint: string,
): string {
  const at = `${settings.host}:${settings.port}`;
  const vars = VARIABLES[engine];
  switch (problem.kind) {
    case 'unreachable':
      return `${serverName} is not reachable at ${at} (${problem.code}): start it with ${startHint}, or point ${vars.where} at a running server`;
    case 'refused':
      return `${serverName} refused the admin login of ${settings.user} at ${at}${problem.code ? ` (${problem.code})` : ''}: the server is up; check ${vars.login}`;
    default:
      return `${serverName} admin login of ${settings.user} at ${at} failed (${problem.code ?? 'no error code'}): check ${vars.where} and ${vars.login}`;
  }
}

function errorCode(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; errno?: unknown; errors?: unknown; message?: unknown };
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  // Node's AggregateError (IPv4 and IPv6 both refused) keeps the codes on the inner errors.
  if (Array.isArray(e.errors)) {
    const inner = e.errors.map(errorCode).find((c) => c !== undefined);
    if (inner !== undefined) return inner;
  }
  // pg's own connect timeout carries no code; its wording is pg's, not the server's.
  if (typeof e.message === 'string' && /connection timeout/i.test(e.message)) return 'ETIMEDOUT';
  return typeof e.errno === 'number' ? String(e.errno) : undefined;
}
