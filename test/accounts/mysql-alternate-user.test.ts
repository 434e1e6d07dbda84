/**
 * syncAlternateUser on the local MariaDB, checked with the equivalence check after every sync: the
 * alternate user is the same account as the original (host entries, rights, options, authentication
 * chain), on the first sync and on every later one (revokes stick, options removed from the original
 * are removed from the alternate), grants on dropped objects are skipped with a warning naming them,
 * and a crash after any statement converges on the next run without the pending password logging in
 * before the user is complete.
 */
import type { Connection } from 'mysql2/promise';
import { canLoginMysql } from '../../local/admin-connections';
import { mysqlEngine } from '../../shared/engines/mysql';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import type { Row, ServerInfo, SqlSession } from '../../shared/rotation/database-engine';
import { assertMysqlEquivalent, mysqlDifferences } from '../support/mysql-equivalence';
import {
  cloneTestName,
  cloneTestPassword,
  connectMysqlAdmin,
  createCloneWorld,
  dropUsers,
  type CloneWorld,
} from '../support/mysql-fixture-accounts';

let admin: Connection;
let world: CloneWorld;
let master: SqlSession;
let server: ServerInfo;
const made: string[] = [];

beforeAll(async () => {
  admin = await connectMysqlAdmin();
  world = await createCloneWorld(admin);
  master = await world.session();
  server = await mysqlEngine.serverInfo(master);
});

afterAll(async () => {
  await master.close();
  await world.drop(made);
  await admin.end();
});

/** A fresh original user name (and its `_clone`), dropped after the file. */
function names(): { original: string; alternate: string } {
  const original = cloneTestName();
  made.push(original, `${original}_clone`);
  return { original, alternate: `${original}_clone` };
}

async function sync(from: string, to: string, password: string, session: SqlSession = master): Promise<string[]> {
  const warnings: string[] = [];
  await mysqlEngine.syncAlternateUser(session, server, {
    currentUsername: from,
    alternateUsername: to,
    password,
    warn: (m) => warnings.push(m),
    // Each sync after the first stands for a later rotation of one secret, whose AWSPREVIOUS names the
    // alternate: the identity check (alternate-user-identity.ts) has its own tests.
    previouslyHeld: async () => true,
  });
  return warnings;
}

