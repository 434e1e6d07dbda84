/**
 * MySQL alternating-users rotation end to end on MariaDB (the handler driven by the embedded Secrets
 * Manager endpoint), with the equivalence check after every rotation:
 * - adv-06: a right revoked from the user AWSCURRENT names does not come back with the next switch;
 * - adv-11: a grant left on a dropped table does not block rotation; the warning names it;
 * - taking over from the state AWS's multi-user function leaves behind (`<user>_clone` at '%' only,
 *   grants replayed from SHOW GRANTS without their options, rights since revoked still on it).
 */
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { createConnection, type Connection } from 'mysql2/promise';
import { canLoginMysql } from '../../local/admin-connections';
import { mysqlAdminSettings } from '../../local/db-settings';
import { mysqlEngine } from '../../shared/engines/mysql';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { assertMysqlEquivalent, mysqlDifferences } from '../support/mysql-equivalence';
import {
  cloneTestName,
  cloneTestPassword,
  connectMysqlAdmin,
  createCloneWorld,
  type CloneWorld,
  sharedMariadbSecret as secret,
} from '../support/mysql-fixture-accounts';
import {
  captureLogger,
  createSecret,
  lambdaArn,
  rotate,
  secretValue,
  startEndpoint,
  uniqueName,
  type Endpoint,
} from '../support/rotation-endpoint';

const settings = mysqlAdminSettings();
let endpoint: Endpoint;
let admin: Connection;
let world: CloneWorld;
let masterArn: string;
const made: string[] = [];

beforeAll(async () => {
  endpoint = await startEndpoint();
  admin = await connectMysqlAdmin();
  world = await createCloneWorld(admin);
  masterArn = await createSecret(endpoint.client, uniqueName('myclone-master'), secret(world.master));
});

afterAll(async () => {
  await world.drop(made);
  await admin.end();
  await endpoint.close();
});

function handler(): { arn: string; logs: ReturnType<typeof captureLogger> } {
  const logs = captureLogger();
  const arn = lambdaArn(uniqueName('myclone-mysql-au'));
  const h = createRotationHandler({
    engine: mysqlEngine,
    strategy: 'alternating-users',
    secretsClient: endpoint.client,
    env: {},
    logger: logs,
  });
  endpoint.local.registerRotationFunction(arn, (event) => h(event));
  return { arn, logs };
}

/** A new user (and its `_clone`, dropped after the file) with a native password. */
async function newUser(hosts: readonly string[] = ['%']): Promise<{ username: string; password: string }> {
  const user = { username: cloneTestName(), password: cloneTestPassword() };
  made.push(user.username, `${user.username}_clone`);
  for (const host of hosts) {
    await world.masterConnection.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [
      user.username,
      host,
      mysqlNativePasswordHash(user.password),
    ]);
  }
  return user;
}

/** Runs `sql` logged in as the user; the driver's error code when refused. */
async function runAs(user: { username: string; password: string }, sql: string): Promise<string> {
  const conn = await createConnection({
    host: settings.host,
    port: settings.port,
    user: user.username,
    password: user.password,
    charset: 'utf8mb4',
  });
  conn.on('error', () => undefined);
  try {
    await conn.query(sql);
    return 'ok';
  } catch (err) {
    return String((err as { code?: string }).code);
  } finally {
    await conn.end().catch(() => undefined);
  }
}

const other = (name: string): string => (name.endsWith('_clone') ? name.slice(0, -'_clone'.length) : `${name}_clone`);

describe('adv-06: a revoke on the user AWSCURRENT names sticks', () => {
  it('the revoked right does not come back when the other user becomes AWSCURRENT', async () => {
    const m = world.masterConnection;
    const table = `${m.escapeId(world.db)}.payments`;
    await m.query(`CREATE TABLE ${table} (id INT)`);
    await m.query(`INSERT INTO ${table} VALUES (1), (2)`);
    const user = await newUser();
    await m.query(`GRANT SELECT, DELETE ON ${m.escapeId(world.db)}.* TO ?@?`, [user.username, '%']);
    const { arn } = handler();
    const id = await createSecret(endpoint.client, uniqueName('myclone-adv06'), secret(user, { masterarn: masterArn }));
    for (let round = 0; round < 2; round += 1) {
      await rotate(endpoint.client, id, arn);
      const current = await secretValue(endpoint.client, id);
      await assertMysqlEquivalent(admin, current.username, other(current.username));
    }
    const current = await secretValue(endpoint.client, id);
    await m.query(`REVOKE DELETE ON ${m.escapeId(world.db)}.* FROM ?@?`, [current.username, '%']);

    await rotate(endpoint.client, id, arn);
    const next = await secretValue(endpoint.client, id);
    expect(next.username).toBe(other(current.username));
    await assertMysqlEquivalent(admin, next.username, current.username);
    expect(await runAs(next, `DELETE FROM ${table}`)).toBe('ER_TABLEACCESS_DENIED_ERROR');
    expect(await runAs(next, `SELECT * FROM ${table}`)).toBe('ok');
  });
});

