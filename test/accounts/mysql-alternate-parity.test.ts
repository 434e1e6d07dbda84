/**
 * Alternating users on the shared MariaDB, for faults fixed first in the single-user rotation or on
 * PostgreSQL (test/accounts/postgres-alternate-parity.test.ts holds the same states there):
 * - a master secret whose user is the secret's user or its alternate: refused before any change;
 * - the alternate at its MAX_USER_CONNECTIONS (an application still on AWSPREVIOUS holds its sessions):
 *   refused `connection-limit` before its password changes;
 * - the alternate's password changed by hand (drift): set anyway by the master, proven, and AWSPREVIOUS
 *   still logs in;
 * - the alternate locked by the DBA on every entry (ACCOUNT LOCK, as PostgreSQL's NOLOGIN): refused
 *   `login-disabled` end to end, nothing changed;
 * - a database the current login cannot open (1049, 1044): `database-not-allowed` before any change;
 * - PASSWORD EXPIRE on the alternate or on the current user: the alternate's new password is fresh;
 * - warnings about an alternate user made in the run and dropped again after a refusal are not told.
 * Every name starts with `rpa_`; the equivalence check runs after every rotation that passes.
 */
import { createConnection, type Connection } from 'mysql2/promise';
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

const PREFIX = 'rpa';
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
  masterArn = await createSecret(endpoint.client, uniqueName('rpa-master'), secret(world.master));
  fn = lambdaArn(uniqueName('rpa-mysql-au'));
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
  await world?.drop(made);
  await admin?.end();
  await endpoint?.close();
});

async function newUser(options = ''): Promise<{ username: string; password: string }> {
  const user = { username: cloneTestName(PREFIX), password: cloneTestPassword() };
  made.push(user.username, `${user.username}_clone`);
  await admin.query(`CREATE USER ?@'%' IDENTIFIED BY PASSWORD ? ${options}`, [user.username, mysqlNativePasswordHash(user.password)]);
  await admin.query(`GRANT SELECT ON ${admin.escapeId(world.db)}.* TO ?@'%'`, [user.username]);
  return user;
}

async function rotation(arn: string): Promise<string | undefined> {
  return rotate(endpoint.client, arn, fn).then(
    () => undefined,
    (err: unknown) => String((err as Error).message),
  );
}

async function logsIn(user: { username: string; password: string }): Promise<boolean> {
  const conn = await createConnection({ host: settings.host, port: settings.port, user: user.username, password: user.password }).catch(
    () => undefined,
  );
  if (conn === undefined) return false;
  conn.on('error', () => undefined);
  await conn.end().catch(() => undefined);
  return true;
}

async function stored(user: string): Promise<unknown> {
  return (await admin.query('SELECT Host, Priv FROM mysql.global_priv WHERE User = ? ORDER BY Host', [user]))[0];
}

function failureOf(arn: string): (typeof logs.lines)[number] | undefined {
  return logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
}

