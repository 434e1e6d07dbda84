/**
 * The PostgreSQL account states whose rotation takes a path the plain sweep does not (swept by
 * path-fault-sweep.ts from path-fault-sweep.postgres-*.test.ts): drift healed by the master; a refused
 * proof put back (also with a master that cannot log in, so the diagnosis fails); an RDS-like master that
 * the application's database refuses, healing drift from its own; an alternate whose own rights (a table
 * privilege, CREATEDB) are revoked while REPLICATION is carried.
 */
import { escapeIdentifier as ident, escapeLiteral as literal } from 'pg';
import { connectPostgresAdmin } from '../../local/admin-connections';
import { fixturePassword, fixtureUsername } from '../../local/fixtures/names';
import { noteSensitive } from '../../local/sensitive-values';
import { scramSha256Verifier } from '../../shared/engines/password-hashes';
import { connectPostgres } from '../../shared/engines/postgres';
import { AuthenticationError } from '../../shared/errors';
import type { Connector } from '../../shared/rotation/database-engine';
import type { PathScenario } from './path-fault-sweep';
import type { Rig } from './rotation-rig';

const PREFIX = 'rcr';

async function admin<T>(work: (q: (sql: string) => Promise<Array<Record<string, unknown>>>) => Promise<T>, database?: string): Promise<T> {
  const client = await connectPostgresAdmin({ ...process.env, ...(database !== undefined ? { PGDATABASE: database } : {}) });
  try {
    return await work(async (sql) => (await client.query(sql)).rows as Array<Record<string, unknown>>);
  } finally {
    await client.end();
  }
}

/** What the DBA set on a role: attributes, limits, expiry, settings and memberships (never the password). */
async function roleState(username: string): Promise<unknown> {
  return admin(async (q) => ({
    role: await q(
      'SELECT rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin, rolreplication, rolconnlimit, ' +
        `rolvaliduntil::text AS valid, rolbypassrls, rolconfig FROM pg_roles WHERE rolname = ${literal(username)}`,
    ),
    settings: await q(
      `SELECT setdatabase, setconfig FROM pg_db_role_setting WHERE setrole = (SELECT oid FROM pg_roles WHERE rolname = ${literal(username)}) ORDER BY 1`,
    ),
    memberOf: await q(
      'SELECT r.rolname FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid ' +
        `WHERE m.member = (SELECT oid FROM pg_roles WHERE rolname = ${literal(username)}) ORDER BY 1`,
    ),
  }));
}

/** What the DBA set on the role the secret stands for (the current one, when users alternate). */
async function currentRoleState(rig: Rig): Promise<unknown> {
  return roleState(rig.baseUsername);
}

/** The DBA changes the password behind the secret's back; the new one is the scenario's fallback login. */
function drifter(): { drift(rig: Rig): Promise<void>; logins(rig: Rig): Array<{ username: string; password: string }>; all: string[] } {
  const all: string[] = [];
  return {
    all,
    async drift(rig) {
      const password = fixturePassword();
      noteSensitive(password);
      all.push(password);
      await admin((q) => q(`ALTER ROLE ${ident(rig.baseUsername)} PASSWORD ${literal(scramSha256Verifier(password))}`));
    },
    logins: (rig) => (all.length > 0 ? [{ username: rig.baseUsername, password: all.at(-1)! }] : []),
  };
}

/** Limits, expiry and a setting of the DBA's, which the rotation must keep. */
async function dbaSettings(rig: Rig): Promise<void> {
  await admin((q) => q(`ALTER ROLE ${ident(rig.baseUsername)} CONNECTION LIMIT 20 VALID UNTIL 'infinity'`));
  await admin((q) => q(`ALTER ROLE ${ident(rig.baseUsername)} SET statement_timeout = '41s'`));
}

/** Single user, a superuser master: the DBA drifts the password before every point; the master proves and heals it. */
export function driftHealedByMaster(): PathScenario {
  const d = drifter();
  return {
    name: 'drift healed by the master',
    pathLog: /drift proven/,
    combination: { engine: 'postgres', strategy: 'single-user' },
    setUp: async () => ({ username: fixtureUsername(PREFIX), withMaster: true }),
    afterRig: dbaSettings,
    arrange: d.drift,
    fallbackLogins: d.logins,
    dbaState: currentRoleState,
    secrets: () => d.all,
    tearDown: async () => undefined,
  };
}

/**
 * The proving login (the pending secret's) refused, as a connection-limit race would, while `refusing`.
 * With `brokenMaster`, the secret's master (an RDS-like role) is stored with a wrong password, so the
 * proof's diagnosis fails too and the put-back runs on that path.
 */
