/**
 * Alternating users on the shared PostgreSQL, from account states met on production servers: what the
 * application does through the original must work the same through the alternate after the switch,
 * and what the master cannot carry is refused before any change, with the statement that lifts it.
 * - rights the server checks against the login role itself, before the `role` session default
 *   applies: REPLICATION, and CONNECT on a database granted to a NOINHERIT original;
 * - rights used through the session's current role: row-level security policies naming the role,
 *   default privileges FOR ROLE, column grants WITH GRANT OPTION, EXECUTE, sequences, large objects,
 *   a foreign server and its user mapping, for a role whose name needs quoting;
 * - a superuser-only setting and REPLICATION with an RDS-like master (CREATEROLE, not superuser);
 * - CONNECTION LIMIT 0 on the original (a disabled login) while the clone is in use: carrying it would
 *   lock the application out;
 * - NOLOGIN on the role whose password the rotation would set: refused, not re-enabled, nothing changed;
 * - a clone whose original was dropped;
 * - rights granted to the clone alone (memberships, tables, columns, databases, CREATEDB, BYPASSRLS): named
 *   while the clone is in use, revoked with a warning at the rotation that changes its password; what
 *   the master may not revoke is named and left.
 * Every name starts with `hpa_`; `assertPostgresEquivalent` runs after every rotation.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id } from 'pg';
import { randomBytes } from 'node:crypto';
import { assertPostgresEquivalent, postgresDifferences } from '../support/postgres-equivalence';
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

/** A unique name with this file's prefix, short enough for `_clone`. */
function name(kind = 'u'): string {
  return `hpa_${kind}_${randomBytes(4).toString('hex')}`;
}

