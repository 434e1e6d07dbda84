/**
 * The default PostgreSQL connector, on `pg`: typed failures, an 'error' listener so a server-side kill
 * cannot crash the process, and a connect timeout that is a TimeoutError. pg itself is required on the
 * first login, not at import: a bundled CommonJS module runs its initialisation when first required,
 * so the Lambda's init does not pay for it.
 */
import type * as Pg from 'pg';
import { toPgClientConfig } from '../connection-options';
import { NetworkError, TimeoutError } from '../errors';
import type { ConnectRequest, Connector, Row, SqlSession } from '../rotation/database-engine';
import { classifyConnectError, classifyStatementError, codeOf } from './driver-errors';

let pg: typeof Pg | undefined;

function loadPg(): typeof Pg {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  pg ??= require('pg') as typeof Pg;
  return pg;
}

const APPLICATION_NAME = 'secrets-manager-rotation';

/**
 * How the server authenticated a login: `scram` (SASL SCRAM-SHA-256, which succeeds only against a
 * stored SCRAM verifier), `md5` (an md5 challenge: the pg_hba line is md5 and the stored password an
 * md5 hash), `password` (cleartext, checked against either), `none` (trust and the like).
 */
export type PostgresLoginAuthentication = 'scram' | 'md5' | 'password' | 'none';


/**
 * How the server authenticated the login behind `session`, when this connector opened it (undefined for
 * a session from another connector or a wrapper): what the password change needs to keep a verifier
 * kind the login proved usable.
 */
export function postgresLoginAuthentication(session: SqlSession): PostgresLoginAuthentication | undefined {
  return session.login?.authentication;
}

interface AuthenticationEvents {
  once(event: string, listener: () => void): unknown;
}

export const connectPostgres: Connector = async (request: ConnectRequest): Promise<SqlSession> => {
  const errorContext = { family: 'postgres' as const, role: request.role, secretId: request.secretId, step: request.step };
  const config = toPgClientConfig(request.secret, {
    tlsMode: request.tlsMode,
    // The rotation already chose the mode (the previous secret logs in with the current one's `ssl`).
    tlsModeFinal: true,
    connectTimeoutMs: request.connectTimeoutMs,
    ...(request.caBundlePath !== undefined ? { caBundlePath: request.caBundlePath } : {}),
    ...(request.database !== undefined ? { database: request.database } : {}),
    secretId: request.secretId,
    step: request.step,
  });
  // pg's own timeout fires a little later as a backstop; ours reports a TimeoutError rather than a
  // codeless "timeout expired".
  const client = new (loadPg().Client)({
    ...config,
    connectionTimeoutMillis: request.connectTimeoutMs + 1_000,
    application_name: APPLICATION_NAME,
    // The master must act as itself: an `ALTER DATABASE … SET role` (or a role default) would otherwise
    // start its session as another role without the master's rights. A startup option outranks both,
    // and costs no round trip.
    ...(request.role === 'master' ? { options: '-c role=none' } : {}),
  });
  // A connection the server kills while idle fails the NEXT statement with a codeless error; remember
  // why it ended, so that statement reports a lost connection (retryable) and not a refused statement.
  let lostCode: string | undefined;
  client.on('error', (err: unknown) => (lostCode ??= codeOf(err) ?? 'ECONNRESET'));
  client.on('end', () => (lostCode ??= 'ECONNRESET'));
  let authentication: PostgresLoginAuthentication = 'none';
  const events = (client as unknown as { connection?: AuthenticationEvents }).connection;
  events?.once('authenticationSASL', () => (authentication = 'scram'));
  events?.once('authenticationMD5Password', () => (authentication = 'md5'));
  events?.once('authenticationCleartextPassword', () => (authentication = 'password'));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new TimeoutError(`PostgreSQL login with the ${request.role} secret timed out after ${request.connectTimeoutMs} ms`, errorContext)),
      request.connectTimeoutMs,
    );
  });
  try {
    await Promise.race([client.connect(), timeout]);
  } catch (err) {
    // Not a graceful end(): a server that never answered the login would never answer the goodbye
    // either, and the socket would stay open in the container.
    client.connection.stream.destroy();
    throw classifyConnectError(err, errorContext);
  } finally {
    clearTimeout(timer);
  }
  const session: SqlSession = {
    login: { authentication },
    async query(sql: string, params?: readonly unknown[]): Promise<readonly Row[]> {
      try {
        const result = await client.query(sql, params === undefined ? undefined : [...params]);
        return result.rows as Row[];
      } catch (err) {
        if (lostCode !== undefined && codeOf(err) === undefined) {
          throw new NetworkError(`PostgreSQL as the ${request.role} user: the connection was lost (${lostCode})`, {
            ...errorContext,
            cause: { name: 'ConnectionLost', code: lostCode },
          });
        }
        throw classifyStatementError(err, { ...errorContext, action: 'a statement' });
      }
    },
    async close(): Promise<void> {
      await client.end().catch(() => undefined);
    },
  };
  return session;
};
