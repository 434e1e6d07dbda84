/**
 * The default PostgreSQL connector, on `pg`: typed failures, an 'error' listener so a server-side kill
 * cannot crash the process, and a connect timeout that is a TimeoutError. pg itself is required on the
 * first login, not at import: a bundled CommonJS module runs its initialisation when first required,
 * so an application that imports `shared/` (the reader, the pools) pays for pg only when it logs in.
 * The rotation Lambda calls `loadPostgresDriver` during its init instead (see there).
 *
 * Closing does not wait for the server: pg's `end()` resolves only once the server has closed the
 * socket after the Terminate message (a round trip plus the backend's exit, about 5 ms a session on
 * loopback, three sessions a rotation). `close()` returns once the goodbye has been handed to the
 * kernel; the socket finishes closing in the background, with the 'error' listener still attached, and
 * is destroyed if the server has not closed it within `closeBackstopMs`.
 *
 * Sessions run in pg's pipeline mode: statements a caller issues without awaiting the previous one
 * are written at once and answered in order, so independent reads cost one round trip.
 */
import type { Socket } from 'node:net';
import type * as Pg from 'pg';
import { MAX_VERIFIED_ITERATIONS } from './password-hashes';
import { toPgClientConfig } from '../connection-options';
import { DatabaseError, NetworkError, TimeoutError } from '../errors';
import { withinTimeLimit } from '../time-limit';
import type { ConnectRequest, Connector, Row, SqlSession } from '../rotation/database-engine';
import { classifyConnectError, classifyStatementError, codeOf } from './driver-errors';
import { PROTOCOL_VIOLATION } from './postgres-error-codes';

let pg: typeof Pg | undefined;

function loadPg(): typeof Pg {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  pg ??= require('pg') as typeof Pg;
  return pg;
}

/**
 * Loads pg now rather than at the first login: for the rotation Lambda's module initialisation, which
 * Lambda runs before the first invocation (with the function's full CPU allocation during the init
 * phase). Requiring pg also loads what it needs from Node (net, WebCrypto for SCRAM) and, on Node
 * releases without a `navigator` global (before 21), Node's fetch implementation, which pg's runtime
 * check touches. The first rotation then no longer pays for it inside its setSecret. Idempotent; loads
 * nothing else and opens no connection.
 */
export function loadPostgresDriver(): void {
  loadPg();
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
  on(event: string, listener: (message: unknown) => void): unknown;
}

/**
 * Every rotation session's own time limits, as startup options (see `connect`). A role's, database's or
 * server's defaults made for the application (`ALTER ROLE app SET statement_timeout = '50ms'`,
 * `idle_in_transaction_session_timeout`, `lock_timeout`) would otherwise cancel the rotation's catalog
 * reads, its password transaction or testSecret's statement on every attempt, or, after a heal, leave
 * the changed password unproven. The rotation's own deadline bounds the client side; these bound the
 * server side for a session the function abandons (a frozen or timed-out Lambda), and outrank the
 * defaults. Only the session is affected: the role's settings stay as the DBA set them. Every server
 * this toolkit supports knows these three; idle_session_timeout (PostgreSQL 14+) is set after the login
 * (see `IDLE_SESSION_SQL`).
 */
export const ROTATION_SESSION_OPTIONS = '-c statement_timeout=60000 -c lock_timeout=10000 -c idle_in_transaction_session_timeout=30000';

/** The master's session settings, as startup options (see `connect`): itself, names from pg_catalog only. */
export const MASTER_SESSION_OPTIONS = `-c role=none -c search_path=pg_catalog ${ROTATION_SESSION_OPTIONS}`;

/**
 * idle_session_timeout, off for the rotation's session: a role default would end a session the rotation
 * holds while it waits on Secrets Manager or the master. Not a startup option: a server before
 * PostgreSQL 14 refuses a login that names a setting it does not know. Sent at once, pipelined, when
 * the server's version (reported at login) has it.
 */
const IDLE_SESSION_SQL = 'SET idle_session_timeout = 0';

/** The first major release with idle_session_timeout. */
const IDLE_SESSION_TIMEOUT_FROM_MAJOR = 14;

/** pg's `scramMaxIterations` for the rotation's own logins (see `connect`). */
const scramBound: object = { scramMaxIterations: MAX_VERIFIED_ITERATIONS };

