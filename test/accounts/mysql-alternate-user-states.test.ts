/**
 * syncAlternateUser on the local MariaDB against account states taken from production setups, each
 * checked with the equivalence check: grants on objects whose names need quoting or hold wildcards,
 * routine grants (and routines dropped later), GRANT ALL ON *.*, host entries with different rights
 * and TLS requirements, odd user names, and a master that cannot give everything (RDS-like), which must
 * fail naming the grant and leave nothing half-made. Every name starts with `hma_`.
 */
import type { Connection } from 'mysql2/promise';
import { canLoginMysql } from '../../local/admin-connections';
import { mysqlAdminSettings } from '../../local/db-settings';
import { mysqlEngine } from '../../shared/engines/mysql';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
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
import { captureLogger, createSecret, lambdaArn, rotate, secretValue, startEndpoint, uniqueName } from '../support/rotation-endpoint';

const PREFIX = 'hma';

let admin: Connection;
let world: CloneWorld;
let master: SqlSession;
let server: ServerInfo;
const made: string[] = [];
const databases: string[] = [];
/** Roles made by the tests (quoted), dropped after the file even when a test fails. */
const roles: string[] = [];

beforeAll(async () => {
  admin = await connectMysqlAdmin();
  world = await createCloneWorld(admin, PREFIX);
  master = await world.session();
  server = await mysqlEngine.serverInfo(master);
});

afterAll(async () => {
  await master.close();
  await world.drop(made);
  for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(db)}`);
  for (const role of roles) await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.end();
});

/** A fresh original user name (and its `_clone`), dropped after the file. */
function names(base: string = cloneTestName(PREFIX)): { original: string; alternate: string } {
  made.push(base, `${base}_clone`);
  return { original: base, alternate: `${base}_clone` };
}

/** A database created as root, dropped after the file. */
async function database(name: string): Promise<string> {
  databases.push(name);
  await admin.query(`CREATE DATABASE ${admin.escapeId(name)}`);
  return admin.escapeId(name);
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

async function create(user: string, host: string, password: string, options = ''): Promise<string> {
  await admin.query(`CREATE USER ?@? IDENTIFIED BY PASSWORD ? ${options}`, [user, host, mysqlNativePasswordHash(password)]);
  return admin.format('?@?', [user, host]);
}

async function hostsOf(user: string): Promise<string[]> {
  const [rows] = await admin.query('SELECT Host AS h FROM mysql.user WHERE User = ? ORDER BY Host', [user]);
  return (rows as Array<{ h: string }>).map((r) => String(r.h));
}

describe('objects whose names need quoting, wildcards and routines', () => {
  it('copies them exactly, follows a later revoke, and a dropped routine never stops the sync', async () => {
    const stamp = cloneTestName(PREFIX);
    const wildcard = `${stamp}\\_w\\_%`; // the escaped pattern a DBA writes for `<stamp>_w_<anything>`
    const tick = await database(`${stamp}_a\`b`);
    const hyphen = await database(`${stamp}-h`);
    await database(`${stamp}_w_one`);
    await admin.query(`CREATE TABLE ${tick}.\`t\`\`x\` (\`col one\` INT, \`c\`\`2\` INT)`);
    await admin.query(`CREATE TABLE ${hyphen}.t (a INT)`);
    await admin.query(`CREATE PROCEDURE ${hyphen}.\`p-1\`() SELECT 1`);
    await admin.query(`CREATE FUNCTION ${hyphen}.f() RETURNS INT DETERMINISTIC RETURN 1`);
    await admin.query(`CREATE FUNCTION ${hyphen}.gone() RETURNS INT DETERMINISTIC RETURN 2`);

    const { original, alternate } = names(`${cloneTestName(PREFIX)}'q@ü`);
    const pw = cloneTestPassword();
    const o = await create(original, '%', pw);
    await admin.query(`GRANT SELECT, INSERT ON ${admin.escapeId(wildcard)}.* TO ${o}`);
    await admin.query(`GRANT SELECT (\`col one\`), UPDATE (\`c\`\`2\`, \`col one\`) ON ${tick}.\`t\`\`x\` TO ${o} WITH GRANT OPTION`);
    await admin.query(`GRANT SELECT, DELETE ON ${hyphen}.* TO ${o}`);
    await admin.query(`GRANT EXECUTE ON PROCEDURE ${hyphen}.\`p-1\` TO ${o}`);
    await admin.query(`GRANT EXECUTE, ALTER ROUTINE ON FUNCTION ${hyphen}.f TO ${o}`);
    await admin.query(`GRANT EXECUTE ON FUNCTION ${hyphen}.gone TO ${o}`);
    await admin.query(`GRANT ALL ON *.* TO ${o}`);

    const first = cloneTestPassword();
    expect(await sync(original, alternate, first)).toEqual([]);
    await assertMysqlEquivalent(admin, original, alternate);
    await expect(canLoginMysql(alternate, first)).resolves.toBe(true);

    // The DBA narrows the original, and a routine goes away.
    await admin.query(`REVOKE ALL ON *.* FROM ${o}`);
    await admin.query(`REVOKE INSERT ON ${admin.escapeId(wildcard)}.* FROM ${o}`);
    await admin.query(`REVOKE UPDATE (\`col one\`) ON ${tick}.\`t\`\`x\` FROM ${o}`);
    await admin.query(`DROP FUNCTION ${hyphen}.gone`);
    const second = cloneTestPassword();
    await sync(original, alternate, second);
    await assertMysqlEquivalent(admin, original, alternate);
    await expect(canLoginMysql(alternate, second)).resolves.toBe(true);
    // And the other way round, as the next rotation does.
    await sync(alternate, original, cloneTestPassword());
    await assertMysqlEquivalent(admin, alternate, original);
  });
});

