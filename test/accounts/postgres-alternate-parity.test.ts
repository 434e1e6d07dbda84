/**
 * Alternating users on the shared PostgreSQL, for faults fixed first in the single-user rotation or on
 * MySQL (test/accounts/mysql-alternate-parity.test.ts holds the same states there):
 * - a master secret whose user is the secret's user or its alternate: refused before any change;
 * - the alternate at its CONNECTION LIMIT (an application still on AWSPREVIOUS holds its sessions):
 *   refused `connection-limit` before its password changes, instead of changed and then unprovable;
 * - the alternate's password changed by hand (drift): set anyway by the master, proven, and AWSPREVIOUS
 *   still logs in;
 * - a warning about a change that a later refusal rolled back is never logged (warnings follow COMMIT);
 * - a database the current login cannot open (missing, no CONNECT): `database-not-allowed` before any change;
 * - VALID UNTIL past on the clone: the original's is carried;
 * - a database with default_transaction_read_only = on: the master works in a READ WRITE transaction.
 * Every name starts with `rpa_`; `assertPostgresEquivalent` runs after every rotation that passes.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id } from 'pg';
import { randomBytes } from 'node:crypto';
import { postgresAdminSettings } from '../../local/db-settings';
import { assertPostgresEquivalent } from '../support/postgres-equivalence';
import { rotate, secretValue } from '../support/rotation-endpoint';
import {
  admin,
  adminMasterValue,
  asLogin,
  createRole,
  dropAll,
  password,
  secretValueFor,
  startRig,
  type Rig,
} from '../support/postgres-alternate-support';

const env = process.env;
let rig: Rig;
let db: Client;
let superMaster: string;
const roles: string[] = [];
const databases: string[] = [];

function name(kind = 'u'): string {
  return `rpa_${kind}_${randomBytes(4).toString('hex')}`;
}

beforeAll(async () => {
  rig = await startRig();
  db = await admin(env);
  superMaster = await rig.secret(adminMasterValue(env));
});

afterAll(async () => {
  await db?.end();
  await dropAll(env, roles, databases);
  await rig?.close();
});

async function loginRole(attributes = ''): Promise<{ user: string; pw: string }> {
  const user = name();
  const pw = password();
  roles.push(user, `${user}_clone`);
  await createRole(db, user, pw, attributes);
  return { user, pw };
}

async function rotation(arn: string): Promise<string | undefined> {
  return rotate(rig.endpoint.client, arn, rig.fn('alternating-users')).then(
    () => undefined,
    (err: unknown) => String((err as Error).message),
  );
}

async function stored(role: string): Promise<unknown> {
  return (await db.query('SELECT rolpassword, rolconnlimit FROM pg_authid WHERE rolname = $1', [role])).rows;
}

describe('a master of the same user', () => {
  it.each([
    ['the secret’s own user', (user: string): string => user],
    ['the alternate user', (user: string): string => `${user}_clone`],
  ])('master secret naming %s: refused before any change', async (_label, masterUser) => {
    const { user, pw } = await loginRole('CREATEROLE');
    // The master secret's password does not matter: nothing may log in as it.
    const masterArn = await rig.secret(secretValueFor(env, masterUser(user), password()));
    const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: masterArn }));
    const error = await rotation(arn);
    expect(error).toMatch(/SECRET_INVALID|master's own user/);
    expect((await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${user}_clone`])).rows).toEqual([]);
    expect((await secretValue(rig.endpoint.client, arn)).password).toBe(pw);
    expect(await asLogin(env, user, pw, 'SELECT 1 AS one')).toEqual({ rows: [{ one: 1 }] });
  });
});

describe('the alternate at its CONNECTION LIMIT', () => {
  it('sessions of the alternate fill the limit it carries: refused connection-limit before its password changes', async () => {
    const { user, pw } = await loginRole('CONNECTION LIMIT 1');
    const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster }));
    expect(await rotation(arn)).toBeUndefined();
    const clone = await secretValue(rig.endpoint.client, arn);
    expect(await rotation(arn)).toBeUndefined();
    expect((await secretValue(rig.endpoint.client, arn)).username).toBe(user);
    // An application still on AWSPREVIOUS (the clone) holds the one session its limit allows.
    const { Client: PgClient } = await import('pg');
    const s = postgresAdminSettings(env);
    const held = new PgClient({ host: s.host, port: s.port, user: clone.username, password: clone.password, database: s.database });
    held.on('error', () => undefined);
    await held.connect();
    try {
      const before = await stored(clone.username);
      const current = await secretValue(rig.endpoint.client, arn);
      const error = await rotation(arn);
      expect(error).toMatch(/connection limit/);
      const failure = rig.logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
      expect(failure?.reason).toBe('connection-limit');
      expect(await stored(clone.username)).toEqual(before);
      expect(await secretValue(rig.endpoint.client, arn)).toEqual(current);
      expect((await held.query('SELECT current_user AS u')).rows).toHaveLength(1);
    } finally {
      await held.end();
    }
    // Once the session is gone, Secrets Manager's next attempt goes through.
    await rig.endpoint.local.retryRotation(arn);
    expect((await secretValue(rig.endpoint.client, arn)).username).toBe(`${user}_clone`);
    await assertPostgresEquivalent(db, user, `${user}_clone`);
  });
});

describe('drift on the alternate user', () => {
  it('its password changed by hand: the master sets it anyway, the proof passes, AWSPREVIOUS still logs in', async () => {
    const { user, pw } = await loginRole();
    const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster }));
    expect(await rotation(arn)).toBeUndefined();
    expect(await rotation(arn)).toBeUndefined();
    await db.query(`ALTER ROLE ${id(`${user}_clone`)} PASSWORD ${db.escapeLiteral(password())}`);
    const before = await secretValue(rig.endpoint.client, arn);
    expect(await rotation(arn)).toBeUndefined();
    const current = await secretValue(rig.endpoint.client, arn);
    const previous = await secretValue(rig.endpoint.client, arn, 'AWSPREVIOUS');
    expect(current.username).toBe(`${user}_clone`);
    expect(previous).toEqual(before);
    expect(await asLogin(env, current.username, current.password, 'SELECT 1 AS one')).toEqual({ rows: [{ one: 1 }] });
    expect(await asLogin(env, previous.username, previous.password, 'SELECT 1 AS one')).toEqual({ rows: [{ one: 1 }] });
    await assertPostgresEquivalent(db, user, `${user}_clone`);
  });
});

describe('warnings follow COMMIT', () => {
  it('a clone’s CONNECTION LIMIT 0 lifted, then a setting the master may not give: no warning about the rolled-back lift', async () => {
    const master = name('m');
    const masterPw = password();
    roles.push(master);
    await createRole(db, master, masterPw, 'CREATEROLE');
    const masterArn = await rig.secret(secretValueFor(env, master, masterPw));
    const { user, pw } = await loginRole();
    const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: masterArn }));
    expect(await rotation(arn)).toBeUndefined();
    expect(await rotation(arn)).toBeUndefined();
    expect((await secretValue(rig.endpoint.client, arn)).username).toBe(user);
    await db.query(`ALTER ROLE ${id(`${user}_clone`)} CONNECTION LIMIT 0`);
    await db.query(`ALTER ROLE ${id(user)} SET log_min_duration_statement = 250`);
    const before = await stored(`${user}_clone`);
    const error = await rotation(arn);
    expect(error).toMatch(/RoleAdministrationError|GRANT SET ON PARAMETER/);
    expect(await stored(`${user}_clone`)).toEqual(before);
    expect(rig.logs.lines.some((l) => l.secretArn === arn && String(l.message).startsWith('Lifted CONNECTION LIMIT 0'))).toBe(false);
  });
});

describe('a database the login cannot open', () => {
  it.each([
    ['that does not exist', async (): Promise<string> => `rpa_nodb_${randomBytes(3).toString('hex')}`],
    [
      'without CONNECT for the user (PUBLIC revoked)',
      async (): Promise<string> => {
        const database = `rpa_db_${randomBytes(3).toString('hex')}`;
        databases.push(database);
        await db.query(`CREATE DATABASE ${id(database)}`);
        await db.query(`REVOKE CONNECT ON DATABASE ${id(database)} FROM PUBLIC`);
        return database;
      },
    ],
  ])('dbname %s: refused database-not-allowed before any change, no alternate made', async (_label, makeDatabase) => {
    const { user, pw } = await loginRole();
    const dbname = await makeDatabase();
    const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster, dbname }));
    const error = await rotation(arn);
    expect(error).toBeDefined();
    expect(rig.logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure')?.reason).toBe('database-not-allowed');
    expect((await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${user}_clone`])).rows).toEqual([]);
    expect((await secretValue(rig.endpoint.client, arn)).password).toBe(pw);
  });
});

describe('the alternate expired by the DBA', () => {
  it('VALID UNTIL in the past on the clone (not in use): the original’s is carried, the proof passes, equivalent', async () => {
    const { user, pw } = await loginRole();
    const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster }));
    expect(await rotation(arn)).toBeUndefined();
    expect(await rotation(arn)).toBeUndefined();
    await db.query(`ALTER ROLE ${id(`${user}_clone`)} VALID UNTIL '2001-01-01'`);
    expect(await rotation(arn)).toBeUndefined();
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(`${user}_clone`);
    expect(await asLogin(env, current.username, current.password, 'SELECT 1 AS one')).toEqual({ rows: [{ one: 1 }] });
    await assertPostgresEquivalent(db, user, `${user}_clone`);
  });
});

describe('a read-only default where the master works', () => {
  it('the secret’s database has default_transaction_read_only = on: the master changes roles in a READ WRITE transaction, as single-user does', async () => {
    const database = `rpa_rodb_${randomBytes(3).toString('hex')}`;
    databases.push(database);
    await db.query(`CREATE DATABASE ${id(database)}`);
    await db.query(`ALTER DATABASE ${id(database)} SET default_transaction_read_only = on`);
    const { user, pw } = await loginRole();
    const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster, dbname: database }));
    expect(await rotation(arn)).toBeUndefined();
    expect(await rotation(arn)).toBeUndefined();
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(user);
    expect(await asLogin(env, current.username, current.password, 'SHOW transaction_read_only', database)).toEqual({
      rows: [{ transaction_read_only: 'on' }],
    });
    await assertPostgresEquivalent(db, user, `${user}_clone`);
  });
});
