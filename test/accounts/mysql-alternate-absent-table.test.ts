/**
 * Alternating users on the local MariaDB with a grant on a table that was dropped (MySQL and MariaDB keep
 * it) and is then created again, as a migration that drops and re-creates a table does. The grant could
 * not be copied (GRANT on a missing table is refused), so only the user that had it got the table back:
 * when AWSCURRENT was on the other user, the application could not read it, and the next rotation took
 * the DBA's grant from the first user too, for good. The grant is now copied as it is (with CREATE for
 * the time of the grant, the form the server accepts for a missing table), so both users get the table
 * back. Every name starts with `mat_`.
 */
import type { Connection } from 'mysql2/promise';
import { createConnection } from 'mysql2/promise';
import { mysqlAdminSettings } from '../../local/db-settings';
import { mysqlEngine } from '../../shared/engines/mysql';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { assertMysqlEquivalent } from '../support/mysql-equivalence';
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

const PREFIX = 'mat';
const settings = mysqlAdminSettings();
let endpoint: Endpoint;
let admin: Connection;
let world: CloneWorld;
let masterArn: string;
let fn: string;
const logs = captureLogger();
const made: string[] = [];

beforeAll(async () => {
  endpoint = await startEndpoint();
  admin = await connectMysqlAdmin();
  world = await createCloneWorld(admin, PREFIX);
  masterArn = await createSecret(endpoint.client, uniqueName('mat-master'), secret(world.master));
  fn = lambdaArn(uniqueName('mat-mysql-au'));
  const h = createRotationHandler({
    engine: mysqlEngine,
    strategy: 'alternating-users',
    secretsClient: endpoint.client,
    env: {},
    logger: logs,
  });
  endpoint.local.registerRotationFunction(fn, (event) => h(event));
});

afterAll(async () => {
  await world.drop(made);
  await admin.end();
  await endpoint.close();
});

