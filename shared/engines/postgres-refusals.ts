/**
 * Why PostgreSQL refused a login: from the SQLSTATE alone (what the connector can tell), and from the
 * catalogs as the master (pg_roles; pg_authid where readable), so that only proven drift is healed.
 */
import type { RefusalReason } from '../errors';
import type { PasswordRestore, RefusalDiagnosis, RefusedLogin, ServerInfo, SqlSession } from '../rotation/engine-strategy';

/** The reason a refusal's SQLSTATE alone gives. */
export function postgresRefusalReasonFromCode(_code: string | undefined): RefusalReason {
  return 'undetermined';
}

/** As the master: explains a refused login. Reads only. */
export async function diagnosePostgresRefusal(_session: SqlSession, _server: ServerInfo, refused: RefusedLogin): Promise<RefusalDiagnosis> {
  return { reason: refused.error.reason, detail: 'not diagnosed' };
}

/** As the master: the role's stored verifier, to put back exactly; undefined when unreadable. */
export async function savePostgresPassword(_session: SqlSession, _server: ServerInfo, _username: string): Promise<PasswordRestore | undefined> {
  return undefined;
}