describe('syncAlternateUser on MariaDB: the alternate user is the same account', () => {
  const { original, alternate } = names();
  const originalPassword = cloneTestPassword();

  beforeAll(async () => {
    await world.createFullAccount(original, originalPassword);
  });

  it('the first sync creates it at every host entry with every right and option, and its password logs in', async () => {
    const pw = cloneTestPassword();
    expect(await sync(original, alternate, pw)).toEqual([]);
    await assertMysqlEquivalent(admin, original, alternate);
    await expect(canLoginMysql(alternate, pw)).resolves.toBe(true);
    await expect(canLoginMysql(original, originalPassword)).resolves.toBe(true);
  });

  it('a later sync follows the original: revokes stick, removed options and host entries go, extra rights are revoked', async () => {
    const m = world.masterConnection;
    const o = (host = '%'): string => m.format('?@?', [original, host]);
    const db = m.escapeId(world.db);
    // The DBA changes the original...
    await m.query(`REVOKE INSERT ON ${db}.* FROM ${o()}`);
    await m.query(`REVOKE GRANT OPTION ON ${db}.* FROM ${o()}`);
    await m.query(`REVOKE UPDATE (b) ON ${db}.t FROM ${o()}`);
    await m.query(`REVOKE ADMIN OPTION FOR ${m.escapeId(world.roles[0])} FROM ${o()}`);
    await m.query(`REVOKE ${m.escapeId(world.roles[1])} FROM ${o()}`);
    await m.query(`REVOKE PROXY ON ? FROM ${o()}`, [world.master.username]);
    await m.query(`SET DEFAULT ROLE NONE FOR ${o()}`);
    await m.query(
      `ALTER USER ${o()} IDENTIFIED BY PASSWORD ? WITH MAX_QUERIES_PER_HOUR 0 MAX_USER_CONNECTIONS 0 MAX_STATEMENT_TIME 0 PASSWORD EXPIRE DEFAULT`,
      [mysqlNativePasswordHash(originalPassword)],
    );
    await m.query(`DROP USER ${o('10.9.%')}`);
    await m.query(`CREATE USER ${o('10.7.%')} IDENTIFIED BY PASSWORD ? REQUIRE SSL PASSWORD EXPIRE NEVER`, [
      mysqlNativePasswordHash(originalPassword),
    ]);
    await m.query(`GRANT SELECT ON ${db}.* TO ${o('10.7.%')}`);
    // ...and someone gave the alternate user something of its own.
    await m.query(`GRANT DELETE, DROP ON ${db}.* TO ?@?`, [alternate, '%']);
    await m.query(`GRANT ALL PRIVILEGES ON ${db}.t TO ?@?`, [alternate, '%']);

    const pw = cloneTestPassword();
    const warnings = await sync(original, alternate, pw);
    expect(warnings).toEqual([expect.stringMatching(/^Dropped account '.+_clone'@'10\.9\.%': user '.+' has no account at that host$/)]);
    await assertMysqlEquivalent(admin, original, alternate);
    await expect(canLoginMysql(alternate, pw)).resolves.toBe(true);
  });

  it('the next rotation goes the other way: the original is made equal to the alternate', async () => {
    await world.masterConnection.query(`GRANT INSERT ON ${world.masterConnection.escapeId(world.db)}.* TO ?@?`, [alternate, '%']);
    const pw = cloneTestPassword();
    await sync(alternate, original, pw);
    await assertMysqlEquivalent(admin, alternate, original);
    await expect(canLoginMysql(original, pw)).resolves.toBe(true);
  });

  it('unlocks an alternate entry the original has open, saying so', async () => {
    await world.masterConnection.query('ALTER USER ?@? ACCOUNT LOCK', [alternate, '%']);
    const warnings = await sync(original, alternate, cloneTestPassword());
    expect(warnings).toEqual([expect.stringMatching(/^Unlocked account '.+_clone'@'%'/)]);
    await assertMysqlEquivalent(admin, original, alternate);
  });

  it('an alternate the DBA locked on every entry is refused login-disabled, as a NOLOGIN PostgreSQL alternate, changing nothing', async () => {
    const [hosts] = await admin.query('SELECT Host AS host FROM mysql.global_priv WHERE User = ?', [alternate]);
    for (const { host } of hosts as Array<{ host: string }>) await admin.query('ALTER USER ?@? ACCOUNT LOCK', [alternate, host]);
    const state = async (): Promise<unknown> =>
      (await admin.query('SELECT Host, Priv FROM mysql.global_priv WHERE User = ? ORDER BY Host', [alternate]))[0];
    const before = await state();
    await expect(sync(original, alternate, cloneTestPassword())).rejects.toMatchObject({ reason: 'login-disabled' });
    expect(await state()).toEqual(before);
    for (const { host } of hosts as Array<{ host: string }>) await admin.query('ALTER USER ?@? ACCOUNT UNLOCK', [alternate, host]);
  });
});

describe('options the original never had', () => {
  // ACCOUNT LOCK on every entry is not among them: that is the DBA's lock on the user, refused (above).
  it('are removed from an alternate user that has them', async () => {
    const { original, alternate } = names();
    const m = world.masterConnection;
    await m.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [original, '%', mysqlNativePasswordHash(cloneTestPassword())]);
    await m.query(
      "CREATE USER ?@? IDENTIFIED VIA mysql_native_password USING ? OR unix_socket REQUIRE ISSUER '/CN=x' WITH MAX_STATEMENT_TIME 9 MAX_UPDATES_PER_HOUR 4 PASSWORD EXPIRE INTERVAL 5 DAY",
      [alternate, '%', mysqlNativePasswordHash(cloneTestPassword())],
    );
    expect((await mysqlDifferences(admin, original, alternate)).length).toBeGreaterThan(0);
    const pw = cloneTestPassword();
    await sync(original, alternate, pw);
    await assertMysqlEquivalent(admin, original, alternate);
    await expect(canLoginMysql(alternate, pw)).resolves.toBe(true);
  });
});