describe('a master session in ANSI mode (RDS parameter groups set sql_mode=ANSI)', () => {
  it('syncs names that need quoting, though SHOW GRANTS then prints "double-quoted" names', async () => {
    const stamp = cloneTestName(PREFIX);
    const db = await database(`${stamp}"q-d`);
    await admin.query(`CREATE TABLE ${db}.\`t"x\` (\`c"1\` INT)`);
    await admin.query(`CREATE PROCEDURE ${db}.\`p"1\`() SELECT 1`);
    const { original, alternate } = names(`${cloneTestName(PREFIX)}"a`);
    const o = await create(original, '%', cloneTestPassword());
    await admin.query(`GRANT SELECT, INSERT ON ${admin.escapeId(`${stamp}\\_a\\_%`)}.* TO ${o}`);
    await admin.query(`GRANT SELECT (\`c"1\`) ON ${db}.\`t"x\` TO ${o} WITH GRANT OPTION`);
    await admin.query(`GRANT EXECUTE ON PROCEDURE ${db}.\`p"1\` TO ${o}`);
    await world.masterConnection.query(`GRANT ${admin.escapeId(world.roles[0])} TO ${o}`);
    await world.masterConnection.query(`SET DEFAULT ROLE ${admin.escapeId(world.roles[0])} FOR ${o}`);
    const ansi = await world.session();
    try {
      await ansi.query("SET SESSION sql_mode = 'ANSI'");
      const pw = cloneTestPassword();
      await sync(original, alternate, pw, ansi);
      await assertMysqlEquivalent(admin, original, alternate);
      await expect(canLoginMysql(alternate, pw)).resolves.toBe(true);
      await admin.query(`REVOKE INSERT ON ${admin.escapeId(`${stamp}\\_a\\_%`)}.* FROM ${o}`);
      await sync(original, alternate, cloneTestPassword(), ansi);
      await assertMysqlEquivalent(admin, original, alternate);
    } finally {
      await ansi.close();
    }
  });
});

