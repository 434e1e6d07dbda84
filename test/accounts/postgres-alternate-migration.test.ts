/**
 * Taking over from AWS's PostgreSQL multi-user function (adv-05): its clone exists, is a member of the
 * original and owns the tables it created. After the switch, whichever role AWSCURRENT was on, both
 * logins use those tables, with a superuser master or an RDS-like one (CREATEROLE, not superuser).
 * Objects the clone owns in another database are refused before any change, naming the statement.
 * And the sync survives a crash at every statement: the connection dies mid-transaction, nothing is
 * left half-made, and the next attempt converges to an equivalent clone.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id } from 'pg';
import { postgresEngine } from '../../shared/engines/postgres';
import { syncPostgresAlternateUser } from '../../shared/engines/postgres-alternate-user';
import type { SqlSession } from '../../shared/rotation/database-engine';
import { assertPostgresEquivalent, postgresDifferences } from '../support/postgres-equivalence';
import { rotate, secretValue } from '../support/rotation-endpoint';
import {
  admin,
  adminMasterValue,
  asLogin,
  createRole,
  dropAll,
  name,
  password,
  secretValueFor,
  sessionOf,
  startRig,
  type Rig,
} from '../support/postgres-alternate-support';

const env = process.env;
let rig: Rig;
let db: Client;
let superMaster: string;
const roles: string[] = [];
const databases: string[] = [];

/** This file's databases and the admin's: other suites' databases come and go while a comparison runs. */
async function ownDatabases(): Promise<{ databases: string[] }> {
  const current = String((await db.query('SELECT current_database() AS d')).rows[0].d);
  return { databases: [current, ...databases] };
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

/** The state AWS's function leaves: clone = CREATE ROLE … LOGIN; GRANT original TO clone; the clone creates objects. */
async function awsTemplateState(
  creator: Client = db,
): Promise<{ user: string; pw: string; clone: string; clonePw: string; schema: string }> {
  const user = name();
  const pw = password();
  const clone = `${user}_clone`;
  const clonePw = password();
  roles.push(user, clone);
  await createRole(db, user, pw);
  const schema = name('s');
  await db.query(`CREATE SCHEMA ${id(schema)} AUTHORIZATION ${id(user)}`);
  await createRole(creator, clone, clonePw);
  await creator.query(`GRANT ${id(user)} TO ${id(clone)}`);
  const made = await asLogin(
    env,
    clone,
    clonePw,
    `CREATE TABLE ${id(schema)}.by_clone (id serial, v int); INSERT INTO ${id(schema)}.by_clone (v) VALUES (1); ` +
      `CREATE FUNCTION ${id(schema)}.clone_fn() RETURNS int LANGUAGE sql AS 'SELECT 1'; SELECT 1 AS ok`,
  );
  expect(made.rows).toEqual([{ ok: 1 }]);
  return { user, pw, clone, clonePw, schema };
}

const reads = (schema: string): string => `SELECT count(*)::int AS n, ${id(schema)}.clone_fn() AS f FROM ${id(schema)}.by_clone`;

describe('migration from AWS’s multi-user function (adv-05)', () => {
  it('AWSCURRENT on the original, superuser master: the clone keeps its tables, and the original gains them', async () => {
    const s = await awsTemplateState();
    const arn = await rig.secret(secretValueFor(env, s.user, s.pw, { masterarn: superMaster }));
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    await assertPostgresEquivalent(db, s.user, s.clone);
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(s.clone);
    expect((await asLogin(env, s.clone, current.password, reads(s.schema))).rows).toEqual([{ n: 1, f: 1 }]);
    expect((await asLogin(env, s.user, s.pw, `${reads(s.schema)}; `)).rows).toEqual([{ n: 1, f: 1 }]);
    // What the clone creates from now on belongs to the original too.
    expect(
      (await asLogin(env, s.clone, current.password, `CREATE TABLE ${id(s.schema)}.later (v int); SELECT current_user AS u`)).rows,
    ).toEqual([{ u: s.user }]);
  });

  it('AWSCURRENT on the clone (the other half of AWS’s secrets): the original’s password changes, the clone’s objects move to it', async () => {
    const s = await awsTemplateState();
    const arn = await rig.secret(secretValueFor(env, s.clone, s.clonePw, { masterarn: superMaster }));
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    await assertPostgresEquivalent(db, s.user, s.clone);
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(s.user);
    expect((await asLogin(env, s.user, current.password, reads(s.schema))).rows).toEqual([{ n: 1, f: 1 }]);
    expect((await asLogin(env, s.clone, s.clonePw, reads(s.schema))).rows).toEqual([{ n: 1, f: 1 }]);
  });

  it('RDS-like master (CREATEROLE, not superuser) that created the clone: borrows the clone for the reassignment and gives it back', async () => {
    const master = name('m');
    const masterPw = password();
    roles.push(master);
    await createRole(db, master, masterPw, 'CREATEROLE');
    const asMaster = await admin({ ...env, PGUSER: master, PGPASSWORD: masterPw });
    try {
      const s = await awsTemplateState(asMaster);
      const masterArn = await rig.secret(secretValueFor(env, master, masterPw));
      const arn = await rig.secret(secretValueFor(env, s.user, s.pw, { masterarn: masterArn }));
      await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
      await assertPostgresEquivalent(db, s.user, s.clone);
      const current = await secretValue(rig.endpoint.client, arn);
      expect((await asLogin(env, s.clone, current.password, reads(s.schema))).rows).toEqual([{ n: 1, f: 1 }]);
      const memberships = await db.query('SELECT count(*)::int AS n FROM pg_auth_members WHERE member = $1::regrole', [master]);
      expect(memberships.rows[0].n).toBe(0);
    } finally {
      await asMaster.end();
    }
  });

  it('refuses, before any change, when the clone owns objects in another database, naming the REASSIGN to run there', async () => {
    const s = await awsTemplateState();
    const other = name('db');
    databases.push(other);
    await db.query(`CREATE DATABASE ${id(other)}`);
    const inOther = await admin(env, other);
    try {
      await inOther.query(`CREATE TABLE elsewhere (v int)`);
      await inOther.query(`ALTER TABLE elsewhere OWNER TO ${id(s.clone)}`);
    } finally {
      await inOther.end();
    }
    const before = await postgresDifferences(db, s.user, s.clone, await ownDatabases());
    const arn = await rig.secret(secretValueFor(env, s.user, s.pw, { masterarn: superMaster }));
    await expect(rotate(rig.endpoint.client, arn, rig.fn('alternating-users'))).rejects.toThrow(/owns objects/);
    const failure = rig.logs.lines.filter((l) => l.outcome === 'failure').pop();
    expect(failure?.message).toContain(`1 in database "${other}"`);
    expect(failure?.message).toContain(`REASSIGN OWNED BY ${id(s.clone)} TO ${id(s.user)}`);
    expect(await postgresDifferences(db, s.user, s.clone, await ownDatabases())).toEqual(before);
    expect((await asLogin(env, s.clone, s.clonePw, reads(s.schema))).rows).toEqual([{ n: 1, f: 1 }]);
  });
});

describe('crash at every statement of the sync', () => {
  it('leaves nothing half-made, and the next attempt converges', async () => {
    const s = await awsTemplateState();
    await db.query(`ALTER ROLE ${id(s.user)} SET statement_timeout = '15s'`);
    await db.query(`ALTER ROLE ${id(s.user)} CONNECTION LIMIT 4`);
    const server = await postgresEngine.serverInfo(sessionOf(db));
    const initial = await postgresDifferences(db, s.user, s.clone, await ownDatabases());
    expect(initial.length).toBeGreaterThan(0);
    let crashes = 0;
    for (let crashAt = 1; ; crashAt++) {
      const victim = await admin(env);
      let count = 0;
      const session: SqlSession = {
        query: async (sql, params) => {
          if (++count === crashAt) {
            // The Lambda dies: the connection goes, the server rolls the open transaction back.
            await victim.end();
            throw new Error('crash');
          }
          return (await victim.query(sql, params === undefined ? undefined : [...params])).rows;
        },
        close: async () => undefined,
      };
      const outcome = await syncPostgresAlternateUser(session, server, {
        currentUsername: s.user,
        alternateUsername: s.clone,
        password: password(),
      }).then(
        () => 'done',
        () => 'crashed',
      );
      await victim.end().catch(() => undefined);
      if (outcome === 'done') break;
      crashes++;
      // Nothing half-made: exactly the state before.
      expect(await postgresDifferences(db, s.user, s.clone, await ownDatabases())).toEqual(initial);
    }
    expect(crashes).toBeGreaterThan(10);
    await assertPostgresEquivalent(db, s.user, s.clone);
    expect((await asLogin(env, s.user, s.pw, reads(s.schema))).rows).toEqual([{ n: 1, f: 1 }]);
  });
});
