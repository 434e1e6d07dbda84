/**
 * The default MySQL/MariaDB connector, on mysql2. Options come from the connection-options mapper;
 * failures become typed errors through driver-errors, so no driver message (mysql2's errors carry the
 * SQL text, which can hold a password) ever leaves this file.
 *
 * mysql2 is required on the first login, not at import: a bundled CommonJS module runs its
 * initialisation when first required, so the Lambda's init does not pay for the driver. `escapeMysql`
 * gives the SQL builders mysql2's `escape` on the same terms.
 */
import type * as Mysql2 from 'mysql2';
import type * as Mysql2Promise from 'mysql2/promise';
import type { Connection } from 'mysql2/promise';
import { toMysqlConnectionOptions } from '../connection-options';
import type { ConnectRequest, Connector, Row, SqlSession } from '../rotation/engine-strategy';
import { NetworkError } from '../errors';
import { classifyConnectError, classifyStatementError, codeOf } from './driver-errors';

let mysql2: typeof Mysql2 | undefined;
let mysql2Promise: typeof Mysql2Promise | undefined;

function loadMysql2(): typeof Mysql2 {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mysql2 ??= require('mysql2') as typeof Mysql2;
  return mysql2;
}

function loadMysql2Promise(): typeof Mysql2Promise {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  mysql2Promise ??= require('mysql2/promise') as typeof Mysql2Promise;
  return mysql2Promise;
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
  let connection: Connection;
  try {
    connection = await loadMysql2Promise().createConnection(options);
  } catch (err) {
    throw classifyConnectError(err, { family: 'mysql', role: request.role, secretId: request.secretId, step: request.step });
  }
  return mysqlSession(connection, request);
}

function mysqlSession(connection: Connection, request: ConnectRequest): SqlSession {
  const context = { family: 'mysql' as const, role: request.role, secretId: request.secretId, step: request.step };
  // A server-side KILL or a dropped socket must surface as a failed query, not crash the process; the
  // next statement then fails without a useful code, so remember why the connection ended.
  let lostCode: string | undefined;
  connection.on('error', (err: unknown) => (lostCode ??= codeOf(err) ?? 'PROTOCOL_CONNECTION_LOST'));
  connection.on('end', () => (lostCode ??= 'PROTOCOL_CONNECTION_LOST'));
  let inFlight = 0;
  return {
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
        throw classifyStatementError(err, { ...context, action: 'a statement' });
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
