/**
 * The default MySQL/MariaDB connector, on mysql2. Options come from the connection-options mapper;
 * failures become typed errors through driver-errors, so no driver message (mysql2's errors carry the
 * SQL text, which can hold a password) ever leaves this file.
 *
 * mysql2 is required on the first login, not at import: a bundled CommonJS module runs its
 * initialisation when first required, so an application that imports `shared/` (the reader, the
 * pools) pays for the driver only when it logs in. `escapeMysql` gives the SQL builders mysql2's
 * `escape` on the same terms. The rotation Lambda calls `loadMysqlDriver` during its init instead.
 *
 * Three things the rotation needs from a login that mysql2 does not hand out by itself:
 * - the client announces CAN_HANDLE_EXPIRED_PASSWORDS, so an account whose password has expired gets a
 *   restricted session in which it may set a new one (MySQL would otherwise refuse the login with 1862
 *   when disconnect_on_expired_password is on): that is how an expired password is renewed;
 * - the version the server announced in its greeting, kept per session (`greetingVersion`): an expired
 *   session may run no SELECT, not even `SELECT VERSION()`;
 * - the name of an authentication plugin the server asks for and mysql2 lacks (ed25519, PAM's dialog),
 *   recorded by asking mysql2's plugin lookup, so the refusal names it instead of a bare
 *   AUTH_SWITCH_PLUGIN_ERROR.
 */
import type * as Mysql2 from 'mysql2';
import type { Connection } from 'mysql2/promise';
import { toMysqlConnectionOptions } from '../connection-options';
import type { ConnectRequest, Connector, Row, SqlSession } from '../rotation/database-engine';
import { AuthenticationError, NetworkError, REFUSAL_REASON_TEXT } from '../errors';
import { classifyConnectError, classifyStatementError, codeOf } from './driver-errors';
import { mysqlErrorCode, renamedMysqlError } from './mysql-error-codes';

let mysql2: typeof Mysql2 | undefined;

function loadMysql2(): typeof Mysql2 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mysql2 ??= require('mysql2') as typeof Mysql2;
  return mysql2;
}

/**
 * Loads mysql2 now rather than at the first login, with the promise wrapper its connections load on
 * first use (`connection.promise()`): for the rotation Lambda's module initialisation, which Lambda
 * runs before the first invocation (with the function's full CPU allocation during the init phase), so
 * the first rotation no longer pays for it inside its setSecret. Idempotent; opens no connection.
 */
export function loadMysqlDriver(): void {
  loadMysql2();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  require('mysql2/promise');
}

/** mysql2's `escape` of a string (a quoted, backslash-escaped literal), with the driver loaded on first use. */
export function escapeMysql(value: string): string {
  return loadMysql2().escape(value);
}

/** A column as text: mysql2 returns binary-collated columns (grant tables, SHOW output) as Buffers. */
export function columnText(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return value === undefined || value === null ? '' : String(value);
}

/** The server version a session's server announced in its greeting; undefined for other sessions. */
export function greetingVersion(session: SqlSession): string | undefined {
  return session.login?.serverVersion;
}

/** The plugins mysql2 implements itself; any other name the server asks for is one it lacks. */
const MYSQL2_PLUGINS: ReadonlySet<string> = new Set([
  'mysql_native_password',
  'caching_sha2_password',
  'sha256_password',
  'mysql_clear_password',
]);

/**
 * An `authPlugins` map that holds no plugin and notes every client plugin mysql2 looks up: the last
 * name outside mysql2's own set is the one it could not answer.
 */
function pluginRecorder(asked: string[]): Record<string, never> {
  return new Proxy(Object.create(null) as Record<string, never>, {
    getOwnPropertyDescriptor(_target, name) {
      if (typeof name === 'string' && /^[A-Za-z0-9_]{1,64}$/.test(name)) asked.push(name);
      return undefined;
    },
  });
}

interface Greeting {
  readonly serverVersion?: unknown;
}

/**
 * mysql2 options of every rotation session. `maxPreparedStatements`: mysql2 gives each connection a
 * prepared-statement cache whose four arrays are allocated and filled at its size (16,000 by default)
 * on every login; the rotation never prepares a statement (`query`, not `execute`), so a cache of one.
 */
export const MYSQL_SESSION_OPTIONS = { maxPreparedStatements: 1 } as const;

/**
 * A MySQL connector whose sessions get `sessionOptions` on top of the mapped options (the benchmark
 * compares mysql2's defaults, `{}`, with `MYSQL_SESSION_OPTIONS`).
 * @throws nothing itself; its logins reject with typed errors (driver-errors)
 */
export function mysqlConnectorWith(sessionOptions: Readonly<Record<string, unknown>> = MYSQL_SESSION_OPTIONS): Connector {
  return (request) => connectMysql(request, sessionOptions);
}

