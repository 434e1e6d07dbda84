/**
 * Test fixtures for the MySQL/MariaDB alternate-user tests: a master like RDS's (every privilege WITH
 * GRANT OPTION, not root), a database with a table, a procedure and two roles, and a "full" account
 * that uses every kind of right and option the equivalence check compares. Every name starts with
 * `myclone_`; `drop()` removes all of it.
 */
import type { Connection } from 'mysql2/promise';
import { connectMysqlAdmin } from '../../local/admin-connections';
import { mysqlAdminSettings } from '../../local/db-settings';
import { fixturePassword, fixtureUsername } from '../../local/fixtures/names';
import { noteSensitive } from '../../local/sensitive-values';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import { mysqlConnector } from '../../shared/engines/mysql-connector';
import { parseDatabaseSecret } from '../../shared/database-secret';
import type { SqlSession } from '../../shared/rotation/database-engine';

export const PREFIX = 'myclone';

/** A fresh user name with the `myclone_` prefix, or another (short enough for `_clone` within MySQL's 32). */
export function cloneTestName(prefix: string = PREFIX): string {
  return fixtureUsername(prefix);
}

/** A fresh password, registered with the suite's leak scan. */
export function cloneTestPassword(): string {
  const pw = `${fixturePassword()}'"\\`;
  noteSensitive(pw);
  return pw;
}

export interface CloneWorld {
  /** The master user's name and password (a login of its own: it grants PROXY on itself). */
  readonly master: { readonly username: string; readonly password: string };
  /** A connection as the master user. */
  readonly masterConnection: Connection;
  readonly db: string;
  readonly roles: readonly [string, string];
  /** The master as a SqlSession (through the product's connector, as in a rotation). */
  session(): Promise<SqlSession>;
  /** Creates `name` with every kind of right and option, at '%' and '10.9.%' (the latter TLS-only and locked). */
  createFullAccount(name: string, password: string): Promise<void>;
  drop(extraUsers?: readonly string[]): Promise<void>;
}

/**
 * Sets up the master, database and roles. `admin` is a root connection; `prefix` starts every name
 * (default `myclone`).
 */
export async function createCloneWorld(admin: Connection, prefix: string = PREFIX): Promise<CloneWorld> {
  const master = { username: cloneTestName(prefix), password: cloneTestPassword() };
  const db = `${cloneTestName(prefix)}_db`;
  await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [master.username, '%', mysqlNativePasswordHash(master.password)]);
  await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']);
  const s = mysqlAdminSettings();
  const { createConnection } = await import('mysql2/promise');
  const masterConnection = await createConnection({
    host: s.host,
    port: s.port,
    user: master.username,
    password: master.password,
    charset: 'utf8mb4',
  });
  masterConnection.on('error', () => undefined);
  const roles: [string, string] = [`${master.username}_r1`, `${master.username}_r2`];
  const id = (n: string): string => masterConnection.escapeId(n);
  await masterConnection.query(`CREATE DATABASE ${id(db)}`);
  await masterConnection.query(`CREATE TABLE ${id(db)}.t (a INT, b INT)`);
  await masterConnection.query(`CREATE PROCEDURE ${id(db)}.p() SELECT 1`);
  for (const role of roles) await masterConnection.query('CREATE ROLE ?', [role]);
  await masterConnection.query(`GRANT SELECT ON ${id(db)}.t TO ?`, [roles[0]]);

  return {
    master,
    masterConnection,
    db,
    roles,
    async session(): Promise<SqlSession> {
      const secret = parseDatabaseSecret({
        engine: 'mariadb',
        host: s.host,
        port: s.port,
        username: master.username,
        password: master.password,
      });
      return mysqlConnector({ family: 'mysql', secret, role: 'master', tlsMode: 'disable', connectTimeoutMs: 5000 });
    },
    async createFullAccount(name: string, password: string): Promise<void> {
      const m = masterConnection;
      const hash = m.escape(mysqlNativePasswordHash(password));
      for (const host of ['%', '10.9.%']) {
        const acct = m.format('?@?', [name, host]);
        const tls = host === '%' ? 'REQUIRE NONE' : "REQUIRE SUBJECT '/CN=app one' AND ISSUER '/CN=it''s CA'";
        const lock = host === '%' ? 'ACCOUNT UNLOCK' : 'ACCOUNT LOCK';
        await m.query(
          `CREATE USER ${acct} IDENTIFIED VIA mysql_native_password USING ${hash} OR unix_socket ${tls} ` +
            `WITH MAX_QUERIES_PER_HOUR 1000 MAX_USER_CONNECTIONS 20 MAX_STATEMENT_TIME 2.5 PASSWORD EXPIRE INTERVAL 90 DAY ${lock}`,
        );
        await m.query(`GRANT RELOAD ON *.* TO ${acct}`);
        await m.query(`GRANT SELECT, INSERT ON ${id(db)}.* TO ${acct} WITH GRANT OPTION`);
        await m.query(`GRANT DELETE ON ${id(db)}.t TO ${acct}`);
        await m.query(`GRANT UPDATE (a, b) ON ${id(db)}.t TO ${acct}`);
        await m.query(`GRANT EXECUTE ON PROCEDURE ${id(db)}.p TO ${acct}`);
        await m.query(`GRANT PROXY ON ? TO ${acct}`, [master.username]);
        await m.query(`GRANT ${id(roles[0])} TO ${acct} WITH ADMIN OPTION`);
        await m.query(`GRANT ${id(roles[1])} TO ${acct}`);
        await m.query(`SET DEFAULT ROLE ${id(roles[0])} FOR ${acct}`);
      }
    },
    async drop(extraUsers: readonly string[] = []): Promise<void> {
      await masterConnection.end().catch(() => undefined);
      const names = [master.username, ...extraUsers];
      const [rows] = await admin.query('SELECT User AS u, Host AS h FROM mysql.user WHERE User IN (?)', [names]);
      for (const r of rows as Array<{ u: unknown; h: unknown }>) {
        await admin.query('DROP USER IF EXISTS ?@?', [String(r.u), String(r.h)]);
      }
      for (const role of roles) await admin.query(`DROP ROLE IF EXISTS ${admin.escapeId(role)}`);
      await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(db)}`);
    },
  };
}

/** Drops every host entry of the users. */
export async function dropUsers(admin: Connection, names: readonly string[]): Promise<void> {
  if (names.length === 0) return;
  const [rows] = await admin.query('SELECT User AS u, Host AS h FROM mysql.user WHERE User IN (?)', [names]);
  for (const r of rows as Array<{ u: unknown; h: unknown }>) await admin.query('DROP USER IF EXISTS ?@?', [String(r.u), String(r.h)]);
}

export { connectMysqlAdmin };

/** A user's secret value on the shared MariaDB server, TLS off, with `extra` fields (`masterarn`…). */
export function sharedMariadbSecret(
  user: { username: string; password: string },
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  const s = mysqlAdminSettings();
  return { engine: 'mariadb', host: s.host, port: s.port, username: user.username, password: user.password, ssl: false, ...extra };
}
