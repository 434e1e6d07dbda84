/**
 * The equivalence check's own test: a clone made by the product's sync is equivalent to its original,
 * and each kind of difference the issue lists, made by hand on the clone, is reported by name.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id, escapeLiteral as lit } from 'pg';
import { createHash } from 'node:crypto';
import { postgresEngine } from '../../shared/engines/postgres';
import { syncPostgresAlternateUser } from '../../shared/engines/postgres-alternate-user';
import { assertPostgresEquivalent, postgresDifferences } from '../support/postgres-equivalence';
import { admin, createRole, dropAll, name, password, sessionOf } from '../support/postgres-alternate-support';

const env = process.env;
let db: Client;
const roles: string[] = [];
let original: string;
let clone: string;
let owner: string;
let table: string;

/**
 * The databases this file compares in: other suites create databases with database-wide role defaults
 * (which apply to every role) while this one runs, and a clone synced before such a default appeared
 * would differ there until its next sync. The CONNECT test adds its own database.
 */
const scope = { databases: ['postgres'] as string[] };

async function sync(): Promise<void> {
  const session = sessionOf(db);
  await syncPostgresAlternateUser(session, await postgresEngine.serverInfo(session), {
    currentUsername: original,
    alternateUsername: clone,
    password: password(),
  });
}

beforeAll(async () => {
  db = await admin(env);
  original = name();
  clone = `${original}_clone`;
  owner = name('own');
  table = name('t');
  roles.push(original, clone, owner);
  await createRole(db, original, password(), "CONNECTION LIMIT 12 VALID UNTIL '2099-03-01'");
  await db.query(`CREATE ROLE ${id(owner)} NOLOGIN`);
  await db.query(`GRANT ${id(owner)} TO ${id(original)}`);
  await db.query(`ALTER ROLE ${id(original)} SET search_path = "$user", public`);
  await db.query(`ALTER ROLE ${id(original)} IN DATABASE postgres SET statement_timeout = '20s'`);
  await db.query(`CREATE TABLE ${id(table)} (v int)`);
  await db.query(`ALTER TABLE ${id(table)} OWNER TO ${id(original)}`);
  await sync();
});

afterAll(async () => {
  await db.query(`DROP TABLE IF EXISTS ${id(table)}`).catch(() => undefined);
  await db?.end();
  await dropAll(env, roles);
});

/** Makes one difference, expects the check to name it (and only such lines), then undoes it. */
async function catches(make: string, what: RegExp, undo: string | (() => Promise<void>)): Promise<void> {
  await assertPostgresEquivalent(db, original, clone, scope);
  await db.query(make);
  try {
    const found = await postgresDifferences(db, original, clone, scope);
    expect(found.map((d) => d.what)).toEqual(expect.arrayContaining([expect.stringMatching(what)]));
    // The assertion's message names the same line (the pattern unanchored: the message holds all lines).
    await expect(assertPostgresEquivalent(db, original, clone, scope)).rejects.toThrow(new RegExp(what.source.replace(/^\^|\$$/g, '')));
  } finally {
    if (typeof undo === 'string') await db.query(undo);
    else await undo();
  }
  await assertPostgresEquivalent(db, original, clone, scope);
}