/** How `postgresConnector` ends sessions. */
export interface PostgresConnectorOptions {
  /**
   * Wait in `close()` until the server has closed the socket (pg's own `end()`), as before: kept for the
   * benchmark's before/after of this lever. @default false
   */
  readonly awaitServerClose?: boolean;
  /** How long a closed session's socket may wait for the server's close before it is destroyed. @default 2000 */
  readonly closeBackstopMs?: number;
}

const DEFAULT_CLOSE_BACKSTOP_MS = 2_000;

/** The goodbye has left this process: the socket's writable side finished, or the socket is gone. */
function goodbyeSent(stream: Socket): Promise<void> {
  if (stream.writableFinished || stream.destroyed) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('finish', done);
      stream.off('close', done);
      resolve();
    };
    stream.once('finish', done);
    stream.once('close', done);
  });
}

/**
 * A PostgreSQL connector (see the module comment).
 * @throws nothing itself; its logins reject with AuthenticationError, NetworkError, TimeoutError or TlsError
 */
export function postgresConnector(options: PostgresConnectorOptions = {}): Connector {
  const closeBackstopMs = options.closeBackstopMs ?? DEFAULT_CLOSE_BACKSTOP_MS;
  return (request) => connect(request, options.awaitServerClose === true, closeBackstopMs);
}

/** The default PostgreSQL connector: `postgresConnector()` with its defaults. */
export const connectPostgres: Connector = postgresConnector();

async function connect(request: ConnectRequest, awaitServerClose: boolean, closeBackstopMs: number): Promise<SqlSession> {
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
  // The master's startup options are kept as they are: a master that could not act as itself with
  // pg_catalog first is refused (see MASTER_SESSION_OPTIONS). The other roles' time limits are a
  // convenience a connection pooler may refuse (PgBouncer answers an `options` it does not track with
  // 08P01 "unsupported startup parameter"): the login is then made again without them.
  const attempts = request.role === 'master' ? [MASTER_SESSION_OPTIONS] : [ROTATION_SESSION_OPTIONS, undefined];
  let opened: OpenedLogin | undefined;
  for (const [i, options] of attempts.entries()) {
    const progress = { authenticated: false };
    try {
      opened = await openLogin(request, config, options, progress);
      break;
    } catch (err) {
      if (i + 1 < attempts.length && refusedStartupOptions(err)) continue;
      // Past the SSLRequest, a refusal ran over TLS exactly when TLS was asked for (a server without TLS fails earlier).
      const failure = classifyConnectError(err, { ...errorContext, tls: config.ssl !== undefined && config.ssl !== false });
      throw progress.authenticated && failure instanceof DatabaseError ? startFailure(request, err, failure) : failure;
    }
  }
  if (opened === undefined) throw new Error('unreachable: every login attempt either returns or throws');
  const { client, authentication, serverMajor, lostCode } = opened;
  if (serverMajor !== undefined && serverMajor >= IDLE_SESSION_TIMEOUT_FROM_MAJOR) {
    // Pipelined: the caller's first statement follows at once, without waiting for this one. A failure
    // here (a lost connection) is what that statement reports.
    client.query(IDLE_SESSION_SQL).catch(() => undefined);
  }
  let closed = false;
  let inFlight = 0;
  const session: SqlSession = {
    login: { authentication },
    async query(sql: string, params?: readonly unknown[]): Promise<readonly Row[]> {
      inFlight += 1;
      try {
        const result = await client.query(sql, params === undefined ? undefined : [...params]);
        return result.rows as Row[];
      } catch (err) {
        if (lostCode() !== undefined && codeOf(err) === undefined) {
          throw new NetworkError(`PostgreSQL as the ${request.role} user: the connection was lost (${lostCode()})`, {
            ...errorContext,
            cause: { name: 'ConnectionLost', code: lostCode() },
          });
        }
        throw classifyStatementError(err, { ...errorContext, action: 'a statement' });
      } finally {
        inFlight -= 1;
      }
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const stream = client.connection.stream as Socket;
      // A statement still running (given up at the deadline): the server reads the goodbye only when it
      // ends, so drop the socket now; the server then ends the backend and rolls its transaction back.
      if (inFlight > 0) {
        stream.destroy();
        return;
      }
      const ended = client.end().catch(() => undefined);
      if (awaitServerClose) {
        await ended;
        return;
      }
      // A server that never closes its side must not leave a half-open socket in the container.
      const backstop = setTimeout(() => stream.destroy(), closeBackstopMs);
      backstop.unref();
      void ended.then(() => clearTimeout(backstop));
      await goodbyeSent(stream);
    },
  };
  return session;
}

