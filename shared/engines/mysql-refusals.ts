/**
 * Why MySQL or MariaDB refused a login: from the error number alone (what the connector can tell), and from the
 * catalogs as the master (mysql.user, mysql.global_priv), so that only proven drift is healed.
 */
import type { RefusalReason } from '../errors';
import type { PasswordRestore, RefusalDiagnosis, RefusedLogin, ServerInfo, SqlSession } from '../rotation/engine-strategy';

/** The reason a refusal's error number alone gives. */
export function mysqlRefusalReasonFromCode(_code: string | undefined): RefusalReason {
  return 'undetermined';
}

/** As the master: explains a refused login. Reads only. */
export async function diagnoseMysqlRefusal(_session: SqlSession, _server: ServerInfo, refused: RefusedLogin): Promise<RefusalDiagnosis> {
  return { reason: refused.error.reason, detail: 'not diagnosed' };
}

/** As the master: the stored verifiers of every account of the user, to put back exactly; undefined when unreadable. */
export async function saveMysqlPassword(_session: SqlSession, _server: ServerInfo, _username: string): Promise<PasswordRestore | undefined> {
  return undefined;
}