describe('assertPostgresEquivalent', () => {
  it('passes on a clone made by the sync', async () => {
    await assertPostgresEquivalent(db, original, clone, scope);
    expect(await postgresDifferences(db, original, clone, scope)).toEqual([]);
  });

  it('catches a role-wide session default', () =>
    catches(
      `ALTER ROLE ${id(clone)} SET search_path = 'elsewhere'`,
      /^session defaults \(database postgres\)$/,
      `ALTER ROLE ${id(clone)} SET search_path = '$user', 'public'`,
    ));

  it('catches a per-database session default', () =>
    catches(
      `ALTER ROLE ${id(clone)} IN DATABASE postgres RESET statement_timeout`,
      /^session defaults \(database postgres\)$/,
      `ALTER ROLE ${id(clone)} IN DATABASE postgres SET statement_timeout = '20s'`,
    ));

  it('catches a different start role (the toolkit-managed `role`)', () =>
    catches(
      `ALTER ROLE ${id(clone)} SET role = ${lit(owner)}`,
      /^starts as \(database postgres\)$/,
      `ALTER ROLE ${id(clone)} SET role = ${lit(original)}`,
    ));

  it('catches a start role neither may take, named by both (each then starts as itself, not as the same role)', async () => {
    const stranger = name('own');
    roles.push(stranger);
    await db.query(`CREATE ROLE ${id(stranger)} NOLOGIN`);
    await catches(
      `ALTER ROLE ${id(original)} SET role = ${lit(stranger)}; ALTER ROLE ${id(clone)} SET role = ${lit(stranger)}`,
      /^starts as \(database postgres\)$/,
      `ALTER ROLE ${id(original)} RESET role; ALTER ROLE ${id(clone)} SET role = ${lit(original)}`,
    );
  });

  it('catches default privileges the alternate defined for itself (they reach nothing either login creates)', () =>
    catches(
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${id(clone)} GRANT SELECT ON TABLES TO PUBLIC`,
      /^default privileges defined by the alternate/,
      `ALTER DEFAULT PRIVILEGES FOR ROLE ${id(clone)} REVOKE SELECT ON TABLES FROM PUBLIC`,
    ));

  it('catches CONNECTION LIMIT', () =>
    catches(`ALTER ROLE ${id(clone)} CONNECTION LIMIT 3`, /^CONNECTION LIMIT$/, `ALTER ROLE ${id(clone)} CONNECTION LIMIT 12`));

  it('catches VALID UNTIL', () =>
    catches(`ALTER ROLE ${id(clone)} VALID UNTIL 'infinity'`, /^VALID UNTIL$/, `ALTER ROLE ${id(clone)} VALID UNTIL '2099-03-01'`));

  it('catches INHERIT', () => catches(`ALTER ROLE ${id(clone)} NOINHERIT`, /^INHERIT$/, `ALTER ROLE ${id(clone)} INHERIT`));

  it('catches REPLICATION (checked against the login role)', () =>
    catches(`ALTER ROLE ${id(clone)} REPLICATION`, /^REPLICATION$/, `ALTER ROLE ${id(clone)} NOREPLICATION`));

  it('catches CONNECT at login: a database granted to the original only, and a NOINHERIT clone (the shared server is before 16)', async () => {
    const major = Number((await db.query("SELECT current_setting('server_version_num')::int / 10000 AS m")).rows[0].m);
    // From 16 the clone's membership is granted WITH INHERIT TRUE whatever its INHERIT attribute says.
    if (major >= 16) return;
    const database = name('db');
    await db.query(`CREATE DATABASE ${id(database)}`);
    scope.databases.push(database);
    try {
      await db.query(`REVOKE CONNECT ON DATABASE ${id(database)} FROM PUBLIC`);
      await db.query(`GRANT CONNECT ON DATABASE ${id(database)} TO ${id(original)}`);
      await catches(
        `ALTER ROLE ${id(clone)} NOINHERIT`,
        new RegExp(`^CONNECT at login \\(database ${database}\\)$`),
        `ALTER ROLE ${id(clone)} INHERIT`,
      );
    } finally {
      await db.query(`DROP DATABASE ${id(database)}`);
    }
  });

  it('catches the password hashing (md5 against SCRAM)', async () => {
    const md5 = `md5${createHash('md5')
      .update(password() + clone)
      .digest('hex')}`;
    // Undone by the sync (the next rotation's), which sets the password in the original's hashing.
    await catches(`ALTER ROLE ${id(clone)} PASSWORD ${lit(md5)}`, /^password hashing$/, sync);
  });

  it('catches an extra membership and its options', async () => {
    const extra = name('g');
    roles.push(extra);
    await db.query(`CREATE ROLE ${id(extra)} NOLOGIN`);
    await catches(`GRANT ${id(extra)} TO ${id(clone)}`, new RegExp(`^membership in ${extra}$`), `REVOKE ${id(extra)} FROM ${id(clone)}`);
    await catches(
      `GRANT ${id(extra)} TO ${id(clone)} WITH ADMIN OPTION`,
      new RegExp(`^membership in ${extra}$`),
      `REVOKE ${id(extra)} FROM ${id(clone)}`,
    );
  });

  it('catches a privilege granted to the alternate only', async () => {
    // On a table the original cannot read (on its own table the clone reaches every right anyway).
    const other = name('t');
    await db.query(`CREATE TABLE ${id(other)} (v int)`);
    try {
      await catches(
        `GRANT SELECT ON ${id(other)} TO ${id(clone)}`,
        new RegExp(`^SELECT on table ${other}$`),
        `REVOKE SELECT ON ${id(other)} FROM ${id(clone)}`,
      );
    } finally {
      await db.query(`DROP TABLE ${id(other)}`);
    }
  });

  it('catches an object the alternate owns (what AWS’s clone leaves)', async () => {
    const owned = name('t');
    await db.query(`CREATE TABLE ${id(owned)} (v int)`);
    try {
      await catches(
        `ALTER TABLE ${id(owned)} OWNER TO ${id(clone)}`,
        new RegExp(`^(OWNER|SELECT) on table ${owned}$`),
        `ALTER TABLE ${id(owned)} OWNER TO CURRENT_USER`,
      );
    } finally {
      await db.query(`DROP TABLE ${id(owned)}`);
    }
  });

  it('catches a right reachable by the alternate only (CREATEDB)', () =>
    catches(`ALTER ROLE ${id(clone)} CREATEDB`, /^reachable attributes/, `ALTER ROLE ${id(clone)} NOCREATEDB`));

  it('a re-run of the sync removes the differences it owns (settings, attributes, hashing)', async () => {
    await db.query(`ALTER ROLE ${id(clone)} SET work_mem = '1MB'`);
    await db.query(`ALTER ROLE ${id(clone)} CONNECTION LIMIT 1 NOINHERIT`);
    expect((await postgresDifferences(db, original, clone, scope)).length).toBeGreaterThan(0);
    await sync();
    await assertPostgresEquivalent(db, original, clone, scope);
  });
});