/** A login the server accepted, with what the session needs to know about it. */
interface OpenedLogin {
  readonly client: Pg.Client;
  readonly authentication: PostgresLoginAuthentication;
  /** The server's major version, from its server_version report at login; undefined when not reported. */
  readonly serverMajor: number | undefined;
  /** Why the connection ended, once it has (the next statement then reports a lost connection). */
  readonly lostCode: () => string | undefined;
}

/**
 * One login with `options` as the startup options. Rejects with pg's own error (the caller classifies
 * it), a TimeoutError past the connect timeout; the socket of a failed login is destroyed.
 */
async function openLogin(
  request: ConnectRequest,
  config: ReturnType<typeof toPgClientConfig>,
  options: string | undefined,
  progress: { authenticated: boolean },
): Promise<OpenedLogin> {
  const errorContext = { family: 'postgres' as const, role: request.role, secretId: request.secretId, step: request.step };
  // pg's own timeout fires a little later as a backstop; ours reports a TimeoutError rather than a
  // codeless "timeout expired".
  const client = new (loadPg().Client)({
    ...config,
    connectionTimeoutMillis: request.connectTimeoutMs + 1_000,
    application_name: APPLICATION_NAME,
    // Statements issued together (the alternate user's reads) go out together, one round trip; one at
    // a time, as everywhere else, behaves exactly as without it (each statement has its own Sync).
    pipeline: true,
    // Startup options outrank the role's and the database's defaults, and cost no round trip (see
    // MASTER_SESSION_OPTIONS and ROTATION_SESSION_OPTIONS).
    ...(options !== undefined ? { options } : {}),
    // pg refuses a SCRAM challenge of more than 100000 rounds by default; a DBA's scram_iterations can
    // exceed it (OWASP suggests 600000). The rotation logs in up to the bound it verifies at, and the
    // verifiers it writes stay within pg's default (PG_CLIENT_MAX_SCRAM_ITERATIONS). Not in @types/pg.
    ...scramBound,
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
  events?.once('authenticationOk', () => (progress.authenticated = true));
  let serverMajor: number | undefined;
  events?.on('parameterStatus', (msg: unknown) => {
    const { parameterName, parameterValue } = msg as { parameterName?: string; parameterValue?: string };
    if (parameterName === 'server_version') serverMajor = Number.parseInt(String(parameterValue), 10);
  });
  try {
    await withinTimeLimit(
      request.connectTimeoutMs,
      () => client.connect(),
      () =>
        new TimeoutError(`PostgreSQL login with the ${request.role} secret timed out after ${request.connectTimeoutMs} ms`, errorContext),
    );
  } catch (err) {
    // Not a graceful end(): a server that never answered the login would never answer the goodbye
    // either, and the socket would stay open in the container.
    client.connection.stream.destroy();
    throw err;
  }
  return { client, authentication, serverMajor, lostCode: () => lostCode };
}

/**
 * What the server's codes for a session that could not start after the password was accepted point at:
 * settings of the role or the database (`ALTER ROLE … SET session_preload_libraries`) that the session
 * applies as it starts.
 */
const START_FAILURE_HINTS: Readonly<Record<string, string>> = {
  '58P01': 'a file the server needs is missing, such as a library named in session_preload_libraries or local_preload_libraries',
  '58P02': 'a file the server needs is missing, such as a library named in session_preload_libraries or local_preload_libraries',
  '57P03': 'the server is starting up or shutting down',
};

/**
 * A login whose password the server accepted (AuthenticationOk) and whose session then failed to start:
 * not a refusal of the credentials, so no other password would do better. Says so, with the code and what
 * it points at; never the server's text.
 */
function startFailure(request: ConnectRequest, raw: unknown, failure: DatabaseError): DatabaseError {
  const code = codeOf(raw) ?? 'no code';
  const hint = START_FAILURE_HINTS[code];
  return new DatabaseError(
    `PostgreSQL login with the ${request.role} secret: the server accepted the password, then could not start the session ` +
      `(${code}${hint !== undefined ? `: ${hint}` : ''}); check the settings of the role and of the database (pg_db_role_setting)`,
    { secretId: failure.secretId, step: failure.step, cause: raw },
  );
}

/** A pooler's refusal of startup options it does not pass on (PgBouncer: 08P01 "unsupported startup parameter"). */
function refusedStartupOptions(err: unknown): boolean {
  return codeOf(err) === PROTOCOL_VIOLATION && /startup parameter/i.test(err instanceof Error ? err.message : '');
}
