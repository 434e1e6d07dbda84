/**
 * Default privileges the clone defined itself (ALTER DEFAULT PRIVILEGES run while logged in as the
 * clone, which is FOR ROLE the clone): AWS's multi-user function alternates the login the application
 * and its migrations use, so half of the migrations that set "new tables are readable by the reporting
 * role" ran as the clone. Once the toolkit makes both logins start as the original's session role,
 * new objects are created by that role and the clone's own defaults never apply again: the reporting
 * role gets 42501 on every table made after the switch. The sync moves them to the start role (and
 * takes them off the clone, so a DBA's later revoke on the original sticks).
 * Every name starts with `padp_`; `assertPostgresEquivalent` runs after every rotation.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id, escapeLiteral as lit } from 'pg';
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
const schemas: string[] = [];
const databases: string[] = [];

function name(kind = 'u'): string {
  return `padp_${kind}_${randomBytes(4).toString('hex')}`;
}

beforeAll(async () => {
  rig = await startRig();
  db = await admin(env);
  superMaster = await rig.secret(adminMasterValue(env));
});

afterAll(async () => {
  for (const schema of schemas) await db?.query(`DROP SCHEMA IF EXISTS ${id(schema)} CASCADE`);
  await db?.end();
  await dropAll(env, roles, databases);
  await rig?.close();
});

/**
 * AWS's state: the clone is a member of the original, and a migration run as the clone made new tables
 * in `schema` readable by `reader`, and new sequences anywhere usable by it.
 */
async function cloneWithDefaults(
  creator: Client = db,
): Promise<{ user: string; pw: string; clone: string; schema: string; reader: string; readerPw: string }> {
  const user = name();
  const pw = password();
  const clone = `${user}_clone`;
  const clonePw = password();
  const reader = name('r');
  const readerPw = password();
  const schema = name('s');
  roles.push(user, clone, reader);
  schemas.push(schema);
  // The master makes the original too: from 16 a CREATEROLE master administers only roles it created (or holds ADMIN on).
  await createRole(creator, user, pw);
  await createRole(db, reader, readerPw);
  await db.query(`CREATE SCHEMA ${id(schema)} AUTHORIZATION ${id(user)}`);
  await db.query(`GRANT USAGE ON SCHEMA ${id(schema)} TO ${id(reader)}`);
  await createRole(creator, clone, clonePw);
  await creator.query(`GRANT ${id(user)} TO ${id(clone)}`);
  const made = await asLogin(
    env,
    clone,
    clonePw,
    `ALTER DEFAULT PRIVILEGES IN SCHEMA ${id(schema)} GRANT SELECT ON TABLES TO ${id(reader)}; ` +
      `ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO ${id(reader)} WITH GRANT OPTION; SELECT 1 AS ok`,
  );
  expect(made.rows).toEqual([{ ok: 1 }]);
  return { user, pw, clone, schema, reader, readerPw };
}

/** The application (logged in as `login`) makes a table and a sequence; what the reader may do with them. */
async function readerSees(login: string, pw: string, s: { schema: string; reader: string; readerPw: string }): Promise<unknown> {
  const table = name('t');
  const made = await asLogin(
    env,
    login,
    pw,
    `CREATE TABLE ${id(s.schema)}.${id(table)} (v int); INSERT INTO ${id(s.schema)}.${id(table)} VALUES (1); ` +
      `CREATE SEQUENCE ${id(s.schema)}.${id(`${table}_seq`)}; SELECT 1 AS ok`,
  );
  expect(made.rows).toEqual([{ ok: 1 }]);
  return asLogin(
    env,
    s.reader,
    s.readerPw,
    `SELECT (SELECT count(*)::int FROM ${id(s.schema)}.${id(table)}) AS n, ` +
      `has_sequence_privilege(${lit(`${id(s.schema)}.${id(`${table}_seq`)}`)}, 'USAGE WITH GRANT OPTION') AS seq`,
  );
}

