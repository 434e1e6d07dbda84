/**
 * Before anything is created: can the admin log in to each server the run needs? One line per problem,
 * saying how to fix it; never the password.
 */
import { connectMysqlAdmin, connectPostgresAdmin } from '../admin-connections';
import { classifyAdminLoginFailure } from '../admin-login-problem';
import { mysqlAdminSettings, postgresAdminSettings, type Env } from '../db-settings';
import type { EngineFamily } from '../../shared/database-secret';

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
    // The same reading of the failure as db:setup's, by codes only.
    const problem = classifyAdminLoginFailure(err);
    if (problem.kind === 'unreachable') return `${name} is not reachable at ${where} (${problem.code}): start it with ${startHint}`;
    if (problem.kind === 'refused') return `${name} refused the admin login of ${settings.user} at ${where}: check ${vars}`;
    return `${name} admin login at ${where} failed (${problem.code ?? 'unknown error'}): check ${vars}, or run ${startHint}`;
  }
}
