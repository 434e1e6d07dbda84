/**
 * The default MySQL/MariaDB connector, on mysql2. Options come from the connection-options mapper;
 * failures become typed errors through driver-errors, so no driver message (mysql2's errors carry the
 * SQL text, which can hold a password) ever leaves this file.
 */
import { createConnection, type Connection } from 'mysql2/promise';
import { toMysqlConnectionOptions } from '../connection-options';
import type { ConnectRequest, Connector, Row, SqlSession } from '../rotation/engine-strategy';
import { classifyConnectError, classifyStatementError } from './driver-errors';

export const mysqlConnector: Connector = async (request: ConnectRequest): Promise<SqlSession> => {
  const options = toMysqlConnectionOptions(request.secret, {
    tlsMode: request.tlsMode,
    // The rotation already chose the mode (the previous secret logs in with the current one's `ssl`).
    tlsModeFinal: true,
    connectTimeoutMs: request.connectTimeoutMs,
    ...(request.database !== undefined ? { database: request.database } : {}),
    ...(request.caBundlePath !== undefined ? { caBundlePath: request.caBundlePath } : {}),
  });
  let connection: Connection;
  try {
    connection = await createConnection(options);
  } catch (err) {
    throw classifyConnectError(err, { family: 'mysql', role: request.role });
  }
  return mysqlSession(connection, request);
};

function mysqlSession(connection: Connection, request: ConnectRequest): SqlSession {
  // A server-side KILL or a dropped socket must surface as a failed query, not crash the process.
  connection.on('error', () => undefined);
  return {
    async query(sql: string, params?: readonly unknown[]): Promise<readonly Row[]> {
      try {
        const [rows] = await connection.query(sql, params === undefined ? undefined : [...params]);
        return Array.isArray(rows) ? (rows as Row[]) : [];
      } catch (err) {
        throw classifyStatementError(err, { family: 'mysql', role: request.role, action: 'a statement' });
      }
    },
    async close(): Promise<void> {
      try {
        await connection.end();
      } catch {
        connection.destroy();
      }
    },
  };
}
