/**
 * Alternating users on the shared PostgreSQL, when a role of the alternate's name already exists and
 * nothing shows it is a copy of the current role (alternate-user-identity.ts): another application's
 * `app_clone`, or the copy of a different role. Taking it over changed its password, revoked what it
 * held, gave its objects away and left the application with its rights. Refused before any change,
 * naming the GRANT that adopts it; a clone the secret handed out before passes even with its
 * membership cut. `assertPostgresEquivalent` runs after every rotation that passes.
 * Every name starts with `pai_`.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id } from 'pg';
import { randomBytes } from 'node:crypto';
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

/** Compared in the admin's database only: other suites' databases come and go meanwhile. */
async function equivalent(original: string): Promise<void> {
  const current = String((await db.query('SELECT current_database() AS d')).rows[0].d);
  await assertPostgresEquivalent(db, original, `${original}_clone`, { databases: [current] });
}

function name(kind = 'u'): string {
  return `pai_${kind}_${randomBytes(4).toString('hex')}`;
}

beforeAll(async () => {
  rig = await startRig();
  db = await admin(env);
  superMaster = await rig.secret(adminMasterValue(env));
});

afterAll(async () => {
  await db?.end();
  await dropAll(env, roles);
  await rig?.close();
});

async function loginRole(user = name()): Promise<{ user: string; pw: string }> {
  const pw = password();
  roles.push(user);
  await createRole(db, user, pw);
  return { user, pw };
}

/** Rotates once; the error when refused. */
async function rotation(arn: string): Promise<Error | undefined> {
  return rotate(rig.endpoint.client, arn, rig.fn('alternating-users')).then(
    () => undefined,
    (err: unknown) => err as Error,
  );
}

/** What another application's role looks like from outside: its memberships, grants, owned tables. */
async function footprint(role: string, table: string): Promise<unknown> {
  const r = await db.query(
    'SELECT (SELECT array_agg(g.rolname ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid ' +
      'WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = $1)) AS member_of, ' +
      '(SELECT tableowner FROM pg_tables WHERE tablename = $2) AS owner, ' +
      "has_table_privilege($1, 'pg_catalog.pg_class', 'SELECT') AS reads_catalog, " +
      '(SELECT rolpassword FROM pg_authid WHERE rolname = $1) AS verifier, ' +
      '(SELECT setconfig FROM pg_db_role_setting WHERE setrole = (SELECT oid FROM pg_roles WHERE rolname = $1) AND setdatabase = 0) AS settings',
    [role, table],
  );
  return r.rows[0];
}

const failureLine = (arn: string): Record<string, unknown> | undefined =>
  rig.logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure') as Record<string, unknown> | undefined;

describe('PostgreSQL alternate user: a role of that name that is not a copy of the current role', () => {
  it('another application’s app_clone (own table, own group, own settings): refused not-a-clone, nothing of it changed', async () => {
    const { user, pw } = await loginRole();
    const other = await loginRole(`${user}_clone`);
    const group = name('g');
    const table = name('t');
    roles.push(group);
    await db.query(`CREATE ROLE ${id(group)} NOLOGIN`);
    await db.query(`GRANT ${id(group)} TO ${id(other.user)}`);
    await db.query(`CREATE TABLE ${id(table)} (v int)`);
    await db.query(`ALTER TABLE ${id(table)} OWNER TO ${id(other.user)}`);
    await db.query(`ALTER ROLE ${id(other.user)} SET statement_timeout = '5s'`);
    try {
      const before = await footprint(other.user, table);
      const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster }));
      const error = await rotation(arn);
      expect(error?.message).toMatch(/AlternateUserNotACloneError/);
      expect(error?.message).toContain(`GRANT ${id(user)} TO ${id(other.user)}`);
      expect(error?.message).toContain(`membership in ${id(group)}`);
      expect(error?.message).toContain('1 object(s) it owns');
      expect(error?.message).toMatch(/Nothing was changed/);
      expect(failureLine(arn)).toMatchObject({ errorCode: 'DATABASE', reason: 'not-a-clone' });
      expect(await footprint(other.user, table)).toEqual(before);
      expect(await asLogin(env, other.user, other.pw, `SELECT count(*)::int AS n FROM ${id(table)}`)).toEqual({ rows: [{ n: 0 }] });
      const current = await secretValue(rig.endpoint.client, arn);
      expect(current.username).toBe(user);
      expect(await asLogin(env, user, pw, 'SELECT 1 AS one')).toEqual({ rows: [{ one: 1 }] });
    } finally {
      await db.query(`DROP TABLE IF EXISTS ${id(table)}`);
    }
  });

  it('the copy of a different role (app_clone a member of another role only): refused; adopted once the DBA grants the original', async () => {
    const { user, pw } = await loginRole();
    const stranger = await loginRole();
    const other = await loginRole(`${user}_clone`);
    await db.query(`GRANT ${id(stranger.user)} TO ${id(other.user)}`);
    const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster }));
    const error = await rotation(arn);
    expect(error?.message).toMatch(/AlternateUserNotACloneError/);
    expect(error?.message).toContain(`membership in ${id(stranger.user)}`);
    expect(await asLogin(env, other.user, other.pw, 'SELECT 1 AS one')).toEqual({ rows: [{ one: 1 }] });
    // The remedy the error names: the DBA says it is the copy; the rotation takes it over, equal to the original.
    // (A new secret: the refused rotation's AWSPENDING stays until a retry of that rotation.)
    await db.query(`GRANT ${id(user)} TO ${id(other.user)}`);
    const adopted = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster }));
    expect(await rotation(adopted)).toBeUndefined();
    expect((await secretValue(rig.endpoint.client, adopted)).username).toBe(other.user);
    await equivalent(user);
  });

  it('the secret names a standalone app_clone and an unrelated app exists: refused, app’s password unchanged', async () => {
    const unrelated = await loginRole();
    const { user, pw } = await loginRole(`${unrelated.user}_clone`);
    const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster }));
    const error = await rotation(arn);
    expect(error?.message).toMatch(/AlternateUserNotACloneError/);
    expect(error?.message).toContain(`GRANT ${id(unrelated.user)} TO ${id(user)}`);
    expect(await asLogin(env, unrelated.user, unrelated.pw, 'SELECT 1 AS one')).toEqual({ rows: [{ one: 1 }] });
    expect((await secretValue(rig.endpoint.client, arn)).username).toBe(user);
  });

  it('the toolkit’s clone whose membership a DBA cut: the secret handed it out before (AWSPREVIOUS), so it is taken back', async () => {
    const { user, pw } = await loginRole();
    roles.push(`${user}_clone`);
    const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: superMaster }));
    for (const expected of [`${user}_clone`, user]) {
      expect(await rotation(arn)).toBeUndefined();
      expect((await secretValue(rig.endpoint.client, arn)).username).toBe(expected);
    }
    await db.query(`REVOKE ${id(user)} FROM ${id(`${user}_clone`)}`);
    expect(await rotation(arn)).toBeUndefined();
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(`${user}_clone`);
    await equivalent(user);
  });
});