/** Runs `sql` logged in as the user; the driver's error code when refused. */
async function runAs(user: { username: string; password: string }, sql: string): Promise<string> {
  const conn = await createConnection({ host: settings.host, port: settings.port, user: user.username, password: user.password });
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

describe('MySQL alternate user: a grant on a table dropped and created again', () => {
  it('is copied while the table is gone, so whichever user is AWSCURRENT reads the table once it is back', async () => {
    const db = admin.escapeId(world.db);
    const user = { username: cloneTestName(PREFIX), password: cloneTestPassword() };
    made.push(user.username, `${user.username}_clone`);
    await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [user.username, '%', mysqlNativePasswordHash(user.password)]);
    await admin.query(`CREATE TABLE ${db}.report (a INT)`);
    await admin.query(`GRANT SELECT, INSERT ON ${db}.report TO ?@'%'`, [user.username]);
    await admin.query(`DROP TABLE ${db}.report`);
    const arn = await createSecret(endpoint.client, uniqueName('mat-app'), secret(user, { masterarn: masterArn }));

    await rotate(endpoint.client, arn, fn);
    const clone = await secretValue(endpoint.client, arn);
    expect(clone.username).toBe(`${user.username}_clone`);
    await assertMysqlEquivalent(admin, user.username, clone.username);
    // Copied as it is: CREATE, needed for the grant, was taken back.
    const [rows] = await admin.query('SHOW GRANTS FOR ?@?', [clone.username, '%']);
    expect((rows as Array<Record<string, string>>).map((r) => String(Object.values(r)[0]))).toContain(
      `GRANT SELECT, INSERT ON ${db}.\`report\` TO \`${clone.username}\`@\`%\``,
    );

    // The migration creates the table again: the application, on the clone, reads it as the original could.
    await admin.query(`CREATE TABLE ${db}.report (a INT)`);
    expect(await runAs(clone, `SELECT * FROM ${db}.report`)).toBe('ok');
    await rotate(endpoint.client, arn, fn);
    const back = await secretValue(endpoint.client, arn);
    expect(back.username).toBe(user.username);
    expect(await runAs(back, `SELECT * FROM ${db}.report`)).toBe('ok');
    await assertMysqlEquivalent(admin, user.username, clone.username);
    await admin.query(`DROP TABLE ${db}.report`);
  });

  it('CREATE left on the alternate by a crash between the grant and its take-back is revoked by the next sync', async () => {
    const db = admin.escapeId(world.db);
    const user = { username: cloneTestName(PREFIX), password: cloneTestPassword() };
    const clone = `${user.username}_clone`;
    made.push(user.username, clone);
    await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [user.username, '%', mysqlNativePasswordHash(user.password)]);
    // SELECT on a table that does not exist (GRANT accepts it only with CREATE, taken back after).
    await admin.query(`GRANT SELECT, CREATE ON ${db}.gone TO ?@'%'`, [user.username]);
    await admin.query(`REVOKE CREATE ON ${db}.gone FROM ?@'%'`, [user.username]);
    // The crash's state: the clone holds the grant with the CREATE added for it.
    await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [clone, '%', mysqlNativePasswordHash(cloneTestPassword())]);
    await admin.query(`GRANT SELECT, CREATE ON ${db}.gone TO ?@'%'`, [clone]);
    const warnings: string[] = [];
    const session = await world.session();
    try {
      await mysqlEngine.syncAlternateUser(session, await mysqlEngine.serverInfo(session), {
        currentUsername: user.username,
        alternateUsername: clone,
        password: cloneTestPassword(),
        warn: (m) => warnings.push(m),
        previouslyHeld: async () => true,
      });
    } finally {
      await session.close();
    }
    await assertMysqlEquivalent(admin, user.username, clone);
    expect(warnings).toEqual([]);
  });

  it('a revoke of it after the drop sticks: taken from the alternate too, and does not come back with the table', async () => {
    const db = admin.escapeId(world.db);
    const user = { username: cloneTestName(PREFIX), password: cloneTestPassword() };
    made.push(user.username, `${user.username}_clone`);
    await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [user.username, '%', mysqlNativePasswordHash(user.password)]);
    await admin.query(`CREATE TABLE ${db}.audit (a INT)`);
    await admin.query(`GRANT SELECT ON ${db}.audit TO ?@'%'`, [user.username]);
    await admin.query(`DROP TABLE ${db}.audit`);
    const arn = await createSecret(endpoint.client, uniqueName('mat-app'), secret(user, { masterarn: masterArn }));
    for (const expected of [`${user.username}_clone`, user.username]) {
      await rotate(endpoint.client, arn, fn);
      expect((await secretValue(endpoint.client, arn)).username).toBe(expected);
    }
    // The DBA's clean-up after the drop, on the user AWSCURRENT names (the other follows at the next rotation).
    await admin.query(`REVOKE SELECT ON ${db}.audit FROM ?@'%'`, [user.username]);
    const before = logs.lines.length;
    for (const expected of [`${user.username}_clone`, user.username]) {
      await rotate(endpoint.client, arn, fn);
      expect((await secretValue(endpoint.client, arn)).username).toBe(expected);
      await assertMysqlEquivalent(admin, user.username, `${user.username}_clone`);
    }
    expect(logs.lines.slice(before).filter((l) => l.level === 'warn')).toEqual([]);
    await admin.query(`CREATE TABLE ${db}.audit (a INT)`);
    try {
      const current = await secretValue(endpoint.client, arn);
      const previous = await secretValue(endpoint.client, arn, 'AWSPREVIOUS');
      expect(await runAs(current, `SELECT * FROM ${db}.audit`)).toBe('ER_TABLEACCESS_DENIED_ERROR');
      expect(await runAs(previous, `SELECT * FROM ${db}.audit`)).toBe('ER_TABLEACCESS_DENIED_ERROR');
    } finally {
      await admin.query(`DROP TABLE ${db}.audit`);
    }
  });
});