describe('MariaDB packages (sql_mode=ORACLE, as in databases moved from Oracle)', () => {
  it('copies EXECUTE on a PACKAGE and its BODY, follows a revoke, and leaves the master session in its own sql_mode', async () => {
    // MariaDB parses GRANT ... ON PACKAGE only under sql_mode=ORACLE, though SHOW GRANTS prints it in any mode.
    const db = await database(`${cloneTestName('hc')}_pk`);
    await admin.query("SET SESSION sql_mode = 'ORACLE'");
    await admin.query(`CREATE PACKAGE ${db}.pk AS PROCEDURE p1; END;`);
    await admin.query(`CREATE PACKAGE BODY ${db}.pk AS PROCEDURE p1 AS BEGIN NULL; END; END;`);
    const { original, alternate } = names(cloneTestName('hc'));
    const o = await create(original, '%', cloneTestPassword());
    await admin.query(`GRANT EXECUTE ON PACKAGE ${db}.pk TO ${o} WITH GRANT OPTION`);
    await admin.query(`GRANT EXECUTE, ALTER ROUTINE ON PACKAGE BODY ${db}.pk TO ${o}`);
    await admin.query('SET SESSION sql_mode = DEFAULT');
    const [[before]] = (await admin.query('SELECT @@SESSION.sql_mode AS m')) as unknown as [[{ m: string }]];
    const session = await world.session();
    try {
      await session.query(`SET SESSION sql_mode = ${admin.escape(before.m)}`);
      const pw = cloneTestPassword();
      expect(await sync(original, alternate, pw, session)).toEqual([]);
      await assertMysqlEquivalent(admin, original, alternate);
      await expect(canLoginMysql(alternate, pw)).resolves.toBe(true);
      expect(await session.query('SELECT @@SESSION.sql_mode AS m')).toEqual([{ m: before.m }]);

      await admin.query("SET SESSION sql_mode = 'ORACLE'");
      await admin.query(`REVOKE EXECUTE ON PACKAGE ${db}.pk FROM ${o}`);
      await admin.query(`REVOKE GRANT OPTION ON PACKAGE ${db}.pk FROM ${o}`);
      await admin.query(`REVOKE ALTER ROUTINE ON PACKAGE BODY ${db}.pk FROM ${o}`);
      await admin.query('SET SESSION sql_mode = DEFAULT');
      await sync(original, alternate, cloneTestPassword(), session);
      await assertMysqlEquivalent(admin, original, alternate);
      await sync(alternate, original, cloneTestPassword(), session);
      await assertMysqlEquivalent(admin, alternate, original);
      expect(await session.query('SELECT @@SESSION.sql_mode AS m')).toEqual([{ m: before.m }]);
    } finally {
      await admin.query('SET SESSION sql_mode = DEFAULT');
      await session.close();
    }
  });
});

