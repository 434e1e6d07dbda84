/**
 * Alternating users on the local MariaDB, when a user of the alternate's name already exists and nothing
 * shows it is a copy of the current user (alternate-user-identity.ts): another application's `app_clone`
 * with rights and host entries of its own. Taking it over dropped its other host entries, revoked its
 * rights, changed its password and left the application with what remained. MySQL keeps no link between
 * the two users, so the proof is that nothing would be taken away (a clone a crash left half-made) or
 * that the secret's AWSPREVIOUS names it (a clone the DBA narrowed the original of since). Otherwise the
 * rotation is refused before any change. Every name starts with `mai_`.
 */
import type { Connection } from 'mysql2/promise';
import { canLoginMysql } from '../../local/admin-connections';
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

const PREFIX = 'mai';
let endpoint: Endpoint;
let admin: Connection;
let world: CloneWorld;
let masterArn: string;
let fn: string;
const logs = captureLogger();
const made: string[] = [];
const databases: string[] = [];

beforeAll(async () => {
  endpoint = await startEndpoint();
  admin = await connectMysqlAdmin();
  world = await createCloneWorld(admin, PREFIX);
  masterArn = await createSecret(endpoint.client, uniqueName('mai-master'), secret(world.master));
  fn = lambdaArn(uniqueName('mai-mysql-au'));
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
  for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS ${admin.escapeId(db)}`);
  await admin.end();
  await endpoint.close();
});

/** A user at each host with a native password, dropped after the file. */
async function newUser(username: string, hosts: readonly string[] = ['%']): Promise<{ username: string; password: string }> {
  const user = { username, password: cloneTestPassword() };
  made.push(username);
  for (const host of hosts) {
    await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [username, host, mysqlNativePasswordHash(user.password)]);
  }
  return user;
}

/** Every host entry's SHOW GRANTS and stored hash: what another application's user looks like. */
async function footprint(username: string): Promise<unknown> {
  const [hosts] = await admin.query('SELECT Host AS h, authentication_string AS a FROM mysql.user WHERE User = ? ORDER BY Host', [
    username,
  ]);
  const out: Record<string, unknown> = {};
  for (const { h, a } of hosts as Array<{ h: string; a: string }>) {
    const [rows] = await admin.query('SHOW GRANTS FOR ?@?', [username, h]);
    out[h] = { auth: a, grants: (rows as Array<Record<string, string>>).map((r) => Object.values(r)[0]) };
  }
  return out;
}

async function rotation(arn: string): Promise<Error | undefined> {
  return rotate(endpoint.client, arn, fn).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
}

const failureLine = (arn: string): unknown => logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');

describe('MySQL alternate user: a user of that name that is not a copy of the current user', () => {
  it('another application’s app_clone (its own database, a host entry of its own): refused not-a-clone, nothing of it changed', async () => {
    const app = await newUser(cloneTestName(PREFIX));
    await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ?@'%'`, [app.username]);
    const theirs = `${cloneTestName(PREFIX)}_db`;
    databases.push(theirs);
    await admin.query(`CREATE DATABASE ${admin.escapeId(theirs)}`);
    const other = await newUser(`${app.username}_clone`, ['%', '10.9.%']);
    await admin.query(`GRANT SELECT, INSERT, DELETE ON ${admin.escapeId(theirs)}.* TO ?@'%'`, [other.username]);
    const before = await footprint(other.username);
    const arn = await createSecret(endpoint.client, uniqueName('mai-app'), secret(app, { masterarn: masterArn }));
    const error = await rotation(arn);
    expect(error?.message).toMatch(/AlternateUserNotACloneError/);
    expect(error?.message).toContain(`the host entry account '${other.username}'@'10.9.%'`);
    expect(error?.message).toContain(`ON \`${theirs}\`.*`);
    expect(error?.message).toMatch(/Nothing was changed/);
    expect(failureLine(arn)).toMatchObject({ errorCode: 'DATABASE', reason: 'not-a-clone' });
    expect(await footprint(other.username)).toEqual(before);
    await expect(canLoginMysql(other.username, other.password)).resolves.toBe(true);
    expect((await secretValue(endpoint.client, arn)).username).toBe(app.username);
  });

  it('the secret names a standalone x_clone and an unrelated x exists: refused, x unchanged', async () => {
    const x = await newUser(cloneTestName(PREFIX));
    await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ?@'%'`, [x.username]);
    const app = await newUser(`${x.username}_clone`);
    const before = await footprint(x.username);
    const arn = await createSecret(endpoint.client, uniqueName('mai-app'), secret(app, { masterarn: masterArn }));
    const error = await rotation(arn);
    expect(error?.message).toMatch(/AlternateUserNotACloneError/);
    expect(await footprint(x.username)).toEqual(before);
    await expect(canLoginMysql(x.username, x.password)).resolves.toBe(true);
  });

  it('a clone holding nothing the original lacks (what a crash mid-creation leaves) is taken over and made equal', async () => {
    const app = await newUser(cloneTestName(PREFIX));
    await admin.query(`GRANT SELECT, INSERT ON ${admin.escapeId(world.db)}.* TO ?@'%'`, [app.username]);
    const half = await newUser(`${app.username}_clone`);
    await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ?@'%'`, [half.username]);
    const arn = await createSecret(endpoint.client, uniqueName('mai-app'), secret(app, { masterarn: masterArn }));
    expect(await rotation(arn)).toBeUndefined();
    const current = await secretValue(endpoint.client, arn);
    expect(current.username).toBe(half.username);
    await assertMysqlEquivalent(admin, app.username, half.username);
  });

  it('a clone an unfinished first rotation made, then the DBA narrowed the original: the retry takes it over and the revoke follows', async () => {
    const app = await newUser(cloneTestName(PREFIX));
    made.push(`${app.username}_clone`);
    await admin.query(`GRANT SELECT, DELETE ON ${admin.escapeId(world.db)}.* TO ?@'%'`, [app.username]);
    const arn = await createSecret(endpoint.client, uniqueName('mai-app'), secret(app, { masterarn: masterArn }));
    // The first rotation stops after setSecret made the clone (a crash before testSecret): no AWSPREVIOUS
    // names the clone yet, and it holds DELETE, which the DBA then revokes from the original.
    const h = createRotationHandler({
      engine: mysqlEngine,
      strategy: 'alternating-users',
      secretsClient: endpoint.client,
      env: {},
      logger: logs,
    });
    let crash = true;
    const crashing = lambdaArn(uniqueName('mai-crashing'));
    endpoint.local.registerRotationFunction(crashing, async (event) => {
      if (crash && event.Step === 'testSecret') throw new Error('the function crashed');
      return h(event);
    });
    expect(
      await rotate(endpoint.client, arn, crashing).then(
        () => undefined,
        (err: unknown) => err as Error,
      ),
    ).toBeDefined();
    expect((await secretValue(endpoint.client, arn)).username).toBe(app.username);
    await admin.query(`REVOKE DELETE ON ${admin.escapeId(world.db)}.* FROM ?@'%'`, [app.username]);
    crash = false;
    // RotateSecret re-attempts the unfinished rotation (and answers that one was pending).
    await rotate(endpoint.client, arn, crashing).catch(() => undefined);
    expect(endpoint.local.rotationHistory(arn).at(-1)?.outcome).toBe('succeeded');
    expect((await secretValue(endpoint.client, arn)).username).toBe(`${app.username}_clone`);
    await assertMysqlEquivalent(admin, app.username, `${app.username}_clone`);
  });

  it('the toolkit’s clone after the DBA narrowed the original: AWSPREVIOUS names it, so the revoke follows', async () => {
    const app = await newUser(cloneTestName(PREFIX));
    made.push(`${app.username}_clone`);
    await admin.query(`GRANT SELECT, DELETE ON ${admin.escapeId(world.db)}.* TO ?@'%'`, [app.username]);
    const arn = await createSecret(endpoint.client, uniqueName('mai-app'), secret(app, { masterarn: masterArn }));
    for (const expected of [`${app.username}_clone`, app.username]) {
      expect(await rotation(arn)).toBeUndefined();
      expect((await secretValue(endpoint.client, arn)).username).toBe(expected);
    }
    await admin.query(`REVOKE DELETE ON ${admin.escapeId(world.db)}.* FROM ?@'%'`, [app.username]);
    expect(await rotation(arn)).toBeUndefined();
    expect((await secretValue(endpoint.client, arn)).username).toBe(`${app.username}_clone`);
    await assertMysqlEquivalent(admin, app.username, `${app.username}_clone`);
  });
});
