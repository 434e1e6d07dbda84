/**
 * What MySQL-family server a session talks to, from the server's own answers: VERSION(),
 * @@version_comment, and the `aurora_version` variable that only Aurora MySQL has. The password
 * syntax and the user-name limit depend on it, so it is never guessed from the secret's `engine`.
 */
import { DatabaseError, ToolkitError } from '../errors';
import type { Row, ServerInfo, SqlSession } from '../rotation/database-engine';
import { columnText as text, greetingVersion } from './mysql-connector';

/**
 * The oldest servers whose account statements this engine can express (CREATE USER IF NOT EXISTS,
 * ALTER USER … REQUIRE).
 */
export const MINIMUM_VERSIONS = { mysql: [5, 7, 8], mariadb: [10, 2, 0] } as const;

/** Parses what the server reported. `auroraVersion` is `@@aurora_version` when the variable exists. */
export function parseMysqlServerInfo(version: string, comment = '', auroraVersion?: string): ServerInfo {
  const mariadb = /mariadb/i.test(version) || /mariadb/i.test(comment);
  // Old MariaDB releases prefix "5.5.5-" for the sake of MySQL 5.5 clients.
  const numeric = mariadb ? version.replace(/^5\.5\.5-/, '') : version;
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(numeric);
  if (m === null) throw new DatabaseError('The MySQL server reported a version this toolkit cannot read');
  return {
    flavor: mariadb ? 'mariadb' : 'mysql',
    aurora: !mariadb && ((auroraVersion ?? '') !== '' || /mysql_aurora/i.test(version)),
    major: Number(m[1]),
    minor: Number(m[2]),
    patch: Number(m[3] ?? 0),
    version,
  };
}

/**
 * Reads the server behind a session. A session whose password has expired may run no SELECT
 * (ER_MUST_CHANGE_PASSWORD): the version the server announced when the default connector logged in
 * answers instead.
 */
export async function readMysqlServerInfo(session: SqlSession): Promise<ServerInfo> {
  let rows: readonly Row[];
  try {
    rows = await session.query('SELECT VERSION() AS version, @@version_comment AS comment');
  } catch (err) {
    const greeting = greetingVersion(session);
    const code = err instanceof ToolkitError ? err.causeSummary?.code : undefined;
    if (greeting === undefined || (code !== 'ER_MUST_CHANGE_PASSWORD' && code !== '1820')) throw err;
    return parseMysqlServerInfo(greeting);
  }
  const version = text(rows[0]?.version);
  const comment = text(rows[0]?.comment);
  if (/mariadb/i.test(version) || /mariadb/i.test(comment)) return parseMysqlServerInfo(version, comment);
  // SHOW VARIABLES answers with no row where the variable does not exist, instead of failing.
  const aurora = await session.query("SHOW GLOBAL VARIABLES LIKE 'aurora\\_version'");
  return parseMysqlServerInfo(version, comment, aurora.length > 0 ? text(aurora[0]?.Value) : undefined);
}

/** True when the server is at least the given version. */
export function atLeast(server: ServerInfo, major: number, minor: number, patch = 0): boolean {
  if (server.major !== major) return server.major > major;
  if (server.minor !== minor) return server.minor > minor;
  return server.patch >= patch;
}

/** Fails for servers older than MINIMUM_VERSIONS, naming the version found. */
export function assertSupportedServer(server: ServerInfo): void {
  const [major, minor, patch] = server.flavor === 'mariadb' ? MINIMUM_VERSIONS.mariadb : MINIMUM_VERSIONS.mysql;
  if (server.flavor === 'postgres' || !atLeast(server, major, minor, patch)) {
    throw new DatabaseError(
      `${describeServer(server)} is not supported for rotation: MySQL ${MINIMUM_VERSIONS.mysql.join('.')}+ or MariaDB ${MINIMUM_VERSIONS.mariadb.join('.')}+ is required`,
    );
  }
}

export function describeServer(server: ServerInfo): string {
  const name = server.flavor === 'mariadb' ? 'MariaDB' : server.aurora ? 'Aurora MySQL' : 'MySQL';
  return `${name} ${server.major}.${server.minor}.${server.patch}`;
}
