/**
 * A pre-created pair of users (`alternateusername` in the secret), on the real PostgreSQL and MariaDB
 * through the embedded endpoint's RotateSecret: the rotation alternates between the two named users and
 * only sets passwords. Every statement the master runs is recorded: no CREATE, GRANT, REVOKE, membership
 * or other account change appears, and the users' grants and memberships are as the DBA left them.
 * A missing other user, or one that is the master, is refused with a typed error and nothing changes.
 */
import { CreateSecretCommand, type Tag } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import type { Connection } from 'mysql2/promise';
import { canLoginMysql, canLoginPostgres, connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';
import { mysqlAdminSettings, postgresAdminSettings } from '../../local/db-settings';
import { createMysqlUser, createPostgresUser, type MysqlFixtureUser, type PostgresFixtureUser } from '../../local/fixtures';
import { mysqlEngine } from '../../shared/engines/mysql';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { Connector, DatabaseEngine } from '../../shared/rotation/database-engine';
import { PASSWORD_POLICY_TAGS } from '../../shared/rotation/password-policy-tags';
import { ALTERNATE_USERNAME_KEY } from '../../shared/rotation/precreated-pair';
import { captureLogger, lambdaArn, rotate, secretValue, startEndpoint, uniqueName, type Endpoint } from '../support/rotation-endpoint';

let endpoint: Endpoint;
beforeAll(async () => {
  endpoint = await startEndpoint();
});
afterAll(async () => {
  await endpoint.close();
});

const pairName = (): string => `appsx_${randomBytes(4).toString('hex')}`;

/** Statements run as the master, recorded through a wrapping connector. */
function recordingHandler(engine: DatabaseEngine) {
  const masterStatements: string[] = [];
  const connect: Connector = async (request) => {
    const session = await engine.defaultConnector(request);
    return {
      query: (sql, params) => {
        if (request.role === 'master') masterStatements.push(sql);
        return session.query(sql, params);
      },
      close: () => session.close(),
    };
  };
  const logs = captureLogger();
  const arn = lambdaArn(uniqueName(`pair-${engine.family}`));
  const handler = createRotationHandler({
    engine,
    strategy: 'alternating-users',
    secretsClient: endpoint.client,
    env: {},
    connect,
    logger: logs,
  });
  endpoint.local.registerRotationFunction(arn, (event) => handler(event));
  return { arn, logs, masterStatements };
}

async function createTaggedSecret(value: Record<string, unknown>, tags: Tag[] = []): Promise<string> {
  const out = await endpoint.client.send(
    new CreateSecretCommand({ Name: uniqueName('appsx-pair'), SecretString: JSON.stringify(value), Tags: tags }),
  );
  return out.ARN!;
}

/** Anything but setting a password, in the SQL the master ran. */
const ACCOUNT_CHANGES = /\b(CREATE|GRANT|REVOKE|REASSIGN|DROP|RENAME)\s|\bALTER\s+(ROLE|USER)\b(?![\s\S]*\b(PASSWORD|IDENTIFIED)\b)/i;

async function rotationFailure(id: string, arn: string, logs: ReturnType<typeof captureLogger>) {
  await expect(rotate(endpoint.client, id, arn)).rejects.toBeDefined();
  return logs.lines.find((l) => l.outcome === 'failure');
}

describe('PostgreSQL pre-created pair', () => {
  let admin: Client;
  let masterArn: string;
  const users: PostgresFixtureUser[] = [];
  const fixture = async (username: string, attributes: string[] = []) => {
    const user = await createPostgresUser({ username, attributes });
    users.push(user);
    return user;
  };

  beforeAll(async () => {
    admin = await connectPostgresAdmin();
    const s = postgresAdminSettings();
    masterArn = await createTaggedSecret({
      engine: 'postgres',
      host: s.host,
      port: s.port,
      username: s.user,
      // Loopback trusts postgres, so any password logs in; the secret format demands a non-empty one.
      password: s.password || 'trusted-on-loopback',
      dbname: s.database,
      ssl: false,
    });
  });
  afterAll(async () => {
    for (const u of users) await u.drop();
    await admin.end();
  });

  const memberships = async (names: string[]) =>
    (
      await admin.query<{ m: string }>(
        `SELECT r.rolname || ' in ' || g.rolname AS m FROM pg_auth_members a JOIN pg_roles r ON r.oid = a.member
         JOIN pg_roles g ON g.oid = a.roleid WHERE r.rolname = ANY($1) OR g.rolname = ANY($1) ORDER BY 1`,
        [names],
      )
    ).rows.map((r) => r.m);

  it('alternates between the two named users, sets only passwords, and honours the password-policy tags', async () => {
    const base = pairName();
    const blue = await fixture(`${base}_blue`);
    const green = await fixture(`${base}_green`);
    // The DBA's own grant, which the rotation must neither copy nor remove.
    await admin.query(`GRANT pg_read_all_stats TO "${blue.username}"`);
    const before = await memberships([blue.username, green.username]);
    const { arn, logs, masterStatements } = recordingHandler(postgresEngine);
    const id = await createTaggedSecret(
      {
        engine: 'postgres',
        host: blue.host,
        port: blue.port,
        username: blue.username,
        [ALTERNATE_USERNAME_KEY]: green.username,
        password: blue.password,
        dbname: blue.database,
        ssl: false,
        masterarn: masterArn,
      },
      [{ Key: PASSWORD_POLICY_TAGS.length, Value: '50' }],
    );
    const expected = [green.username, blue.username, green.username];
    const seen: string[] = [blue.password];
    for (let round = 0; round < 3; round += 1) {
      await rotate(endpoint.client, id, arn);
      const current = await secretValue(endpoint.client, id);
      const previous = await secretValue(endpoint.client, id, 'AWSPREVIOUS');
      expect(current.username).toBe(expected[round]);
      expect(current[ALTERNATE_USERNAME_KEY]).toBe(previous.username);
      expect(current.password).toHaveLength(50);
      await expect(canLoginPostgres(current.username, current.password)).resolves.toBe(true);
      await expect(canLoginPostgres(previous.username, previous.password)).resolves.toBe(true);
      seen.push(current.password);
    }
    expect(masterStatements.length).toBeGreaterThan(0);
    expect(masterStatements.filter((sql) => ACCOUNT_CHANGES.test(sql))).toEqual([]);
    expect(await memberships([blue.username, green.username])).toEqual(before);
    const clones = await admin.query('SELECT 1 FROM pg_roles WHERE rolname IN ($1, $2)', [
      `${blue.username}_clone`,
      `${green.username}_clone`,
    ]);
    expect(clones.rowCount).toBe(0);
    for (const pw of seen) expect(logs.text()).not.toContain(pw);
  });

  it('refuses a missing other user with AUTH_FAILED role-missing, creating nothing', async () => {
    const blue = await fixture(`${pairName()}_blue`);
    const missing = `${pairName()}_missing`;
    const { arn, logs, masterStatements } = recordingHandler(postgresEngine);
    const id = await createTaggedSecret({
      engine: 'postgres',
      host: blue.host,
      port: blue.port,
      username: blue.username,
      [ALTERNATE_USERNAME_KEY]: missing,
      password: blue.password,
      dbname: blue.database,
      ssl: false,
      masterarn: masterArn,
    });
    const failure = await rotationFailure(id, arn, logs);
    expect(failure).toMatchObject({ step: 'setSecret', errorCode: 'AUTH_FAILED', reason: 'role-missing' });
    expect(failure?.message).toContain(missing);
    expect(masterStatements.filter((sql) => ACCOUNT_CHANGES.test(sql))).toEqual([]);
    expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [missing])).rowCount).toBe(0);
    expect((await secretValue(endpoint.client, id)).username).toBe(blue.username);
  });

  it('refuses a pair whose other user is the master itself, leaving its password alone', async () => {
    // A master of our own (CREATEROLE, as on RDS), so a faulty guard could only ever touch this test's role.
    const master = await fixture(`${pairName()}_master`, ['CREATEROLE']);
    const blue = await fixture(`${pairName()}_blue`);
    const ownMasterArn = await createTaggedSecret({
      engine: 'postgres',
      host: master.host,
      port: master.port,
      username: master.username,
      password: master.password,
      dbname: master.database,
      ssl: false,
    });
    const { arn, logs } = recordingHandler(postgresEngine);
    const id = await createTaggedSecret({
      engine: 'postgres',
      host: blue.host,
      port: blue.port,
      username: blue.username,
      [ALTERNATE_USERNAME_KEY]: master.username,
      password: blue.password,
      dbname: blue.database,
      ssl: false,
      masterarn: ownMasterArn,
    });
    const failure = await rotationFailure(id, arn, logs);
    expect(failure).toMatchObject({ step: 'setSecret', errorCode: 'SECRET_INVALID' });
    await expect(canLoginPostgres(master.username, master.password)).resolves.toBe(true);
  });

  it('refuses a NOLOGIN other user with login-disabled, leaving it as the DBA set it', async () => {
    const blue = await fixture(`${pairName()}_blue`);
    const green = await fixture(`${pairName()}_green`);
    await admin.query(`ALTER ROLE "${green.username}" NOLOGIN`);
    const { arn, logs } = recordingHandler(postgresEngine);
    const id = await createTaggedSecret({
      engine: 'postgres',
      host: blue.host,
      port: blue.port,
      username: blue.username,
      [ALTERNATE_USERNAME_KEY]: green.username,
      password: blue.password,
      dbname: blue.database,
      ssl: false,
      masterarn: masterArn,
    });
    const failure = await rotationFailure(id, arn, logs);
    expect(failure).toMatchObject({ step: 'setSecret', errorCode: 'AUTH_FAILED', reason: 'login-disabled' });
    const row = await admin.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [green.username]);
    expect(row.rows[0]?.rolcanlogin).toBe(false);
  });
});