describe('grants on objects that no longer exist', () => {
  it('are skipped with a warning naming each, and never stop the sync', async () => {
    const { original, alternate } = names();
    const m = world.masterConnection;
    const db = m.escapeId(world.db);
    await m.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [original, '%', mysqlNativePasswordHash(cloneTestPassword())]);
    await m.query(`CREATE TABLE ${db}.old_report (a INT)`);
    await m.query(`CREATE TABLE ${db}.narrowed (a INT, gone INT)`);
    await m.query(`GRANT SELECT ON ${db}.t TO ?@?`, [original, '%']);
    await m.query(`GRANT SELECT ON ${db}.old_report TO ?@? WITH GRANT OPTION`, [original, '%']);
    await m.query(`GRANT SELECT (a, gone), UPDATE (gone) ON ${db}.narrowed TO ?@?`, [original, '%']);
    await m.query(`DROP TABLE ${db}.old_report`);
    await m.query(`ALTER TABLE ${db}.narrowed DROP COLUMN gone`);
    // A routine grant outlives its routine when the grant tables are restored from elsewhere.
    await admin.query(
      "INSERT INTO mysql.procs_priv (Host, Db, User, Routine_name, Routine_type, Grantor, Proc_priv) VALUES ('%', ?, ?, 'gone_proc', 'PROCEDURE', 'root@localhost', 'Execute')",
      [world.db, original],
    );
    await admin.query('FLUSH PRIVILEGES');

    const pw = cloneTestPassword();
    const warnings = await sync(original, alternate, pw);
    // A dropped table's grant is copied as it is (with CREATE for the time of the grant): it would apply
    // to both if the table came back. Column and routine grants cannot be made on what is gone.
    expect(warnings).toHaveLength(3);
    expect(warnings).toEqual(
      expect.arrayContaining([
        expect.stringContaining(`GRANT SELECT (\`gone\`) ON \`${world.db}\`.\`narrowed\`: a column no longer exists (ER_BAD_FIELD_ERROR)`),
        expect.stringContaining(`GRANT UPDATE (\`gone\`) ON \`${world.db}\`.\`narrowed\`: a column no longer exists (ER_BAD_FIELD_ERROR)`),
        expect.stringContaining(
          `GRANT EXECUTE ON PROCEDURE \`${world.db}\`.\`gone_proc\`: the routine no longer exists (ER_SP_DOES_NOT_EXIST)`,
        ),
      ]),
    );
    expect(warnings.every((w) => w.includes(`'${original}'@'%'`) && w.includes(`'${alternate}'@'%'`))).toBe(true);
    await expect(canLoginMysql(alternate, pw)).resolves.toBe(true);
    // The only difference left: the grants that grant nothing (the column that remains was copied).
    const differences = await mysqlDifferences(admin, original, alternate);
    expect(differences).toHaveLength(1);
    expect(differences[0]).toContain('gone_proc');
    const [copied] = await admin.query('SHOW GRANTS FOR ?@?', [alternate, '%']);
    expect((copied as Array<Record<string, string>>).map((r) => String(Object.values(r)[0]))).toContain(
      `GRANT SELECT ON \`${world.db}\`.\`old_report\` TO \`${alternate}\`@\`%\` WITH GRANT OPTION`,
    );
    const [rows] = await admin.query('SHOW GRANTS FOR ?@?', [alternate, '%']);
    expect((rows as Array<Record<string, string>>).map((r) => String(Object.values(r)[0]))).toContain(
      `GRANT SELECT (\`a\`) ON \`${world.db}\`.\`narrowed\` TO \`${alternate}\`@\`%\``,
    );

    // Every later rotation passes too, and warns again (the grants are still there).
    expect(await sync(original, alternate, cloneTestPassword())).toHaveLength(3);

    // The other way round they are extra on the original: left in place, not revoked, as the DBA set them
    // (they apply again if the objects come back); what is on live objects is still made equal.
    await m.query(`GRANT INSERT ON ${db}.t TO ?@?`, [original, '%']);
    const back = await sync(alternate, original, cloneTestPassword());
    expect(back).toHaveLength(3);
    expect(back).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^Left on account '${original}'@'%', though account '${alternate}'@'%' lacks it, as it grants nothing: `),
        ),
        expect.stringContaining('SELECT (`gone`) ON'),
        expect.stringContaining('UPDATE (`gone`) ON'),
        expect.stringContaining('EXECUTE ON PROCEDURE'),
      ]),
    );
    const [after] = await admin.query('SHOW GRANTS FOR ?@?', [original, '%']);
    const text = (after as Array<Record<string, string>>).map((r) => String(Object.values(r)[0])).join('\n');
    expect(text).toMatch(/old_report/);
    expect(text).toMatch(/gone_proc/);
    expect(text).toMatch(/UPDATE \(`gone`\)/);
    expect(text).not.toMatch(/GRANT INSERT ON `[^`]+`\.`t`/);
    expect(await mysqlDifferences(admin, original, alternate)).toHaveLength(1);
  });
});

