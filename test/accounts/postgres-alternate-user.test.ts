/**
 * Alternating users on the shared PostgreSQL: after every rotation the alternate is the same account as
 * the original (checked from the catalogs by assertPostgresEquivalent) and behaves the same for the
 * application: session defaults (role-wide, per database, the role it starts as), attributes, password
 * hashing, and a changed or removed setting of the original followed on the next rotation. A database
 * of this suite's own carries the per-database and database-wide settings, so the shared `postgres`
 * database is never reconfigured.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id } from 'pg';
import { assertPostgresEquivalent, postgresDifferences } from '../support/postgres-equivalence';
import { rotate, secretValue } from '../support/rotation-endpoint';
import { postgresEngine } from '../../shared/engines/postgres';
import { syncPostgresAlternateUser } from '../../shared/engines/postgres-alternate-user';
import {
  adminMasterValue,
  admin,
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
let masterArn: string;
const roles: string[] = [];
const database = name('db');
let dbEnv: NodeJS.ProcessEnv;

beforeAll(async () => {
  rig = await startRig();
  db = await admin(env);
  await db.query(`CREATE DATABASE ${id(database)}`);
  dbEnv = { ...env, PGDATABASE: database };
  masterArn = await rig.secret(adminMasterValue(dbEnv));
});

afterAll(async () => {
  await db?.end();
  await dropAll(env, roles, [database]);
  await rig?.close();
});

/** A fresh original role in this suite's database, with its secret (masterarn: the superuser). */
async function original(
  attributes = '',
  hashing: 'scram' | 'md5' = 'scram',
): Promise<{ user: string; pw: string; arn: string; inDb: Client }> {
  const user = name();
  const pw = password();
  roles.push(user, `${user}_clone`);
  await createRole(db, user, pw, attributes, hashing);
  const inDb = await admin(env, database);
  await inDb.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${id(user)}`);
  const arn = await rig.secret(secretValueFor(dbEnv, user, pw, { masterarn: masterArn }));
  return { user, pw, arn, inDb };
}

async function rotateAndCheck(arn: string, base: string, inDb: Client): Promise<{ username: string; password: string }> {
  await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
  const current = await secretValue(rig.endpoint.client, arn);
  await assertPostgresEquivalent(inDb, base, `${base}_clone`);
  return current;
}

describe('PostgreSQL alternate user: session defaults and attributes (adv-04)', () => {
  it('carries role-wide and per-database settings, CONNECTION LIMIT, VALID UNTIL and NOINHERIT, and follows the original on every rotation', async () => {
    const { user, arn, inDb } = await original("NOINHERIT CONNECTION LIMIT 20 VALID UNTIL '2099-01-01'");
    try {
      const schema = name('s');
      await inDb.query(`CREATE SCHEMA ${id(schema)} AUTHORIZATION ${id(user)}`);
      await inDb.query(`CREATE TABLE ${id(schema)}.orders (id int)`);
      await inDb.query(`ALTER TABLE ${id(schema)}.orders OWNER TO ${id(user)}`);
      await db.query(`ALTER ROLE ${id(user)} SET search_path = ${id(schema)}, "$user", public`);
      await db.query(`ALTER ROLE ${id(user)} SET statement_timeout = '30s'`);
      await db.query(`ALTER ROLE ${id(user)} SET default_transaction_read_only = on`);
      await db.query(`ALTER ROLE ${id(user)} IN DATABASE ${id(database)} SET work_mem = '8MB'`);
      await db.query(`ALTER ROLE ${id(user)} IN DATABASE ${id(database)} SET lock_timeout = '5s'`);
      const probe =
        "SELECT current_setting('search_path') sp, current_setting('statement_timeout') st, current_setting('default_transaction_read_only') ro, " +
        "current_setting('work_mem') wm, current_setting('lock_timeout') lt, current_user AS runs_as, (SELECT count(*) FROM orders)::int AS n";

      let current = await rotateAndCheck(arn, user, inDb);
      expect(current.username).toBe(`${user}_clone`);
      const seen = await asLogin(dbEnv, current.username, current.password, probe);
      expect(seen.rows?.[0]).toEqual({ sp: `${schema}, "$user", public`, st: '30s', ro: 'on', wm: '8MB', lt: '5s', runs_as: user, n: 0 });

      // The DBA changes the original: the next rotation (which changes the ORIGINAL's password) still follows.
      await db.query(`ALTER ROLE ${id(user)} RESET default_transaction_read_only`);
      await db.query(`ALTER ROLE ${id(user)} IN DATABASE ${id(database)} RESET lock_timeout`);
      await db.query(`ALTER ROLE ${id(user)} SET statement_timeout = '45s'`);
      await db.query(`ALTER ROLE ${id(user)} CONNECTION LIMIT 7 INHERIT VALID UNTIL '2098-06-01'`);
      current = await rotateAndCheck(arn, user, inDb);
      expect(current.username).toBe(user);
      const clone = await inDb.query('SELECT rolconnlimit, rolinherit FROM pg_roles WHERE rolname = $1', [`${user}_clone`]);
      expect(clone.rows[0]).toEqual({ rolconnlimit: 7, rolinherit: true });

      current = await rotateAndCheck(arn, user, inDb);
      const after = await asLogin(dbEnv, current.username, current.password, probe);
      expect(after.rows?.[0]).toMatchObject({ st: '45s', ro: 'off', lt: '0', runs_as: user });
    } finally {
      await inDb.end();
    }
  });

  it('starts the alternate as the role the original starts as (ALTER ROLE … SET role), per database too, so what either creates the other can use', async () => {
    const { user, arn, inDb } = await original();
    const owner = name('own');
    roles.push(owner);
    try {
      await db.query(`CREATE ROLE ${id(owner)} NOLOGIN`);
      await db.query(`GRANT ${id(owner)} TO ${id(user)}`);
      await inDb.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${id(owner)}`);
      await db.query(`ALTER ROLE ${id(user)} IN DATABASE ${id(database)} SET role = ${id(owner)}`);
      const current = await rotateAndCheck(arn, user, inDb);
      const table = name('t');
      const made = await asLogin(dbEnv, current.username, current.password, `CREATE TABLE ${id(table)} (v int); SELECT current_user AS u`);
      expect(made.rows?.[0]).toEqual({ u: owner });
      const previous = await secretValue(rig.endpoint.client, arn, 'AWSPREVIOUS');
      expect(
        await asLogin(
          dbEnv,
          previous.username,
          previous.password,
          `INSERT INTO ${id(table)} VALUES (1); SELECT count(*)::int n FROM ${id(table)}`,
        ),
      ).toEqual({ rows: [{ n: 1 }] });
      // In the shared `postgres` database (no per-database role there) both start as the original.
      expect((await asLogin(env, current.username, current.password, 'SELECT current_user AS u')).rows?.[0]).toEqual({ u: user });
    } finally {
      await inDb.end();
    }
  });

  it('a role default the original cannot take (its role dropped, or the original taken out of it) is passed over at login: the alternate starts as the original does', async () => {
    const { user, pw, arn, inDb } = await original();
    const dropped = name('own');
    const left = name('own');
    roles.push(dropped, left);
    try {
      await db.query(`CREATE ROLE ${id(dropped)} NOLOGIN`);
      await db.query(`CREATE ROLE ${id(left)} NOLOGIN`);
      await db.query(`GRANT ${id(dropped)}, ${id(left)} TO ${id(user)}`);
      await db.query(`ALTER ROLE ${id(user)} IN DATABASE ${id(database)} SET role = ${id(dropped)}`);
      await db.query(`ALTER ROLE ${id(user)} SET role = ${id(left)}`);
      // pg_db_role_setting keeps the text: PostgreSQL warns at login and goes on to the next default.
      await db.query(`DROP ROLE ${id(dropped)}`);
      await db.query(`REVOKE ${id(left)} FROM ${id(user)}`);
      const startsAs = async (login: string, secret: string, where: NodeJS.ProcessEnv): Promise<unknown> =>
        (await asLogin(where, login, secret, 'SELECT current_user AS u')).rows?.[0];
      expect(await startsAs(user, pw, dbEnv)).toEqual({ u: user });
      const current = await rotateAndCheck(arn, user, inDb);
      expect(current.username).toBe(`${user}_clone`);
      expect(await startsAs(current.username, current.password, dbEnv)).toEqual({ u: user });
      expect(await startsAs(current.username, current.password, env)).toEqual({ u: user });
      await assertPostgresEquivalent(db, user, current.username, { databases: ['postgres', database] });
    } finally {
      await inDb.end();
    }
  });

  it('follows a database-wide role default (ALTER DATABASE … SET role) the original is subject to', async () => {
    const { user, arn, inDb } = await original();
    const owner = name('own');
    roles.push(owner);
    try {
      await db.query(`CREATE ROLE ${id(owner)} NOLOGIN`);
      await db.query(`GRANT ${id(owner)} TO ${id(user)}`);
      // The master's own sessions in this database would start as the owner too: keep the admin itself.
      await db.query(
        `ALTER ROLE ${id(String((await db.query('SELECT current_user AS u')).rows[0].u))} IN DATABASE ${id(database)} SET role = none`,
      );
      // Only this user (and its alternate, a member) may connect meanwhile: other suites' roles running
      // at the same time are then not subject to this database-wide default.
      await db.query(`REVOKE CONNECT ON DATABASE ${id(database)} FROM PUBLIC`);
      await db.query(`GRANT CONNECT ON DATABASE ${id(database)} TO ${id(user)}`);
      await db.query(`ALTER DATABASE ${id(database)} SET role = ${id(owner)}`);
      const current = await rotateAndCheck(arn, user, inDb);
      expect((await asLogin(dbEnv, current.username, current.password, 'SELECT current_user AS u')).rows?.[0]).toEqual({ u: owner });
    } finally {
      await db.query(`ALTER DATABASE ${id(database)} RESET role`);
      await db.query(`GRANT CONNECT ON DATABASE ${id(database)} TO PUBLIC`);
      await inDb.end();
    }
  });

  it('keeps an md5 original md5 on the alternate, and SCRAM stays SCRAM (the shared server authenticates by SCRAM: set directly)', async () => {
    const md5 = name();
    const scram = name();
    roles.push(md5, `${md5}_clone`, scram, `${scram}_clone`);
    await createRole(db, md5, password(), '', 'md5');
    await createRole(db, scram, password());
    const server = await postgresEngine.serverInfo(sessionOf(db));
    for (const user of [md5, scram]) {
      await syncPostgresAlternateUser(sessionOf(db), server, {
        currentUsername: user,
        alternateUsername: `${user}_clone`,
        password: password(),
      });
      await assertPostgresEquivalent(db, user, `${user}_clone`);
    }
    const kinds = await db.query('SELECT rolname, left(rolpassword, 3) AS k FROM pg_authid WHERE rolname = ANY($1::text[]) ORDER BY 1', [
      [`${md5}_clone`, `${scram}_clone`],
    ]);
    expect(Object.fromEntries(kinds.rows.map((r) => [r.rolname, r.k]))).toEqual({ [`${md5}_clone`]: 'md5', [`${scram}_clone`]: 'SCR' });
  });

  it('refuses to switch to an expired original (AWSCURRENT on the clone) and changes nothing', async () => {
    const { user, arn, inDb } = await original();
    try {
      await rotateAndCheck(arn, user, inDb);
      await db.query(`ALTER ROLE ${id(user)} VALID UNTIL '2001-01-01'`);
      const before = await postgresDifferences(inDb, user, `${user}_clone`);
      await expect(rotate(rig.endpoint.client, arn, rig.fn('alternating-users'))).rejects.toThrow();
      expect(rig.logs.lines.some((l) => String(l.message).includes(`role "${user}" expired`))).toBe(true);
      expect(await postgresDifferences(inDb, user, `${user}_clone`)).toEqual(before);
      // The clone, in use, still logs in: its VALID UNTIL was not touched.
      const current = await secretValue(rig.endpoint.client, arn);
      expect((await asLogin(dbEnv, current.username, current.password, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await inDb.end();
    }
  });
});

describe('PostgreSQL alternate user: a database dropped during the sync', () => {
  it('a database whose role default the clone must follow, dropped between the read and its setting, is passed over', async () => {
    const user = name();
    const owner = name('owner');
    const gone = name('gone');
    roles.push(user, `${user}_clone`, owner);
    await createRole(db, user, password());
    await db.query(`CREATE ROLE ${id(owner)} NOLOGIN`);
    await db.query(`GRANT ${id(owner)} TO ${id(user)}`);
    await db.query(`CREATE DATABASE ${id(gone)}`);
    // Only this user may connect there: a database-wide default that every role on the shared server could
    // start under would make other suites' clones, synced before it existed, differ from their originals.
    await db.query(`REVOKE CONNECT ON DATABASE ${id(gone)} FROM PUBLIC`);
    await db.query(`GRANT CONNECT ON DATABASE ${id(gone)} TO ${id(user)}`);
    // Sessions in that database start as the owner role: the clone needs a setting there to do the same.
    await db.query(`ALTER DATABASE ${id(gone)} SET role = ${id(owner)}`);
    const dropper = await admin(env);
    try {
      const inner = sessionOf(db);
      let dropped = false;
      // Another session drops the database just before the clone's setting there is written, as a
      // parallel DROP DATABASE can.
      const racing = {
        ...inner,
        query: async (sql: string, params?: readonly unknown[]) => {
          if (!dropped && sql.includes(`IN DATABASE ${id(gone)}`)) {
            dropped = true;
            await dropper.query(`DROP DATABASE ${id(gone)}`);
          }
          return inner.query(sql, params);
        },
      };
      const server = await postgresEngine.serverInfo(inner);
      await syncPostgresAlternateUser(racing, server, { currentUsername: user, alternateUsername: `${user}_clone`, password: password() });
      expect(dropped).toBe(true);
      await assertPostgresEquivalent(db, user, `${user}_clone`);
    } finally {
      await dropper.query(`DROP DATABASE IF EXISTS ${id(gone)}`);
      await dropper.end();
    }
  });
});