describe('default privileges the clone defined (taken over from AWS’s multi-user function)', () => {
  it('tables made after the switch are readable by the role the clone’s defaults named, through either login', async () => {
    const s = await cloneWithDefaults();
    const arn = await rig.secret(secretValueFor(env, s.user, s.pw, { masterarn: superMaster }));
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    await assertPostgresEquivalent(db, s.user, s.clone);
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(s.clone);
    expect(await readerSees(s.clone, current.password, s)).toEqual({ rows: [{ n: 1, seq: true }] });
    expect(await readerSees(s.user, s.pw, s)).toEqual({ rows: [{ n: 1, seq: true }] });
    const left = await db.query('SELECT count(*)::int AS n FROM pg_default_acl WHERE defaclrole = $1::regrole', [s.clone]);
    expect(left.rows[0].n).toBe(0);
  });

  it('a DBA’s later revoke of those defaults on the original sticks: the next rotation does not bring them back', async () => {
    const s = await cloneWithDefaults();
    const arn = await rig.secret(secretValueFor(env, s.user, s.pw, { masterarn: superMaster }));
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    await db.query(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${id(s.user)} IN SCHEMA ${id(s.schema)} REVOKE SELECT ON TABLES FROM ${id(s.reader)}`,
    );
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    await assertPostgresEquivalent(db, s.user, s.clone);
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(s.user);
    expect(await readerSees(s.user, current.password, s)).toEqual({ code: '42501' });
  });

  it('what only narrows the clone’s built-in defaults (EXECUTE revoked from PUBLIC) is left on it and named, the grants still move', async () => {
    const s = await cloneWithDefaults();
    const clonePw = password();
    await db.query(`ALTER ROLE ${id(s.clone)} PASSWORD ${lit(clonePw)}`);
    const narrowed = await asLogin(
      env,
      s.clone,
      clonePw,
      `ALTER DEFAULT PRIVILEGES REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC; SELECT 1 AS ok`,
    );
    expect(narrowed.rows).toEqual([{ ok: 1 }]);
    const arn = await rig.secret(secretValueFor(env, s.user, s.pw, { masterarn: superMaster }));
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    await assertPostgresEquivalent(db, s.user, s.clone);
    const current = await secretValue(rig.endpoint.client, arn);
    expect(await readerSees(s.clone, current.password, s)).toEqual({ rows: [{ n: 1, seq: true }] });
    const warnings = rig.logs.lines.filter((l) => l.level === 'warn').map((l) => String(l.message));
    expect(warnings.some((w) => w.startsWith(`"${s.clone}" keeps default privileges that narrow its built-in ones (on FUNCTIONS`))).toBe(
      true,
    );
    // The original's own defaults are as the DBA left them: new functions stay executable by PUBLIC.
    const left = await db.query(
      'SELECT d.defaclobjtype::text AS kind FROM pg_default_acl d WHERE d.defaclrole = $1::regrole AND d.defaclnamespace = 0 ORDER BY 1',
      [s.user],
    );
    expect(left.rows).toEqual([{ kind: 'S' }]);
  });

  it('default privileges the clone defined in another database: named in a warning with the database, the rotation goes on', async () => {
    const s = await cloneWithDefaults();
    const other = name('db');
    databases.push(other);
    await db.query(`CREATE DATABASE ${id(other)}`);
    const inOther = await admin(env, other);
    try {
      await inOther.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${id(s.clone)} GRANT SELECT ON TABLES TO ${id(s.reader)}`);
    } finally {
      await inOther.end();
    }
    const arn = await rig.secret(secretValueFor(env, s.user, s.pw, { masterarn: superMaster }));
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    const here = String((await db.query('SELECT current_database() AS d')).rows[0].d);
    await assertPostgresEquivalent(db, s.user, s.clone, { databases: [here] });
    const warnings = rig.logs.lines.filter((l) => l.level === 'warn').map((l) => String(l.message));
    expect(warnings.some((w) => w.startsWith(`"${s.clone}" defined 1 default-privilege entry in database "${other}"`))).toBe(true);
  });

  it('RDS-like master (CREATEROLE, not superuser) that created the clone: the defaults move too', async () => {
    const master = name('m');
    const masterPw = password();
    roles.push(master);
    await createRole(db, master, masterPw, 'CREATEROLE');
    const asMaster = await admin({ ...env, PGUSER: master, PGPASSWORD: masterPw });
    try {
      const s = await cloneWithDefaults(asMaster);
      const membershipsOfMaster = async (): Promise<unknown> =>
        (
          await db.query(
            'SELECT roleid::regrole::text AS r, admin_option AS a FROM pg_auth_members WHERE member = $1::regrole ORDER BY 1',
            [master],
          )
        ).rows;
      const before = await membershipsOfMaster();
      const masterArn = await rig.secret(secretValueFor(env, master, masterPw));
      const arn = await rig.secret(secretValueFor(env, s.user, s.pw, { masterarn: masterArn }));
      await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
      await assertPostgresEquivalent(db, s.user, s.clone);
      const current = await secretValue(rig.endpoint.client, arn);
      expect(await readerSees(s.clone, current.password, s)).toEqual({ rows: [{ n: 1, seq: true }] });
      // The clone the master borrowed for the move is given back: its memberships are as before.
      expect(await membershipsOfMaster()).toEqual(before);
    } finally {
      await asMaster.end();
    }
  });
});