export function refusedProof(options: { brokenMaster?: boolean } = {}): PathScenario {
  const master = { username: fixtureUsername(PREFIX), password: fixturePassword() };
  noteSensitive(master.password);
  let refusing = true;
  const connector: Connector = async (request) => {
    if (refusing && request.role === 'pending') {
      throw new AuthenticationError('PostgreSQL login with the pending secret was refused (53300, injected)', {
        reason: 'connection-limit',
      });
    }
    return connectPostgres(request);
  };
  return {
    name: options.brokenMaster ? 'a refused proof whose diagnosis fails put back' : 'a refused proof put back',
    // With a broken master, the put-back after a failed diagnosis says so in its own words.
    pathLog: options.brokenMaster ? /Could not prove .* \(.*\): the previous password was put back/ : /previous password was put back/,
    combination: { engine: 'postgres', strategy: 'single-user' },
    setUp: async () => {
      if (!options.brokenMaster) return { username: fixtureUsername(PREFIX), connector };
      await admin((q) =>
        q(`CREATE ROLE ${ident(master.username)} LOGIN CREATEROLE PASSWORD ${literal(scramSha256Verifier(master.password))}`),
      );
      return { username: fixtureUsername(PREFIX), connector, master: { username: master.username, password: fixturePassword() } };
    },
    afterRig: dbaSettings,
    refusal: {
      errorCode: 'AUTH_FAILED',
      // A crash after the change leaves the new password unproven: the re-drive finds every credential
      // refused and, without a master, cannot tell drift from other causes.
      reasons: ['connection-limit', 'undetermined', 'wrong-password'],
      block: async () => {
        refusing = true;
      },
      lift: async () => {
        refusing = false;
      },
    },
    dbaState: currentRoleState,
    secrets: () => [master.password],
    tearDown: async () => {
      if (options.brokenMaster) await admin((q) => q(`DROP ROLE IF EXISTS ${ident(master.username)}`));
    },
  };
}

/** An RDS-like master (CREATEROLE, no superuser) without CONNECT on the application's database. */
export function masterFallsBackToItsOwnDatabase(): PathScenario {
  const d = drifter();
  const master = { username: fixtureUsername(PREFIX), password: fixturePassword(), dbname: 'postgres' };
  const database = `${fixtureUsername(PREFIX)}_db`;
  noteSensitive(master.password);
  return {
    name: 'a master the database refuses heals from its own',
    pathLog: /drift proven/,
    combination: { engine: 'postgres', strategy: 'single-user' },
    setUp: async () => {
      await admin(async (q) => {
        await q(`CREATE ROLE ${ident(master.username)} LOGIN CREATEROLE PASSWORD ${literal(scramSha256Verifier(master.password))}`);
        await q(`CREATE DATABASE ${ident(database)}`);
        await q(`REVOKE CONNECT ON DATABASE ${ident(database)} FROM PUBLIC`);
      });
      return { username: fixtureUsername(PREFIX), master, dbname: database };
    },
    afterRig: async (rig) => {
      await admin((q) => q(`GRANT CONNECT ON DATABASE ${ident(database)} TO ${ident(rig.baseUsername)}`));
      await dbaSettings(rig);
    },
    arrange: d.drift,
    fallbackLogins: d.logins,
    dbaState: currentRoleState,
    secrets: () => [...d.all, master.password],
    tearDown: async () => {
      await admin(async (q) => {
        await q(`DROP DATABASE IF EXISTS ${ident(database)}`);
        await q(`DROP ROLE IF EXISTS ${ident(master.username)}`);
      });
    },
  };
}

/**
 * Alternating users, a REPLICATION original: before every rotation that will change the clone's
 * password, the clone is granted rights of its own (SELECT on a table, CREATEDB), which that rotation
 * must revoke (the equivalence check of assertConverged fails otherwise).
 */
export function cloneOwnRights(): PathScenario {
  const table = `${fixtureUsername(PREFIX)}_t`;
  let rigDatabase: string | undefined;
  return {
    name: 'clone-only rights revoked, REPLICATION carried',
    pathLog: /Revoked from ".*_clone"/,
    combination: { engine: 'postgres', strategy: 'alternating-users' },
    setUp: async () => ({ username: fixtureUsername(PREFIX) }),
    afterRig: async (rig) => {
      rigDatabase = rig.database;
      await admin((q) => q(`ALTER ROLE ${ident(rig.baseUsername)} REPLICATION`));
      await admin((q) => q(`CREATE TABLE public.${ident(table)} (id int)`), rig.database);
      await dbaSettings(rig);
    },
    arrange: async (rig) => {
      const clone = `${rig.baseUsername}_clone`;
      const state = await rig.state();
      if (state.current.username !== rig.baseUsername) return;
      await admin(async (q) => {
        if ((await q(`SELECT 1 FROM pg_roles WHERE rolname = ${literal(clone)}`)).length === 0) return;
        await q(`GRANT SELECT ON public.${ident(table)} TO ${ident(clone)}`);
        await q(`ALTER ROLE ${ident(clone)} CREATEDB`);
      }, rig.database);
    },
    dbaState: currentRoleState,
    afterConverged: async (rig) => {
      const clone = `${rig.baseUsername}_clone`;
      const own = await admin(
        (q) =>
          q(
            `SELECT has_table_privilege(${literal(rig.baseUsername)}, ${literal(`public.${table}`)}, 'SELECT') AS original, ` +
              `(SELECT rolcreatedb FROM pg_roles WHERE rolname = ${literal(clone)}) AS createdb, ` +
              `(SELECT rolreplication FROM pg_roles WHERE rolname = ${literal(clone)}) AS replication, ` +
              `(SELECT coalesce(relacl::text, '') LIKE ${literal(`%${clone}=%`)} FROM pg_class WHERE oid = ${literal(`public.${table}`)}::regclass) AS granted`,
          ),
        rig.database,
      );
      expect(own[0]).toEqual({ original: false, createdb: false, replication: true, granted: false });
    },
    secrets: () => [],
    tearDown: async () => {
      if (rigDatabase !== undefined) await admin((q) => q(`DROP TABLE IF EXISTS public.${ident(table)}`), rigDatabase);
    },
  };
}
