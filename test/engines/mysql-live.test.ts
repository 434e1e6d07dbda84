/**
 * The MySQL engine against the local MariaDB: passwords really change, the clone really gets the
 * current user's host part, grants (with their options) and TLS requirement, and a crash half-way
 * converges on re-run. (That no password reaches the general log is proven on a private MariaDB that
 * logs every statement: test/reliability/server-statement-logs.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mysql2/promise';
import { canLoginMysql, connectMysqlAdmin } from '../../local/admin-connections';
import { mysqlAdminSettings } from '../../local/db-settings';
import { createMysqlUser, type MysqlFixtureUser } from '../../local/fixtures';
import { fixturePassword, fixtureUsername } from '../../local/fixtures/names';
import { noteSensitive } from '../../local/sensitive-values';
import { parseDatabaseSecret } from '../../shared/database-secret';
import { mysqlEngine } from '../../shared/engines/mysql';
import { mysqlConnector } from '../../shared/engines/mysql-connector';
import type { Row, ServerInfo, SqlSession } from '../../shared/rotation/database-engine';

function adminSession(conn: Connection): SqlSession {
  return {
    async query(sql: string): Promise<readonly Row[]> {
      const [rows] = await conn.query(sql);
      return Array.isArray(rows) ? (rows as Row[]) : [];
    },
    close: () => conn.end().catch(() => undefined),
  };
}

function newPassword(): string {
  const pw = `${fixturePassword()}!'"\\x`;
  noteSensitive(pw);
  return pw;
}

async function loginAs(user: { username: string; password: string }): Promise<SqlSession> {
  const s = mysqlAdminSettings();
  const secret = parseDatabaseSecret({ engine: 'mariadb', host: s.host, port: s.port, username: user.username, password: user.password });
  return mysqlConnector({ family: 'mysql', secret, role: 'current', tlsMode: 'disable', connectTimeoutMs: 5000 });
}

async function accountRows(admin: Connection, user: string): Promise<Array<Record<string, string>>> {
  const [rows] = await admin.query(
    'SELECT Host AS host, ssl_type AS sslType, CONVERT(x509_subject USING utf8mb4) AS subject FROM mysql.user WHERE User = ? ORDER BY Host',
    [user],
  );
  return rows as Array<Record<string, string>>;
}

async function grantsOf(admin: Connection, user: string, host: string): Promise<string[]> {
  const [rows] = await admin.query('SHOW GRANTS FOR ?@?', [user, host]);
  return (rows as Array<Record<string, string>>).map((r) => String(Object.values(r)[0]));
}

let admin: Connection;
let master: SqlSession;
let server: ServerInfo;

beforeAll(async () => {
  admin = await connectMysqlAdmin();
  master = adminSession(await connectMysqlAdmin());
  server = await mysqlEngine.serverInfo(master);
});

afterAll(async () => {
  await master.close();
  await admin.end();
});

describe('the mysql2 connector and server info', () => {
  it('reads MariaDB and its version from the server', () => {
    expect(server).toMatchObject({ flavor: 'mariadb', aurora: false });
    expect(server.major).toBeGreaterThanOrEqual(10);
  });

  it('classifies a wrong password as an authentication failure without the password in the error', async () => {
    const user = await createMysqlUser();
    try {
      const wrong = `${user.password}-wrong`;
      const err = await loginAs({ username: user.username, password: wrong }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'AuthenticationError', code: 'AUTH_FAILED' });
      expect(JSON.stringify(err) + String(err)).not.toContain(user.password);
    } finally {
      await user.drop();
    }
  });

  it('a statement error carries no SQL text', async () => {
    const user = await createMysqlUser();
    const session = await loginAs(user);
    try {
      // A throw-away marker, not a real password: the statement itself lands in the server's log.
      const marker = `marker-${randomBytes(9).toString('hex')}`;
      const err = await session.query(`SELECT '${marker}' FROM no_such_table`).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'DATABASE' });
      expect(JSON.stringify(err) + String(err)).not.toContain(marker);
    } finally {
      await session.close();
      await user.drop();
    }
  });
});

describe('setOwnPassword on MariaDB', () => {
  let user: MysqlFixtureUser;
  beforeAll(async () => {
    user = await createMysqlUser();
  });
  afterAll(() => user.drop());

  it('the new password logs in and the old one is refused', async () => {
    const session = await loginAs(user);
    const pw = newPassword();
    try {
      await mysqlEngine.setOwnPassword(session, await mysqlEngine.serverInfo(session), { username: user.username, password: pw });
    } finally {
      await session.close();
    }
    await expect(canLoginMysql(user.username, pw)).resolves.toBe(true);
    await expect(canLoginMysql(user.username, user.password)).resolves.toBe(false);
  });
});

describe('setPasswordAsMaster on MariaDB', () => {
  it('sets the password on every host part of a user whose name needs quoting', async () => {
    const name = `Rt O'Brien "Ü" ${fixtureUsername().slice(-6)}`;
    const user = await createMysqlUser({ username: name, ownDatabase: false });
    try {
      await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [name, '10.9.%', '*0123456789ABCDEF0123456789ABCDEF01234567']);
      const pw = newPassword();
      await mysqlEngine.setPasswordAsMaster(master, server, name, pw);
      await expect(canLoginMysql(name, pw)).resolves.toBe(true);
      await expect(canLoginMysql(name, user.password)).resolves.toBe(false);
      const [rows] = await admin.query('SELECT COUNT(DISTINCT authentication_string) AS n FROM mysql.user WHERE User = ?', [name]);
      expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBe(1);
    } finally {
      await user.drop();
    }
  });
});

describe('syncAlternateUser on MariaDB', () => {
  let user: MysqlFixtureUser;
  let clone: string;
  const extraDb = `rtx_${Date.now().toString(36)}`;

  beforeAll(async () => {
    user = await createMysqlUser({ accountHost: '127.0.0.1' });
    clone = `${user.username}_clone`;
    await admin.query(`CREATE DATABASE ${admin.escapeId(extraDb)}`);
    await admin.query(`CREATE TABLE ${admin.escapeId(extraDb)}.t (a INT, b INT)`);
    await admin.query(`GRANT SELECT, INSERT ON ${admin.escapeId(extraDb)}.* TO ?@? WITH GRANT OPTION`, [user.username, '127.0.0.1']);
    await admin.query(`GRANT UPDATE (a) ON ${admin.escapeId(extraDb)}.t TO ?@?`, [user.username, '127.0.0.1']);
    // A second host part with a TLS requirement (the local server has no TLS, so it is checked in mysql.user).
    await admin.query(`CREATE USER ?@? IDENTIFIED BY PASSWORD ? REQUIRE SUBJECT '/CN=app one' AND ISSUER '/CN=it''s CA'`, [
      user.username,
      '10.9.%',
      '*0123456789ABCDEF0123456789ABCDEF01234567',
    ]);
    await admin.query(`GRANT SELECT ON ${admin.escapeId(extraDb)}.* TO ?@?`, [user.username, '10.9.%']);
  });

  afterAll(async () => {
    await user.drop();
    await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(extraDb)}`);
  });

  it('converges after a crash between CREATE USER and the grants', async () => {
    const pw = newPassword();
    const crashing: SqlSession = {
      async query(sql: string): Promise<readonly Row[]> {
        if (sql.startsWith('GRANT')) throw Object.assign(new Error('simulated crash'), { code: 'ECONNRESET' });
        return master.query(sql);
      },
      close: async () => undefined,
    };
    await expect(
      mysqlEngine.syncAlternateUser(crashing, server, { currentUsername: user.username, alternateUsername: clone, password: pw }),
    ).rejects.toMatchObject({ code: 'NETWORK' });
    // Half-made: the clone exists, but the pending password does not log in yet.
    expect((await accountRows(admin, clone)).map((r) => r.host)).toEqual(['10.9.%', '127.0.0.1']);
    await expect(canLoginMysql(clone, pw)).resolves.toBe(false);

    await mysqlEngine.syncAlternateUser(master, server, { currentUsername: user.username, alternateUsername: clone, password: pw });
    await expect(canLoginMysql(clone, pw)).resolves.toBe(true);
    await expect(canLoginMysql(user.username, user.password)).resolves.toBe(true);
  });

  it('creates the clone at the same host parts, with the grants and their GRANT OPTION', async () => {
    const grants = await grantsOf(admin, clone, '127.0.0.1');
    expect(grants).toEqual(
      expect.arrayContaining([
        `GRANT SELECT, INSERT ON \`${extraDb}\`.* TO \`${clone}\`@\`127.0.0.1\` WITH GRANT OPTION`,
        `GRANT UPDATE (\`a\`) ON \`${extraDb}\`.\`t\` TO \`${clone}\`@\`127.0.0.1\``,
        `GRANT ALL PRIVILEGES ON \`${user.database}\`.* TO \`${clone}\`@\`127.0.0.1\``,
      ]),
    );
    expect(await grantsOf(admin, clone, '10.9.%')).toEqual(
      expect.arrayContaining([`GRANT SELECT ON \`${extraDb}\`.* TO \`${clone}\`@\`10.9.%\``]),
    );
    expect(await accountRows(admin, clone)).toEqual([
      { host: '10.9.%', sslType: 'SPECIFIED', subject: '/CN=app one' },
      { host: '127.0.0.1', sslType: '', subject: '' },
    ]);
  });

  it('re-running for the other direction alternates: the original user gets the clone password', async () => {
    const pw = newPassword();
    await mysqlEngine.syncAlternateUser(master, server, { currentUsername: clone, alternateUsername: user.username, password: pw });
    await expect(canLoginMysql(user.username, pw)).resolves.toBe(true);
    await expect(canLoginMysql(user.username, user.password)).resolves.toBe(false);
    expect(await grantsOf(admin, user.username, '127.0.0.1')).toEqual(
      expect.arrayContaining([`GRANT SELECT, INSERT ON \`${extraDb}\`.* TO \`${user.username}\`@\`127.0.0.1\` WITH GRANT OPTION`]),
    );
  });
});