describe('a master of the same user', () => {
  it.each([
    ['the secret’s own user', (user: string): string => user],
    ['the alternate user', (user: string): string => `${user}_clone`],
  ])('master secret naming %s: refused before any change', async (_label, masterUser) => {
    const user = await newUser();
    const master = await createSecret(endpoint.client, uniqueName('rpa-own-master'), {
      ...secret({ username: masterUser(user.username), password: cloneTestPassword() }),
    });
    const arn = await createSecret(endpoint.client, uniqueName('rpa-app'), secret(user, { masterarn: master }));
    const error = await rotation(arn);
    expect(error).toMatch(/SECRET_INVALID|master's own user/);
    expect(await stored(`${user.username}_clone`)).toEqual([]);
    expect((await secretValue(endpoint.client, arn)).password).toBe(user.password);
    expect(await logsIn(user)).toBe(true);
  });
});

describe('the alternate at its MAX_USER_CONNECTIONS', () => {
  it('sessions of the alternate fill the limit it carries: refused connection-limit before its password changes', async () => {
    const user = await newUser('WITH MAX_USER_CONNECTIONS 1');
    const arn = await createSecret(endpoint.client, uniqueName('rpa-app'), secret(user, { masterarn: masterArn }));
    expect(await rotation(arn)).toBeUndefined();
    const clone = await secretValue(endpoint.client, arn);
    expect(await rotation(arn)).toBeUndefined();
    expect((await secretValue(endpoint.client, arn)).username).toBe(user.username);
    const held = await createConnection({ host: settings.host, port: settings.port, user: clone.username, password: clone.password });
    held.on('error', () => undefined);
    try {
      const before = await stored(clone.username);
      const current = await secretValue(endpoint.client, arn);
      const error = await rotation(arn);
      expect(error).toMatch(/connection limit/);
      expect(failureOf(arn)?.reason).toBe('connection-limit');
      expect(await stored(clone.username)).toEqual(before);
      expect(await secretValue(endpoint.client, arn)).toEqual(current);
    } finally {
      await held.end();
    }
    await endpoint.local.retryRotation(arn);
    expect((await secretValue(endpoint.client, arn)).username).toBe(clone.username);
    await assertMysqlEquivalent(admin, user.username, clone.username);
  });
});

describe('drift on the alternate user', () => {
  it('its password changed by hand: the master sets it anyway, the proof passes, AWSPREVIOUS still logs in', async () => {
    const user = await newUser();
    const arn = await createSecret(endpoint.client, uniqueName('rpa-app'), secret(user, { masterarn: masterArn }));
    expect(await rotation(arn)).toBeUndefined();
    expect(await rotation(arn)).toBeUndefined();
    await admin.query("ALTER USER ?@'%' IDENTIFIED BY PASSWORD ?", [
      `${user.username}_clone`,
      mysqlNativePasswordHash(cloneTestPassword()),
    ]);
    const before = await secretValue(endpoint.client, arn);
    expect(await rotation(arn)).toBeUndefined();
    const current = await secretValue(endpoint.client, arn);
    const previous = await secretValue(endpoint.client, arn, 'AWSPREVIOUS');
    expect(current.username).toBe(`${user.username}_clone`);
    expect(previous).toEqual(before);
    expect(await logsIn(current)).toBe(true);
    expect(await logsIn(previous)).toBe(true);
    await assertMysqlEquivalent(admin, user.username, current.username);
  });
});

describe('the alternate locked by the DBA', () => {
  it('ACCOUNT LOCK on its only entry while the original is open: refused login-disabled, nothing changed; rotates once unlocked', async () => {
    const user = await newUser();
    const arn = await createSecret(endpoint.client, uniqueName('rpa-app'), secret(user, { masterarn: masterArn }));
    expect(await rotation(arn)).toBeUndefined();
    expect(await rotation(arn)).toBeUndefined();
    const clone = `${user.username}_clone`;
    await admin.query("ALTER USER ?@'%' ACCOUNT LOCK", [clone]);
    const before = await stored(clone);
    const current = await secretValue(endpoint.client, arn);
    expect(await rotation(arn)).toMatch(/locked/);
    expect(failureOf(arn)?.reason).toBe('login-disabled');
    expect(await stored(clone)).toEqual(before);
    expect(await secretValue(endpoint.client, arn)).toEqual(current);
    expect(await logsIn(current)).toBe(true);
    await admin.query("ALTER USER ?@'%' ACCOUNT UNLOCK", [clone]);
    await endpoint.local.retryRotation(arn);
    expect((await secretValue(endpoint.client, arn)).username).toBe(clone);
    await assertMysqlEquivalent(admin, user.username, clone);
  });
});

describe('a database the login cannot open', () => {
  it.each([
    ['that does not exist (1049)', (): string => `rpa_nodb_${Date.now().toString(36)}`],
    ['it has no rights on (1044)', (): string => 'mysql'],
  ])('dbname %s: refused database-not-allowed before any change, no alternate made', async (_label, dbname) => {
    const user = await newUser();
    const arn = await createSecret(endpoint.client, uniqueName('rpa-app'), secret(user, { masterarn: masterArn, dbname: dbname() }));
    expect(await rotation(arn)).toBeDefined();
    expect(failureOf(arn)?.reason).toBe('database-not-allowed');
    expect(await stored(`${user.username}_clone`)).toEqual([]);
    expect((await secretValue(endpoint.client, arn)).password).toBe(user.password);
  });
});

describe('the alternate expired by the DBA', () => {
  it('PASSWORD EXPIRE on the alternate (not in use): its new password is fresh, the proof passes, equivalent', async () => {
    const user = await newUser();
    const arn = await createSecret(endpoint.client, uniqueName('rpa-app'), secret(user, { masterarn: masterArn }));
    expect(await rotation(arn)).toBeUndefined();
    expect(await rotation(arn)).toBeUndefined();
    const clone = `${user.username}_clone`;
    await admin.query("ALTER USER ?@'%' PASSWORD EXPIRE", [clone]);
    expect(await rotation(arn)).toBeUndefined();
    const current = await secretValue(endpoint.client, arn);
    expect(current.username).toBe(clone);
    const conn = await createConnection({ host: settings.host, port: settings.port, user: clone, password: current.password });
    try {
      // Not a sandbox session: a query runs.
      expect((await conn.query('SELECT 1 AS one'))[0]).toEqual([{ one: 1 }]);
    } finally {
      await conn.end();
    }
    await assertMysqlEquivalent(admin, user.username, clone);
  });
});

describe('warnings follow the outcome', () => {
  it('a grant warned about at one host entry, then a grant refused at the next: the alternate made in the run is dropped, nothing warned', async () => {
    const limited = { username: cloneTestName(PREFIX), password: cloneTestPassword() };
    made.push(limited.username);
    await admin.query("CREATE USER ?@'%' IDENTIFIED BY PASSWORD ?", [limited.username, mysqlNativePasswordHash(limited.password)]);
    await admin.query("GRANT CREATE USER ON *.* TO ?@'%'", [limited.username]);
    await admin.query("GRANT SELECT ON mysql.* TO ?@'%'", [limited.username]);
    await admin.query(`GRANT ALL PRIVILEGES ON ${admin.escapeId(world.db)}.* TO ?@'%' WITH GRANT OPTION`, [limited.username]);
    const original = cloneTestName(PREFIX);
    const alternate = `${original}_clone`;
    made.push(original, alternate);
    for (const host of ['%', '10.1.%']) {
      await admin.query('CREATE USER ?@? IDENTIFIED BY PASSWORD ?', [original, host, mysqlNativePasswordHash(cloneTestPassword())]);
    }
    // A grant left on a dropped table (warned about, never copied) at '%', and one the master may not give at '10.1.%'.
    const table = `${admin.escapeId(world.db)}.${admin.escapeId(`t_${original}`)}`;
    await admin.query(`CREATE TABLE ${table} (a INT)`);
    await admin.query(`GRANT SELECT ON ${table} TO ?@'%'`, [original]);
    await admin.query(`DROP TABLE ${table}`);
    await admin.query("GRANT PROCESS ON *.* TO ?@'10.1.%'", [original]);
    const { mysqlConnector } = await import('../../shared/engines/mysql-connector');
    const { parseDatabaseSecret } = await import('../../shared/database-secret');
    const session = await mysqlConnector({
      family: 'mysql',
      secret: parseDatabaseSecret(secret(limited)),
      role: 'master',
      tlsMode: 'disable',
      connectTimeoutMs: 5000,
    });
    try {
      const server = await mysqlEngine.serverInfo(session);
      const warnings: string[] = [];
      await expect(
        mysqlEngine.syncAlternateUser(session, server, {
          currentUsername: original,
          alternateUsername: alternate,
          password: cloneTestPassword(),
          warn: (m) => warnings.push(m),
        }),
      ).rejects.toMatchObject({ reason: 'master-cannot-grant' });
      expect(await stored(alternate)).toEqual([]);
      expect(warnings).toEqual([]);
    } finally {
      await session.close();
    }
  });
});

describe('the current user expired by the DBA', () => {
  it('PASSWORD EXPIRE on the user AWSCURRENT names: the alternate is made with a fresh password and takes over, equivalent', async () => {
    const user = await newUser('PASSWORD EXPIRE');
    const arn = await createSecret(endpoint.client, uniqueName('rpa-app'), secret(user, { masterarn: masterArn }));
    expect(await rotation(arn)).toBeUndefined();
    const current = await secretValue(endpoint.client, arn);
    expect(current.username).toBe(`${user.username}_clone`);
    const conn = await createConnection({ host: settings.host, port: settings.port, user: current.username, password: current.password });
    try {
      expect((await conn.query('SELECT 1 AS one'))[0]).toEqual([{ one: 1 }]);
    } finally {
      await conn.end();
    }
    await assertMysqlEquivalent(admin, user.username, current.username);
  });
});