describe('what cannot be copied stops the sync before any change', () => {
  it("an authentication chain holding the original's mysql_old_password hash", async () => {
    const { original, alternate } = names();
    await world.masterConnection.query(
      "CREATE USER ?@? IDENTIFIED VIA mysql_old_password USING '0123456789abcdef' OR mysql_native_password USING ?",
      [original, '%', mysqlNativePasswordHash(cloneTestPassword())],
    );
    await expect(sync(original, alternate, cloneTestPassword())).rejects.toThrow(
      /mysql_old_password method, which this toolkit does not copy/,
    );
    const [rows] = await admin.query('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ?', [alternate]);
    expect(Number((rows as Array<{ n: number }>)[0]!.n)).toBe(0);
  });
});

/** Runs statements through `inner`; the `at`-th change reaches the server, then the connection "drops". */
function crashingAfter(inner: SqlSession, at: number): SqlSession & { changes: number } {
  const session = {
    changes: 0,
    async query(sql: string): Promise<readonly Row[]> {
      if (/^\s*(SELECT|SHOW)\b/i.test(sql)) return inner.query(sql);
      session.changes += 1;
      const rows = await inner.query(sql);
      if (session.changes === at) throw Object.assign(new Error('simulated connection loss'), { code: 'ECONNRESET' });
      return rows;
    },
    close: async (): Promise<void> => undefined,
  };
  return session;
}

describe('a crash after any statement', () => {
  it('never lets the pending password log in before the user is complete, and the next run converges', async () => {
    const { original, alternate } = names();
    const m = world.masterConnection;
    const db = m.escapeId(world.db);
    for (const host of ['%', '10.9.%']) {
      await m.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ? WITH MAX_QUERIES_PER_HOUR 50', [
        original,
        host,
        mysqlNativePasswordHash(cloneTestPassword()),
      ]);
      await m.query(`GRANT SELECT ON ${db}.* TO ?@? WITH GRANT OPTION`, [original, host]);
      await m.query(`GRANT ${m.escapeId(world.roles[0])} TO ?@?`, [original, host]);
      await m.query(`SET DEFAULT ROLE ${m.escapeId(world.roles[0])} FOR ?@?`, [original, host]);
    }
    // An outdated alternate user, as a previous rotation left it before the DBA changed the original.
    await m.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [alternate, '%', mysqlNativePasswordHash(cloneTestPassword())]);
    await m.query(`GRANT SELECT, DELETE ON ${db}.* TO ?@?`, [alternate, '%']);
    const reset = async (): Promise<void> => {
      await dropUsers(admin, [alternate]);
      await m.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [alternate, '%', mysqlNativePasswordHash(cloneTestPassword())]);
      await m.query(`GRANT SELECT, DELETE ON ${db}.* TO ?@?`, [alternate, '%']);
    };

    const counting = crashingAfter(master, Infinity);
    await sync(original, alternate, cloneTestPassword(), counting);
    const total = counting.changes;
    expect(total).toBeGreaterThan(6);

    for (let at = 1; at <= total; at += 1) {
      await reset();
      const pw = cloneTestPassword();
      await expect(sync(original, alternate, pw, crashingAfter(master, at))).rejects.toMatchObject({ code: 'NETWORK' });
      if (at < total) {
        // Only the last statement gives the pending password: a retry cannot stop early at "pending logs in".
        await expect(canLoginMysql(alternate, pw)).resolves.toBe(false);
        await sync(original, alternate, pw);
      }
      await assertMysqlEquivalent(admin, original, alternate);
      await expect(canLoginMysql(alternate, pw)).resolves.toBe(true);
    }
  });
});