/** The admin's database and this file's: other suites' databases come and go during a comparison. */
async function equivalent(original: string): Promise<void> {
  const current = String((await db.query('SELECT current_database() AS d')).rows[0].d);
  expect(await postgresDifferences(db, original, `${original}_clone`, { databases: [current, ...databases] })).toEqual([]);
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

/** A login role and its alternate's name, both dropped after the suite. */
async function loginRole(attributes = '', user = name()): Promise<{ user: string; pw: string }> {
  const pw = password();
  roles.push(user, `${user}_clone`);
  await createRole(db, user, pw, attributes);
  return { user, pw };
}

/** An RDS-like master: CREATEROLE, not superuser, with its secret. */
async function rdsLikeMaster(): Promise<{ master: string; arn: string }> {
  const master = name('m');
  const pw = password();
  roles.push(master);
  await createRole(db, master, pw, 'CREATEROLE');
  return { master, arn: await rig.secret(secretValueFor(env, master, pw)) };
}

/** Rotates the secret for `user` once; the error's message when refused. */
async function rotation(user: string, pw: string, masterArn = superMaster): Promise<{ arn: string; error?: string }> {
  const arn = await rig.secret(secretValueFor(env, user, pw, { masterarn: masterArn }));
  try {
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    return { arn };
  } catch (err) {
    return { arn, error: String((err as Error).message) };
  }
}

async function roleExists(role: string): Promise<boolean> {
  return (await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rows.length > 0;
}

describe('PostgreSQL alternate user: rights checked against the login role', () => {
  it('carries REPLICATION (a replication connection checks the login role), and takes it away when the original loses it', async () => {
    const { user, pw } = await loginRole('REPLICATION');
    const { arn, error } = await rotation(user, pw);
    expect(error).toBeUndefined();
    await assertPostgresEquivalent(db, user, `${user}_clone`);
    const flags = async (): Promise<boolean> =>
      (await db.query('SELECT rolreplication FROM pg_roles WHERE rolname = $1', [`${user}_clone`])).rows[0].rolreplication;
    expect(await flags()).toBe(true);
    await db.query(`ALTER ROLE ${id(user)} NOREPLICATION`);
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    await assertPostgresEquivalent(db, user, `${user}_clone`);
    expect(await flags()).toBe(false);
  });

  it('RDS-like master and a REPLICATION original: refused before any change, naming the statement a superuser runs', async () => {
    const { arn: masterArn } = await rdsLikeMaster();
    const { user, pw } = await loginRole('REPLICATION');
    const { arn, error } = await rotation(user, pw, masterArn);
    expect(error).toMatch(/RoleAdministrationError/);
    expect(error).toContain(`CREATE ROLE ${id(`${user}_clone`)} WITH LOGIN REPLICATION`);
    expect(await roleExists(`${user}_clone`)).toBe(false);
    // The application keeps its working login.
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(user);
    expect((await asLogin(env, user, pw, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('NOINHERIT original granted CONNECT on a database (PUBLIC revoked): the alternate can open it after the switch', async () => {
    const { user, pw } = await loginRole('NOINHERIT');
    const database = name('db');
    databases.push(database);
    await db.query(`CREATE DATABASE ${id(database)}`);
    await db.query(`REVOKE CONNECT ON DATABASE ${id(database)} FROM PUBLIC`);
    await db.query(`GRANT CONNECT ON DATABASE ${id(database)} TO ${id(user)}`);
    const { arn, error } = await rotation(user, pw);
    expect(error).toBeUndefined();
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(`${user}_clone`);
    const seen = await asLogin({ ...env, PGDATABASE: database }, current.username, current.password, 'SELECT current_user AS u');
    expect(seen).toEqual({ rows: [{ u: user }] });
    await equivalent(user);
  });
});

describe('PostgreSQL alternate user: taking over a NOINHERIT pair', () => {
  it('a NOINHERIT original and a NOINHERIT clone that owns a table (an earlier tool’s state): the table moves and both read it', async () => {
    const { user, pw } = await loginRole('NOINHERIT');
    const clone = `${user}_clone`;
    const clonePw = password();
    await createRole(db, clone, clonePw, 'NOINHERIT');
    await db.query(`GRANT ${id(user)} TO ${id(clone)}`);
    const table = name('t');
    await db.query(`CREATE TABLE ${id(table)} (v int)`);
    await db.query(`INSERT INTO ${id(table)} VALUES (1)`);
    await db.query(`ALTER TABLE ${id(table)} OWNER TO ${id(clone)}`);
    try {
      const { arn, error } = await rotation(user, pw);
      expect(error).toBeUndefined();
      await equivalent(user);
      const current = await secretValue(rig.endpoint.client, arn);
      const read = `SELECT count(*)::int AS n FROM ${id(table)}`;
      expect(await asLogin(env, current.username, current.password, read)).toEqual({ rows: [{ n: 1 }] });
      expect(await asLogin(env, user, pw, read)).toEqual({ rows: [{ n: 1 }] });
    } finally {
      await db.query(`DROP TABLE IF EXISTS ${id(table)}`);
    }
  });
});

describe('PostgreSQL alternate user: rights used through the current role', () => {
  it('a quoted mixed-case role with RLS policies, default privileges, column grants WITH GRANT OPTION, EXECUTE, sequences, a large object and a user mapping: the alternate sees the same', async () => {
    const { user, pw } = await loginRole('', `hpa_"Odd'Name"_${randomBytes(3).toString('hex')}`);
    const reader = name('r');
    const schema = name('s');
    const server = name('srv');
    roles.push(reader);
    await db.query(`CREATE ROLE ${id(reader)} NOLOGIN`);
    await db.query(`CREATE SCHEMA ${id(schema)}`);
    await db.query(`GRANT USAGE, CREATE ON SCHEMA ${id(schema)} TO ${id(user)}`);
    await db.query(`ALTER ROLE ${id(user)} SET search_path = ${id(schema)}, "$user"`);
    await db.query(`ALTER DEFAULT PRIVILEGES FOR ROLE ${id(user)} IN SCHEMA ${id(schema)} GRANT SELECT ON TABLES TO ${id(reader)}`);
    await db.query(`CREATE TABLE ${id(schema)}.rows_by_policy (v int)`);
    await db.query(`INSERT INTO ${id(schema)}.rows_by_policy VALUES (1), (2)`);
    await db.query(`ALTER TABLE ${id(schema)}.rows_by_policy ENABLE ROW LEVEL SECURITY`);
    await db.query(`CREATE POLICY only_one ON ${id(schema)}.rows_by_policy TO ${id(user)} USING (v = 1)`);
    await db.query(`GRANT SELECT ON ${id(schema)}.rows_by_policy TO ${id(user)}`);
    await db.query(`CREATE TABLE ${id(schema)}.cols (a int, hidden int)`);
    await db.query(`GRANT SELECT (a) ON ${id(schema)}.cols TO ${id(user)} WITH GRANT OPTION`);
    await db.query(`CREATE FUNCTION ${id(schema)}.f() RETURNS int LANGUAGE sql AS 'SELECT 7'`);
    await db.query(`REVOKE EXECUTE ON FUNCTION ${id(schema)}.f() FROM PUBLIC`);
    await db.query(`GRANT EXECUTE ON FUNCTION ${id(schema)}.f() TO ${id(user)}`);
    await db.query(`CREATE SEQUENCE ${id(schema)}.seq`);
    await db.query(`GRANT USAGE ON SEQUENCE ${id(schema)}.seq TO ${id(user)}`);
    const lo = Number((await db.query(`SELECT lo_from_bytea(0, 'lo-data'::bytea) AS o`)).rows[0].o);
    await db.query(`GRANT SELECT ON LARGE OBJECT ${lo} TO ${id(user)}`);
    // The shared server's database is left as found: the extension goes again if this test added it.
    const addedFdw = (await db.query("SELECT 1 FROM pg_extension WHERE extname = 'postgres_fdw'")).rows.length === 0;
    if (addedFdw) await db.query('CREATE EXTENSION postgres_fdw');
    await db.query(`CREATE SERVER ${id(server)} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', dbname 'postgres')`);
    await db.query(`GRANT USAGE ON FOREIGN SERVER ${id(server)} TO ${id(user)}`);
    await db.query(`CREATE USER MAPPING FOR ${id(user)} SERVER ${id(server)} OPTIONS (user 'remote_reader')`);
    try {
      const probe = (table: string): string =>
        [
          `CREATE TABLE ${id(table)} (v int)`,
          `GRANT SELECT (a) ON cols TO ${id(reader)}`,
          `REVOKE SELECT (a) ON cols FROM ${id(reader)}`,
          `SELECT (SELECT count(*)::int FROM rows_by_policy) AS rls, (SELECT count(*)::int FROM (SELECT a FROM cols) c) AS cols, f() AS f, ` +
            `nextval('seq') > 0 AS seq, convert_from(lo_get(${lo}), 'UTF8') AS lo, ` +
            `(SELECT count(*)::int FROM pg_user_mappings WHERE srvname = '${server}' AND usename = current_user) AS mapping, ` +
            `has_table_privilege(${db.escapeLiteral(reader)}, ${db.escapeLiteral(`${schema}.${table}`)}, 'SELECT') AS reader_reads_new_table`,
        ].join('; ');
      const expected = { rls: 1, cols: 0, f: 7, seq: true, lo: 'lo-data', mapping: 1, reader_reads_new_table: true };
      expect(await asLogin(env, user, pw, probe('by_original'))).toEqual({ rows: [expected] });
      const { arn, error } = await rotation(user, pw);
      expect(error).toBeUndefined();
      const current = await secretValue(rig.endpoint.client, arn);
      expect(current.username).toBe(`${user}_clone`);
      expect(await asLogin(env, current.username, current.password, probe('by_alternate'))).toEqual({ rows: [expected] });
      await equivalent(user);
    } finally {
      await db.query(`DROP SCHEMA ${id(schema)} CASCADE`);
      await db.query(`SELECT lo_unlink(${lo})`);
      await db.query(`DROP SERVER ${id(server)} CASCADE`);
      if (addedFdw) await db.query('DROP EXTENSION postgres_fdw');
    }
  });
});

describe('PostgreSQL alternate user: what the master cannot carry', () => {
  it('RDS-like master and a superuser-only setting on the original: refused before any change with GRANT SET ON PARAMETER, and rotates once granted', async () => {
    const { master, arn: masterArn } = await rdsLikeMaster();
    const { user, pw } = await loginRole();
    await db.query(`ALTER ROLE ${id(user)} SET log_min_duration_statement = 250`);
    const { arn, error } = await rotation(user, pw, masterArn);
    expect(error).toMatch(/RoleAdministrationError/);
    expect(error).toContain(`GRANT SET ON PARAMETER "log_min_duration_statement" TO ${id(master)}`);
    expect(await roleExists(`${user}_clone`)).toBe(false);
    await db.query(`GRANT SET ON PARAMETER log_min_duration_statement TO ${id(master)}`);
    try {
      // Secrets Manager's next attempt of the same rotation.
      await rig.endpoint.local.retryRotation(arn);
      expect((await secretValue(rig.endpoint.client, arn)).username).toBe(`${user}_clone`);
      await assertPostgresEquivalent(db, user, `${user}_clone`);
    } finally {
      await db.query(`REVOKE SET ON PARAMETER log_min_duration_statement FROM ${id(master)}`);
    }
  });

  it('CONNECTION LIMIT 0 on the original while the clone is in use: refused before any change, the clone keeps logging in', async () => {
    const { user, pw } = await loginRole();
    const { arn } = await rotation(user, pw);
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(`${user}_clone`);
    await db.query(`ALTER ROLE ${id(user)} CONNECTION LIMIT 0`);
    await expect(rotate(rig.endpoint.client, arn, rig.fn('alternating-users'))).rejects.toThrow(/OriginalRoleClosedError/);
    expect((await db.query('SELECT rolconnlimit FROM pg_roles WHERE rolname = $1', [`${user}_clone`])).rows).toEqual([
      { rolconnlimit: -1 },
    ]);
    expect(await asLogin(env, current.username, current.password, 'SELECT 1 AS one')).toEqual({ rows: [{ one: 1 }] });
    expect((await secretValue(rig.endpoint.client, arn)).username).toBe(`${user}_clone`);
  });

  it('CONNECTION LIMIT 0 on the clone alone (the original open): lifted with a warning, as the clone is about to be in use', async () => {
    const { user, pw } = await loginRole();
    const { arn } = await rotation(user, pw);
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    await db.query(`ALTER ROLE ${id(`${user}_clone`)} CONNECTION LIMIT 0`);
    await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(`${user}_clone`);
    expect(await asLogin(env, current.username, current.password, 'SELECT 1 AS one')).toEqual({ rows: [{ one: 1 }] });
    expect(
      rig.logs.lines.some((l) => l.level === 'warn' && String(l.message).startsWith(`Lifted CONNECTION LIMIT 0 from "${user}_clone"`)),
    ).toBe(true);
    await equivalent(user);
  });

  it('NOLOGIN on the role whose password the rotation would set (the original, the clone in use): refused login-disabled before any change', async () => {
    const { user, pw } = await loginRole();
    const { arn } = await rotation(user, pw);
    await db.query(`ALTER ROLE ${id(user)} NOLOGIN`);
    const stored = async (): Promise<unknown> => (await db.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [user])).rows;
    const before = await stored();
    await expect(rotate(rig.endpoint.client, arn, rig.fn('alternating-users'))).rejects.toThrow(
      /login-disabled|may not log in \(NOLOGIN\)/,
    );
    expect(await stored()).toEqual(before);
    expect((await db.query('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [user])).rows).toEqual([{ rolcanlogin: false }]);
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(`${user}_clone`);
    expect(await asLogin(env, current.username, current.password, 'SELECT 1 AS one')).toEqual({ rows: [{ one: 1 }] });
  });

  it('a clone whose original was dropped: refused, naming both ways out, and no role is created', async () => {
    const { user, pw } = await loginRole();
    const { arn } = await rotation(user, pw);
    const current = await secretValue(rig.endpoint.client, arn);
    expect(current.username).toBe(`${user}_clone`);
    await db.query(`DROP ROLE ${id(user)}`);
    const again = await rotation(current.username, current.password);
    expect(again.error).toMatch(/OriginalRoleMissingError/);
    expect(again.error).toContain(`ALTER ROLE ${id(`${user}_clone`)} RESET role`);
    expect(await roleExists(user)).toBe(false);
    expect((await secretValue(rig.endpoint.client, again.arn)).username).toBe(`${user}_clone`);
  });
});

describe('PostgreSQL alternate user: rights granted to the clone alone', () => {
  it('are named while the clone is in use, then revoked at the rotation that changes its password; grants in other databases are named', async () => {
    const { user, pw } = await loginRole();
    const clone = `${user}_clone`;
    const { arn } = await rotation(user, pw);
    const extra = name('g');
    const table = name('t');
    const other = name('db');
    roles.push(extra);
    databases.push(other);
    await db.query(`CREATE ROLE ${id(extra)} NOLOGIN`);
    await db.query(`CREATE TABLE ${id(table)} (a int, b int)`);
    await db.query(`CREATE DATABASE ${id(other)}`);
    const inOther = await admin(env, other);
    try {
      await db.query(`GRANT ${id(extra)} TO ${id(clone)}`);
      await db.query(`GRANT SELECT ON ${id(table)} TO ${id(clone)}`);
      await db.query(`GRANT UPDATE (b) ON ${id(table)} TO ${id(clone)}`);
      await db.query(`GRANT CREATE ON DATABASE ${id(other)} TO ${id(clone)}`);
      await db.query(`ALTER ROLE ${id(clone)} CREATEDB BYPASSRLS`);
      await inOther.query(`CREATE TABLE there (v int)`);
      await inOther.query(`GRANT SELECT ON there TO ${id(clone)}`);
      expect(await postgresDifferences(db, user, clone, { databases: [] })).not.toEqual([]);
      const warnings = (): string[] => rig.logs.lines.filter((l) => l.level === 'warn').map((l) => String(l.message));
      // AWSCURRENT is the clone: the application may rely on them until the switch. Named, not revoked.
      await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
      expect((await secretValue(rig.endpoint.client, arn)).username).toBe(user);
      const inUse = warnings().find((w) => w.startsWith(`"${clone}" is in use`)) ?? '';
      // Schema-qualified: the master resolves names in pg_catalog only.
      expect(inUse).toContain(`ON TABLE public.${table}`);
      expect(inUse).toContain(`grant them to "${user}"`);
      expect((await db.query(`SELECT has_table_privilege($1, $2, 'SELECT') AS ok`, [clone, table])).rows).toEqual([{ ok: true }]);
      // The next rotation changes the clone's password: revoked.
      await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
      expect((await secretValue(rig.endpoint.client, arn)).username).toBe(clone);
      await equivalent(user);
      const revoked = warnings().find((w) => w.startsWith(`Revoked from "${clone}"`)) ?? '';
      expect(revoked).toContain(`membership in ${id(extra)}`);
      expect(revoked).toContain(`ON TABLE public.${table}`);
      expect(revoked).toContain(`ON DATABASE ${other}`);
      expect(revoked).toMatch(/CREATEDB; BYPASSRLS/);
      const attributes = await db.query('SELECT rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = $1', [clone]);
      expect(attributes.rows).toEqual([{ rolcreatedb: false, rolbypassrls: false }]);
      expect(warnings().some((w) => w.includes(`in database "${other}"`))).toBe(true);
      const still = await inOther.query(`SELECT has_table_privilege($1, 'there', 'SELECT') AS ok`, [clone]);
      expect(still.rows[0].ok).toBe(true);
    } finally {
      await inOther.end();
      await db.query(`DROP TABLE ${id(table)}`);
    }
  });

  it('RDS-like master without rights on the object: the grant is left and named, and the rotation completes', async () => {
    const { arn: masterArn } = await rdsLikeMaster();
    const { user, pw } = await loginRole();
    const clone = `${user}_clone`;
    const { arn, error } = await rotation(user, pw, masterArn);
    expect(error).toBeUndefined();
    const table = name('t');
    await db.query(`CREATE TABLE ${id(table)} (v int)`);
    try {
      await db.query(`GRANT SELECT ON ${id(table)} TO ${id(clone)}`);
      for (const expected of [user, clone]) {
        await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
        expect((await secretValue(rig.endpoint.client, arn)).username).toBe(expected);
      }
      const warnings = rig.logs.lines.filter((l) => l.level === 'warn').map((l) => String(l.message));
      expect(warnings.some((w) => w.startsWith(`"${clone}" keeps rights`) && w.includes(`ON TABLE public.${table}`))).toBe(true);
    } finally {
      await db.query(`DROP TABLE ${id(table)}`);
    }
  });
});