/** The default MySQL connector: `mysqlConnectorWith(MYSQL_SESSION_OPTIONS)`. */
export const mysqlConnector: Connector = mysqlConnectorWith();

/**
 * Logs in with mysql2 and returns a session whose failures are typed errors (see the module comment).
 * @throws AuthenticationError (with its `reason`), NetworkError, TimeoutError, TlsError, DatabaseError.
 */
async function connectMysql(request: ConnectRequest, sessionOptions: Readonly<Record<string, unknown>>): Promise<SqlSession> {
  const options = toMysqlConnectionOptions(request.secret, {
    tlsMode: request.tlsMode,
    // The rotation already chose the mode (the previous secret logs in with the current one's `ssl`).
    tlsModeFinal: true,
    connectTimeoutMs: request.connectTimeoutMs,
    ...(request.database !== undefined ? { database: request.database } : {}),
    ...(request.caBundlePath !== undefined ? { caBundlePath: request.caBundlePath } : {}),
  });
  // Assigned, not spread: the mapped object keeps its password-redacting inspect.
  Object.assign(options, sessionOptions);
  const asked: string[] = [];
  const flags = Array.isArray(options.flags) ? options.flags : typeof options.flags === 'string' ? [options.flags] : [];
  options.flags = [...flags, 'CAN_HANDLE_EXPIRED_PASSWORDS'];
  options.authPlugins = pluginRecorder(asked);
  const context = { family: 'mysql' as const, role: request.role, secretId: request.secretId, step: request.step };
  let connection: Connection;
  let version: string | undefined;
  try {
    const core = loadMysql2().createConnection(options);
    const greeting = await new Promise<Greeting | undefined>((resolve, reject) => {
      core.once('connect', (handshake: Greeting | undefined) => resolve(handshake));
      core.once('error', reject);
    });
    core.on('error', () => undefined);
    version = typeof greeting?.serverVersion === 'string' ? greeting.serverVersion : undefined;
    connection = core.promise();
  } catch (err) {
    // Whether the refused login ran over TLS: a REQUIRE SSL account refuses a plaintext login whatever the password.
    const failure = classifyConnectError(err, { ...context, tls: options.ssl !== undefined });
    const plugin = asked.filter((name) => !MYSQL2_PLUGINS.has(name)).at(-1);
    if (failure instanceof AuthenticationError && failure.reason === 'unsupported-auth-plugin' && plugin !== undefined) {
      const detail = `the server asks for the ${plugin} client plugin, which mysql2 does not implement`;
      throw new AuthenticationError(
        `MySQL login with the ${request.role} secret was refused: ${REFUSAL_REASON_TEXT['unsupported-auth-plugin']} (${detail})`,
        {
          ...context,
          reason: 'unsupported-auth-plugin',
          detail,
          cause: { name: 'Error', code: failure.causeSummary?.code ?? 'AUTH_SWITCH_PLUGIN_ERROR' },
        },
      );
    }
    throw failure;
  }
  return mysqlSession(connection, request, version);
}

function mysqlSession(connection: Connection, request: ConnectRequest, version: string | undefined): SqlSession {
  const context = { family: 'mysql' as const, role: request.role, secretId: request.secretId, step: request.step };
  const flavor = version === undefined ? undefined : /mariadb/i.test(version) ? ('mariadb' as const) : ('mysql' as const);
  // A server-side KILL or a dropped socket must surface as a failed query, not crash the process; the
  // next statement then fails without a useful code, so remember why the connection ended.
  let lostCode: string | undefined;
  connection.on('error', (err: unknown) => (lostCode ??= codeOf(err) ?? 'PROTOCOL_CONNECTION_LOST'));
  connection.on('end', () => (lostCode ??= 'PROTOCOL_CONNECTION_LOST'));
  let inFlight = 0;
  return {
    ...(version !== undefined ? { login: { serverVersion: version } } : {}),
    async query(sql: string, params?: readonly unknown[]): Promise<readonly Row[]> {
      inFlight += 1;
      try {
        const [rows] = await connection.query(sql, params === undefined ? undefined : [...params]);
        return Array.isArray(rows) ? (rows as Row[]) : [];
      } catch (err) {
        if (lostCode !== undefined && codeOf(err) === undefined) {
          throw new NetworkError(`MySQL as the ${request.role} user: the connection was lost (${lostCode})`, {
            ...context,
            cause: { name: 'ConnectionLost', code: lostCode },
          });
        }
        throw classifyStatementError(renamedMysqlError(err, mysqlErrorCode(err, flavor)), { ...context, action: 'a statement' });
      } finally {
        inFlight -= 1;
      }
    },
    async close(): Promise<void> {
      // mysql2 queues QUIT behind a running statement: one that never ends (the deadline gave up on
      // it) would keep the socket open forever, so drop the connection instead.
      if (inFlight > 0) {
        connection.destroy();
        return;
      }
      try {
        await connection.end();
      } catch {
        connection.destroy();
      }
    },
  };
}