describe('a master session with PAD_CHAR_TO_FULL_LENGTH (a legacy sql_mode kept in a parameter group)', () => {
  it('reads host entries as stored, not padded to the CHAR width: the alternate is made at the same hosts and logs in', async () => {
    const { original, alternate } = names(cloneTestName('hc'));
    const pw = cloneTestPassword();
    for (const host of ['%', '10.7.%']) {
      const o = await create(original, host, pw);
      await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ${o}`);
    }
    const padded = await world.session();
    try {
      await padded.query("SET SESSION sql_mode = 'PAD_CHAR_TO_FULL_LENGTH'");
      const first = cloneTestPassword();
      expect(await sync(original, alternate, first, padded)).toEqual([]);
      expect(await hostsOf(alternate)).toEqual(['%', '10.7.%']);
      await assertMysqlEquivalent(admin, original, alternate);
      await expect(canLoginMysql(alternate, first)).resolves.toBe(true);
      await sync(alternate, original, cloneTestPassword(), padded);
      await assertMysqlEquivalent(admin, alternate, original);
    } finally {
      await padded.close();
    }
  });
});

describe('host entries with different rights and options', () => {
  it('each alternate entry matches its own original entry, through a host added and one removed', async () => {
    const { original, alternate } = names();
    const db = admin.escapeId(world.db);
    const pw = cloneTestPassword();
    const any = await create(original, '%', pw, 'REQUIRE SSL WITH MAX_USER_CONNECTIONS 5');
    const lan = await create(
      original,
      '10.%',
      pw,
      "REQUIRE CIPHER 'ECDHE-RSA-AES256-GCM-SHA384' AND SUBJECT '/CN=lan' WITH MAX_QUERIES_PER_HOUR 7",
    );
    const box = await create(original, 'localhost', pw, 'PASSWORD EXPIRE INTERVAL 30 DAY ACCOUNT LOCK');
    await admin.query(`GRANT SELECT ON ${db}.* TO ${any}`);
    await admin.query(`GRANT INSERT, UPDATE ON ${db}.t TO ${lan} WITH GRANT OPTION`);
    await admin.query(`GRANT PROCESS ON *.* TO ${box}`);
    await sync(original, alternate, cloneTestPassword());
    await assertMysqlEquivalent(admin, original, alternate);

    await admin.query(`DROP USER ${lan}`);
    const vpn = await create(original, '192.168.%', pw, 'REQUIRE X509');
    await admin.query(`GRANT DELETE ON ${db}.t TO ${vpn}`);
    // The fixture's roles were made by its master, which alone administers them.
    await world.masterConnection.query(`GRANT ${admin.escapeId(world.roles[0])} TO ${box} WITH ADMIN OPTION`);
    await world.masterConnection.query(`SET DEFAULT ROLE ${admin.escapeId(world.roles[0])} FOR ${box}`);
    const warnings = await sync(original, alternate, cloneTestPassword());
    expect(warnings).toEqual([expect.stringMatching(/^Dropped account '.+_clone'@'10\.%'/)]);
    await assertMysqlEquivalent(admin, original, alternate);
    expect(await hostsOf(alternate)).toEqual(['%', '192.168.%', 'localhost']);
  });
});

describe('a master that cannot give every right (RDS-like: GRANT OPTION on the application database only)', () => {
  let limited: { username: string; password: string };
  let session: SqlSession;
  /** A role made by root (so root alone administers it), and one the master was given WITH ADMIN OPTION. */
  const rootRole = `\`${cloneTestName(PREFIX)}\``;
  const masterRole = `\`${cloneTestName(PREFIX)}\``;

  beforeAll(async () => {
    limited = { username: cloneTestName(PREFIX), password: cloneTestPassword() };
    made.push(limited.username);
    const m = await create(limited.username, '%', limited.password);
    await admin.query(`GRANT CREATE USER ON *.* TO ${m}`);
    await admin.query(`GRANT SELECT ON mysql.* TO ${m}`);
    await admin.query(`GRANT ALL PRIVILEGES ON ${admin.escapeId(world.db)}.* TO ${m} WITH GRANT OPTION`);
    roles.push(rootRole, masterRole);
    for (const role of [rootRole, masterRole]) await admin.query(`CREATE ROLE ${role}`);
    await admin.query(`GRANT ${masterRole} TO ${m} WITH ADMIN OPTION`);
    const { mysqlConnector } = await import('../../shared/engines/mysql-connector');
    const { parseDatabaseSecret } = await import('../../shared/database-secret');
    const s = mysqlAdminSettings();
    session = await mysqlConnector({
      family: 'mysql',
      secret: parseDatabaseSecret({ engine: 'mariadb', host: s.host, port: s.port, ...limited }),
      role: 'master',
      tlsMode: 'disable',
      connectTimeoutMs: 5000,
    });
  });

  afterAll(async () => {
    await session.close();
  });

  it('without SELECT on the mysql schema: refused before any change, naming the GRANT it needs', async () => {
    const { original, alternate } = names();
    await create(original, '%', cloneTestPassword());
    await admin.query(`REVOKE SELECT ON mysql.* FROM ?@'%'`, [limited.username]);
    try {
      await expect(sync(original, alternate, cloneTestPassword(), session)).rejects.toMatchObject({
        code: 'DATABASE',
        message: expect.stringMatching(
          /the master needs SELECT on the mysql schema: GRANT SELECT ON mysql\.\* TO 'hma_\w+'@'%'; nothing was changed/,
        ),
      });
      expect(await hostsOf(alternate)).toEqual([]);
    } finally {
      await admin.query(`GRANT SELECT ON mysql.* TO ?@'%'`, [limited.username]);
    }
  });

  it('syncs what it may give', async () => {
    const { original, alternate } = names();
    const o = await create(original, '%', cloneTestPassword(), 'WITH MAX_QUERIES_PER_HOUR 9');
    await admin.query(`GRANT SELECT, INSERT ON ${admin.escapeId(world.db)}.* TO ${o}`);
    await admin.query(`GRANT UPDATE (a) ON ${admin.escapeId(world.db)}.t TO ${o}`);
    const pw = cloneTestPassword();
    await sync(original, alternate, pw, session);
    await assertMysqlEquivalent(admin, original, alternate);
    await expect(canLoginMysql(alternate, pw)).resolves.toBe(true);
  });

  it.each([
    [
      'a global privilege',
      (o: string) => [`GRANT RELOAD ON *.* TO ${o}`],
      /GRANT RELOAD ON \*\.\* was refused.*Remedy: GRANT RELOAD ON \*\.\* TO 'hma_\w+'@'%' WITH GRANT OPTION/,
    ],
    ['a right on another database', (o: string) => [`GRANT SELECT ON mysql.* TO ${o}`], /GRANT SELECT ON `mysql`\.\* was refused/],
    [
      'a role it does not administer',
      (o: string) => [`GRANT ${rootRole} TO ${o}`],
      /Remedy: GRANT `hma_\w+` TO 'hma_\w+'@'%' WITH ADMIN OPTION/,
    ],
    [
      'a default role (it administers the role, but may not write the mysql schema)',
      (o: string) => [`GRANT ${masterRole} TO ${o}`, `SET DEFAULT ROLE ${masterRole} FOR ${o}`],
      /SET DEFAULT ROLE `hma_\w+` was refused.*Remedy: GRANT UPDATE ON mysql\.\*/,
    ],
  ])('%s: refused naming the grant and the remedy, and no alternate user is left behind', async (_what, grants, named) => {
    const { original, alternate } = names();
    const o = await create(original, '%', cloneTestPassword());
    await create(original, '10.%', cloneTestPassword());
    await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ${o}`);
    for (const grant of grants(o)) await admin.query(grant);
    const error = await sync(original, alternate, cloneTestPassword(), session).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'DATABASE', name: 'MysqlGrantRefusedError', reason: 'master-cannot-grant' });
    expect(String((error as Error).message)).toMatch(named);
    expect(String((error as Error).message)).toMatch(/nothing was left/);
    expect(await hostsOf(alternate)).toEqual([]);
  });

  it('end to end: the rotation fails naming the grant and the remedy, AWSCURRENT still works; after the remedy it rotates', async () => {
    const { original, alternate } = names();
    const pw = cloneTestPassword();
    const o = await create(original, '%', pw);
    await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ${o}`);
    await admin.query(`GRANT PROCESS ON *.* TO ${o}`);
    const endpoint = await startEndpoint();
    try {
      const logs = captureLogger();
      const arn = lambdaArn(uniqueName('hma-mysql-au'));
      const handler = createRotationHandler({
        engine: mysqlEngine,
        strategy: 'alternating-users',
        secretsClient: endpoint.client,
        env: {},
        logger: logs,
      });
      endpoint.local.registerRotationFunction(arn, (event) => handler(event));
      const s = mysqlAdminSettings();
      const base = { engine: 'mariadb', host: s.host, port: s.port, ssl: false };
      const masterArn = await createSecret(endpoint.client, uniqueName('hma-master'), { ...base, ...limited });
      const id = await createSecret(endpoint.client, uniqueName('hma-app'), {
        ...base,
        username: original,
        password: pw,
        masterarn: masterArn,
      });

      const error = await rotate(endpoint.client, id, arn).catch((e: unknown) => e);
      expect(String((error as Error).message)).toMatch(
        /GRANT PROCESS ON \*\.\* was refused.*Remedy: GRANT PROCESS ON \*\.\* TO '[^']+'@'%' WITH GRANT OPTION/,
      );
      expect(await hostsOf(alternate)).toEqual([]);
      const current = await secretValue(endpoint.client, id);
      expect(current.username).toBe(original);
      await expect(canLoginMysql(original, pw)).resolves.toBe(true);
      expect(logs.text()).not.toContain(pw);

      // The DBA runs the remedy; the rotation, re-attempted as Secrets Manager does, goes through.
      await admin.query(`GRANT PROCESS ON *.* TO ?@'%' WITH GRANT OPTION`, [limited.username]);
      await expect(rotate(endpoint.client, id, arn)).rejects.toThrow(/previous rotation isn't complete/);
      const after = await secretValue(endpoint.client, id);
      expect(after.username).toBe(alternate);
      await assertMysqlEquivalent(admin, original, alternate);
      await expect(canLoginMysql(after.username, after.password)).resolves.toBe(true);
    } finally {
      await endpoint.close();
      await admin.query(`REVOKE PROCESS, GRANT OPTION ON *.* FROM ?@'%'`, [limited.username]).catch(() => undefined);
    }
  });

  it('on an alternate user that exists: refused naming the grant, its password still the old one', async () => {
    const { original, alternate } = names();
    const o = await create(original, '%', cloneTestPassword());
    await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ${o}`);
    const old = cloneTestPassword();
    await sync(original, alternate, old, session);
    await admin.query(`GRANT PROCESS ON *.* TO ${o}`);
    await expect(sync(original, alternate, cloneTestPassword(), session)).rejects.toMatchObject({
      name: 'MysqlGrantRefusedError',
      reason: 'master-cannot-grant',
      message: expect.stringMatching(/GRANT PROCESS ON \*\.\*/),
    });
    await expect(canLoginMysql(alternate, old)).resolves.toBe(true);
  });
});

describe('the original dropped while the alternate user is made', () => {
  it('fails naming the original, and an alternate user made in this run is removed', async () => {
    const { original, alternate } = names();
    await create(original, '%', cloneTestPassword());
    await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ?@?`, [original, '%']);
    let dropped = false;
    const dropping: SqlSession = {
      async query(sql: string): Promise<readonly Row[]> {
        if (!dropped && /^SHOW GRANTS FOR/i.test(sql)) {
          dropped = true;
          await dropUsers(admin, [original]);
        }
        return master.query(sql);
      },
      close: async (): Promise<void> => undefined,
    };
    await expect(sync(original, alternate, cloneTestPassword(), dropping)).rejects.toMatchObject({ code: 'DATABASE' });
    expect(await hostsOf(alternate)).toEqual([]);
  });
});

describe('a MariaDB default role no longer granted (revoked or dropped: MariaDB keeps it)', () => {
  it('never stops the sync: not copied, with a warning naming it, and left in place the other way round', async () => {
    const { original, alternate } = names();
    const m = world.masterConnection;
    const [revoked, dropped] = [`\`${cloneTestName(PREFIX)}\``, `\`${cloneTestName(PREFIX)}\``];
    roles.push(revoked, dropped);
    for (const role of [revoked, dropped]) await m.query(`CREATE ROLE ${role}`);
    const pw = cloneTestPassword();
    const o = await create(original, '%', pw);
    const lan = await create(original, '10.%', pw);
    await m.query(`GRANT ${revoked} TO ${o}`);
    await m.query(`SET DEFAULT ROLE ${revoked} FOR ${o}`);
    await m.query(`GRANT ${dropped} TO ${lan}`);
    await m.query(`SET DEFAULT ROLE ${dropped} FOR ${lan}`);
    expect(await sync(original, alternate, cloneTestPassword())).toEqual([]);
    await assertMysqlEquivalent(admin, original, alternate);

    await m.query(`REVOKE ${revoked} FROM ${o}`);
    await m.query(`DROP ROLE ${dropped}`);
    const next = cloneTestPassword();
    const warnings = await sync(original, alternate, next);
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^Not copied from account '[^']+'@'%' .*: SET DEFAULT ROLE ${revoked}: the role is no longer granted`),
      ),
      expect.stringMatching(
        new RegExp(`^Not copied from account '[^']+'@'10\\.%' .*: SET DEFAULT ROLE ${dropped}: the role is no longer granted`),
      ),
    ]);
    await expect(canLoginMysql(alternate, next)).resolves.toBe(true);
    // What remains different is the stale default role only, which activates nothing on either user.
    const differences = await mysqlDifferences(admin, original, alternate);
    expect(differences.length).toBeGreaterThan(0);
    expect(differences.every((d) => /default_role|DEFAULT ROLE/.test(d))).toBe(true);
    const [rows] = await admin.query('SHOW GRANTS FOR ?@?', [alternate, '%']);
    expect(JSON.stringify(rows)).not.toMatch(/DEFAULT ROLE|GRANT `hma/);

    // The next rotation, the other way round: the original's stale default role is left as the DBA set it
    // (the alternate's entry at 10.% kept its own stale one when the role was dropped, and says so).
    expect(await sync(alternate, original, cloneTestPassword())).toEqual([
      expect.stringMatching(new RegExp(`^Not copied from account '[^']+_clone'@'10\\.%' .*: SET DEFAULT ROLE ${dropped}:`)),
    ]);
    const [back] = await admin.query('SHOW GRANTS FOR ?@?', [original, '%']);
    expect(JSON.stringify(back)).toContain(`SET DEFAULT ROLE ${revoked}`);
  });
});

