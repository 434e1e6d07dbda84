/**
 * Before anything is created: can the admin log in to each server the run needs? One line per problem,
 * saying how to fix it; never the password.
 */
import { isMysqlAuthFailure, isPostgresAuthFailure } from '../../shared/auth-errors';
import { connectMysqlAdmin, connectPostgresAdmin } from '../admin-connections';
import { mysqlAdminSettings, postgresAdminSettings, type Env } from '../db-settings';
import type { EngineFamily } from '../../shared/database-secret';

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET']);

/** Undefined when the admin logs in; otherwise the one line to show. */
export async function databaseProblem(engine: EngineFamily, env: Env, startHint: string): Promise<string | undefined> {
  const settings = engine === 'postgres' ? postgresAdminSettings(env) : mysqlAdminSettings(env);
  const name = engine === 'postgres' ? 'PostgreSQL' : 'MySQL';
  const vars = engine === 'postgres' ? 'PGUSER/PGPASSWORD' : 'MYSQL_USER/MYSQL_PASSWORD';
  const where = `${settings.host}:${settings.port}`;
  try {
    if (engine === 'postgres') await (await connectPostgresAdmin(env, 3000)).end();
    else await (await connectMysqlAdmin(env, 3000)).end();
    return undefined;
  } catch (err) {
    const code = errorCode(err);
    if (code !== undefined && UNREACHABLE.has(code)) {
      return `${name} is not reachable at ${where} (${code}): start it with ${startHint}`;
    }
    if (isPostgresAuthFailure(err) || isMysqlAuthFailure(err)) {
      return `${name} refused the admin login of ${settings.user} at ${where}: check ${vars}`;
    }
    return `${name} admin login at ${where} failed (${code ?? 'unknown error'}): check ${vars}, or run ${startHint}`;
  }
}

function errorCode(err: unknown): string | undefined {
  if (err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; errno?: unknown; errors?: unknown };
  if (typeof e.code === 'string' && e.code !== '') return e.code;
  // Node's AggregateError (IPv4 and IPv6 both refused) keeps the codes on the inner errors.
  if (Array.isArray(e.errors)) return e.errors.map(errorCode).find((c) => c !== undefined);
  return typeof e.errno === 'number' ? String(e.errno) : undefined;
}