describe('MariaDB pre-created pair', () => {
  let admin: Connection;
  let master: MysqlFixtureUser;
  let masterArn: string;
  const users: MysqlFixtureUser[] = [];
  const fixture = async (username: string) => {
    const user = await createMysqlUser({ username });
    users.push(user);
    return user;
  };
  const settings = mysqlAdminSettings();
  const secretOf = (user: MysqlFixtureUser, other: string, arn: string) => ({
    engine: 'mariadb',
    host: settings.host,
    port: settings.port,
    username: user.username,
    [ALTERNATE_USERNAME_KEY]: other,
    password: user.password,
    ssl: false,
    masterarn: arn,
  });

  beforeAll(async () => {
    admin = await connectMysqlAdmin();
    // An RDS-like master: every privilege WITH GRANT OPTION, but not root.
    master = await createMysqlUser({ username: `${pairName()}_m`, ownDatabase: false });
    users.push(master);
    await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']);
    masterArn = await createTaggedSecret({
      engine: 'mariadb',
      host: settings.host,
      port: settings.port,
      username: master.username,
      password: master.password,
      ssl: false,
    });
  });
  afterAll(async () => {
    for (const u of users) await u.drop();
    await admin.end();
  });

  const grantsOf = async (username: string) => {
    const [rows] = await admin.query('SHOW GRANTS FOR ?@?', [username, '%']);
    // The password hash in the first line changes by design; everything else must not. MariaDB lists a
    // column grant's columns in its hash order, which another suite's FLUSH PRIVILEGES may change: sorted.
    return (rows as Array<Record<string, string>>).map((r) =>
      String(Object.values(r)[0])
        .replace(/ IDENTIFIED BY PASSWORD '[^']*'/, '')
        .replace(/\(([^()]*)\)/g, (_, columns: string) => `(${columns.split(', ').sort().join(', ')})`),
    );
  };

  it('alternates between the two named users and sets only passwords', async () => {
    const base = pairName();
    const blue = await fixture(`${base}_b`);
    const green = await fixture(`${base}_g`);
    const before = { blue: await grantsOf(blue.username), green: await grantsOf(green.username) };
    const { arn, logs, masterStatements } = recordingHandler(mysqlEngine);
    const id = await createTaggedSecret(secretOf(blue, green.username, masterArn));
    const expected = [green.username, blue.username, green.username];
    const seen: string[] = [blue.password];
    for (let round = 0; round < 3; round += 1) {
      await rotate(endpoint.client, id, arn);
      const current = await secretValue(endpoint.client, id);
      const previous = await secretValue(endpoint.client, id, 'AWSPREVIOUS');
      expect(current.username).toBe(expected[round]);
      expect(current[ALTERNATE_USERNAME_KEY]).toBe(previous.username);
      await expect(canLoginMysql(current.username, current.password)).resolves.toBe(true);
      await expect(canLoginMysql(previous.username, previous.password)).resolves.toBe(true);
      seen.push(current.password);
    }
    expect(masterStatements.filter((sql) => ACCOUNT_CHANGES.test(sql))).toEqual([]);
    expect({ blue: await grantsOf(blue.username), green: await grantsOf(green.username) }).toEqual(before);
    const [clones] = await admin.query('SELECT User FROM mysql.user WHERE User IN (?, ?)', [
      `${blue.username}_clone`,
      `${green.username}_clone`,
    ]);
    expect(clones).toEqual([]);
    for (const pw of seen) expect(logs.text()).not.toContain(pw);
  });

  it('refuses a missing other user with AUTH_FAILED role-missing, creating nothing', async () => {
    const blue = await fixture(`${pairName()}_b`);
    const missing = `${pairName()}_x`;
    const { arn, logs, masterStatements } = recordingHandler(mysqlEngine);
    const id = await createTaggedSecret(secretOf(blue, missing, masterArn));
    const failure = await rotationFailure(id, arn, logs);
    expect(failure).toMatchObject({ step: 'setSecret', errorCode: 'AUTH_FAILED', reason: 'role-missing' });
    expect(masterStatements.filter((sql) => ACCOUNT_CHANGES.test(sql))).toEqual([]);
    const [rows] = await admin.query('SELECT User FROM mysql.user WHERE User = ?', [missing]);
    expect(rows).toEqual([]);
  });

  it('refuses a pair whose other user is the master itself, leaving its password alone', async () => {
    const blue = await fixture(`${pairName()}_b`);
    const { arn, logs } = recordingHandler(mysqlEngine);
    const id = await createTaggedSecret(secretOf(blue, master.username, masterArn));
    const failure = await rotationFailure(id, arn, logs);
    expect(failure).toMatchObject({ step: 'setSecret', errorCode: 'SECRET_INVALID' });
    await expect(canLoginMysql(master.username, master.password)).resolves.toBe(true);
  });
});