describe('a role named like the alternate user (or the original)', () => {
  it('is not taken for a host entry of either: no false "Dropped" warning, no host entry made for it', async () => {
    const { original, alternate } = names();
    roles.push(admin.escapeId(alternate));
    await admin.query(`CREATE ROLE ${admin.escapeId(alternate)}`);
    const o = await create(original, '%', cloneTestPassword());
    await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ${o}`);
    const pw = cloneTestPassword();
    expect(await sync(original, alternate, pw)).toEqual([]);
    await expect(canLoginMysql(alternate, pw)).resolves.toBe(true);
    const [rows] = await admin.query(
      "SELECT Host AS h, JSON_VALUE(Priv, '$.is_role') AS r FROM mysql.global_priv WHERE User = ? ORDER BY Host",
      [alternate],
    );
    expect(rows).toEqual([
      { h: '', r: '1' },
      { h: '%', r: null },
    ]);
    await assertMysqlEquivalent(admin, original, alternate);
  });
});

describe('PROXY on an account that was dropped (DROP USER leaves the grant, and only that account could give it)', () => {
  it('never stops the sync: not copied, with a warning naming it, and left in place the other way round', async () => {
    const { original, alternate } = names();
    const proxied = { username: cloneTestName(PREFIX), password: cloneTestPassword() };
    made.push(proxied.username);
    const o = await create(original, '%', cloneTestPassword());
    await create(proxied.username, '%', proxied.password);
    await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ${o}`);
    const { createConnection } = await import('mysql2/promise');
    const s = mysqlAdminSettings();
    const asProxied = await createConnection({ host: s.host, port: s.port, user: proxied.username, password: proxied.password });
    try {
      // An account may give PROXY on itself (as the master does below, on itself: a live one).
      await asProxied.query(`GRANT PROXY ON ?@'%' TO ${o}`, [proxied.username]);
    } finally {
      await asProxied.end();
    }
    await world.masterConnection.query(`GRANT PROXY ON ?@'%' TO ${o}`, [world.master.username]);
    await dropUsers(admin, [proxied.username]);

    const pw = cloneTestPassword();
    const warnings = await sync(original, alternate, pw);
    expect(warnings).toEqual([
      expect.stringMatching(
        new RegExp(`^Not copied from .*: GRANT PROXY ON \`${proxied.username}\`@\`%\`: the proxied account no longer exists`),
      ),
    ]);
    await expect(canLoginMysql(alternate, pw)).resolves.toBe(true);
    // What remains different is the dead PROXY only; the live one is on both.
    const differences = await mysqlDifferences(admin, original, alternate);
    expect(differences).toHaveLength(1);
    expect(differences[0]).toContain(proxied.username);
    const [clone] = await admin.query('SHOW GRANTS FOR ?@?', [alternate, '%']);
    expect(JSON.stringify(clone)).toContain(`GRANT PROXY ON \`${world.master.username}\`@\`%\``);
    // Every later rotation passes too, and the other way round the dead PROXY is left on the original.
    expect(await sync(original, alternate, cloneTestPassword())).toHaveLength(1);
    const back = await sync(alternate, original, cloneTestPassword());
    expect(back).toEqual([expect.stringMatching(/^Left on .*: PROXY ON `[^`]+`@`%`: the proxied account no longer exists/)]);
    const [rows] = await admin.query('SHOW GRANTS FOR ?@?', [original, '%']);
    expect(JSON.stringify(rows)).toContain(proxied.username);
  });
});

describe('a user name whose `_clone` exceeds MariaDB’s 128 characters (80 before 10.6)', () => {
  it('is refused in createSecret, before any change, naming the limit; at 81 and at exactly 128 it rotates', async () => {
    const endpoint = await startEndpoint();
    try {
      const arn = lambdaArn(uniqueName('hma-mysql-len'));
      const logs = captureLogger();
      const handler = createRotationHandler({
        engine: mysqlEngine,
        strategy: 'alternating-users',
        secretsClient: endpoint.client,
        env: {},
        logger: logs,
      });
      endpoint.local.registerRotationFunction(arn, (event) => handler(event));
      const s = mysqlAdminSettings();
      const base = { engine: 'mariadb', host: s.host, port: s.port, ssl: false };
      const masterArn = await createSecret(endpoint.client, uniqueName('hma-master'), { ...base, ...world.master });
      const stamp = cloneTestName(PREFIX);
      for (const [length, rotates] of [
        [123, false],
        [75, true],
        [122, true],
      ] as const) {
        const { original, alternate } = names(stamp.padEnd(length, 'x'));
        const pw = cloneTestPassword();
        const o = await create(original, '%', pw);
        await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ${o}`);
        const id = await createSecret(endpoint.client, uniqueName('hma-app'), {
          ...base,
          username: original,
          password: pw,
          masterarn: masterArn,
        });
        const outcome = await rotate(endpoint.client, id, arn).then(
          () => 'rotated',
          (e: unknown) => String((e as Error).message),
        );
        if (rotates) {
          expect(outcome).toBe('rotated');
          expect((await secretValue(endpoint.client, id)).username).toBe(alternate);
          await assertMysqlEquivalent(admin, original, alternate);
        } else {
          expect(outcome).toMatch(
            /step createSecret .*SECRET_INVALID.*the user name is 129 characters long; engine mariadb allows at most 128/,
          );
          expect(await hostsOf(alternate)).toEqual([]);
          expect((await secretValue(endpoint.client, id)).username).toBe(original);
          await expect(canLoginMysql(original, pw)).resolves.toBe(true);
        }
      }
    } finally {
      await endpoint.close();
    }
  });
});