describe('adv-11: a grant left on a dropped table', () => {
  it('does not block rotation: copied as it is (with CREATE for the time of the grant), so nothing is left to warn about', async () => {
    const m = world.masterConnection;
    const db = m.escapeId(world.db);
    await m.query(`CREATE TABLE ${db}.live (a INT)`);
    await m.query(`CREATE TABLE ${db}.old_report (a INT)`);
    const user = await newUser();
    await m.query(`GRANT SELECT ON ${db}.live TO ?@?`, [user.username, '%']);
    await m.query(`GRANT SELECT ON ${db}.old_report TO ?@?`, [user.username, '%']);
    await m.query(`DROP TABLE ${db}.old_report`);
    const { arn, logs } = handler();
    const id = await createSecret(endpoint.client, uniqueName('myclone-adv11'), secret(user, { masterarn: masterArn }));
    for (let round = 0; round < 2; round += 1) {
      const before = logs.lines.length;
      await rotate(endpoint.client, id, arn);
      const current = await secretValue(endpoint.client, id);
      expect(await runAs(current, `SELECT * FROM ${db}.live`)).toBe('ok');
      const warnings = logs.lines.slice(before).filter((l) => l.level === 'warn');
      expect(warnings).toEqual([]);
      // The grant that grants nothing is on both users alike: it applies to both if the table comes back.
      await assertMysqlEquivalent(admin, user.username, `${user.username}_clone`);
    }
  });
});

describe('taking over from AWS multi-user rotation', () => {
  /** The template's grant copy: each SHOW GRANTS row cut at its first " TO ", re-aimed at the clone. */
  async function templateCopy(from: string, to: string): Promise<void> {
    const [rows] = await world.masterConnection.query('SHOW GRANTS FOR ?', [from]);
    for (const row of (rows as Array<Record<string, string>>).map((r) => String(Object.values(r)[0]))) {
      await world.masterConnection.query(`${row.split(' TO ')[0]!} TO ?`, [to]);
    }
  }

  it('converges on the first rotation, whichever user AWSCURRENT names, and keeps both users working', async () => {
    const m = world.masterConnection;
    const db = m.escapeId(world.db);
    // The original as the DBA made it, with a host entry the template never knew about.
    const user = await newUser(['%', '10.1.%']);
    const clone = { username: `${user.username}_clone`, password: cloneTestPassword() };
    await m.query(`ALTER USER ?@? WITH MAX_QUERIES_PER_HOUR 100 PASSWORD EXPIRE INTERVAL 30 DAY`, [user.username, '%']);
    await m.query(`GRANT SELECT, INSERT, DELETE ON ${db}.* TO ?@? WITH GRANT OPTION`, [user.username, '%']);
    await m.query(`GRANT ${m.escapeId(world.roles[0])} TO ?@?`, [user.username, '%']);
    // What the template did: CREATE USER '<clone>' (host '%'), the rows replayed, REQUIRE copied, password set.
    await admin.query('CREATE USER ? IDENTIFIED BY PASSWORD ?', [clone.username, mysqlNativePasswordHash(clone.password)]);
    await templateCopy(user.username, clone.username);
    await admin.query("ALTER USER ?@'%' REQUIRE NONE", [clone.username]);
    // Since then the DBA took DELETE away from the original and gave it a default role.
    await m.query(`REVOKE DELETE ON ${db}.* FROM ?@?`, [user.username, '%']);
    await m.query(`SET DEFAULT ROLE ${m.escapeId(world.roles[0])} FOR ?@?`, [user.username, '%']);
    expect(await mysqlDifferences(admin, user.username, clone.username)).not.toEqual([]);

    // The template's last rotation left the original as AWSCURRENT, the clone as AWSPREVIOUS: the
    // secret's history is what shows the clone is this secret's own (MySQL keeps no link between them).
    const { arn } = handler();
    const id = await createSecret(endpoint.client, uniqueName('myclone-migrate'), secret(clone, { masterarn: masterArn }));
    await endpoint.client.send(
      new PutSecretValueCommand({ SecretId: id, SecretString: JSON.stringify(secret(user, { masterarn: masterArn })) }),
    );
    expect((await secretValue(endpoint.client, id, 'AWSPREVIOUS')).username).toBe(clone.username);
    for (let round = 0; round < 3; round += 1) {
      await rotate(endpoint.client, id, arn);
      const current = await secretValue(endpoint.client, id);
      const previous = await secretValue(endpoint.client, id, 'AWSPREVIOUS');
      expect(current.username).toBe(round % 2 === 0 ? clone.username : user.username);
      await assertMysqlEquivalent(admin, previous.username, current.username);
      await expect(canLoginMysql(current.username, current.password)).resolves.toBe(true);
      await expect(canLoginMysql(previous.username, previous.password)).resolves.toBe(true);
      expect(await runAs(current, `DELETE FROM ${db}.t`)).toBe('ER_TABLEACCESS_DENIED_ERROR');
      expect(await runAs(current, `INSERT INTO ${db}.t VALUES (1, 1)`)).toBe('ok');
    }
  });
});