describe('a host entry no method of which takes a password (VIA unix_socket, for a job run as the OS user)', () => {
  it('is copied as it is and gets no password; the other entries rotate; an alternate entry with a password there is put right', async () => {
    const { original, alternate } = names();
    const pw = cloneTestPassword();
    const o = await create(original, '%', pw);
    await admin.query(`CREATE USER ?@'localhost' IDENTIFIED VIA unix_socket`, [original]);
    await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ${o}`);
    await admin.query(`GRANT SELECT, INSERT ON ${admin.escapeId(world.db)}.* TO ?@'localhost'`, [original]);
    // An alternate user left with a password at that host (as a copy by hand would).
    await create(alternate, 'localhost', cloneTestPassword());

    const first = cloneTestPassword();
    expect(await sync(original, alternate, first)).toEqual([]);
    await assertMysqlEquivalent(admin, original, alternate);
    await expect(canLoginMysql(alternate, first)).resolves.toBe(true);
    const [rows] = await admin.query("SELECT Priv AS p FROM mysql.global_priv WHERE User = ? AND Host = 'localhost'", [alternate]);
    const raw = (rows as Array<{ p: unknown }>)[0]!.p;
    expect((typeof raw === 'string' ? JSON.parse(raw) : raw) as Record<string, unknown>).toMatchObject({ plugin: 'unix_socket' });

    const next = cloneTestPassword();
    await sync(original, alternate, next);
    await assertMysqlEquivalent(admin, original, alternate);
    await expect(canLoginMysql(alternate, next)).resolves.toBe(true);
  });
});
