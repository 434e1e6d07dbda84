/**
 * Single-user heal of drift by an RDS-like master (CREATEROLE, not superuser: no pg_authid, no
 * pg_hba_file_rules) on PostgreSQL 17, with the real diagnosis (drift by elimination, not fixed as in
 * the version matrix): from 16 on, CREATEROLE alone may not change another role's password. A role
 * the master did not create is refused before any change, naming the GRANT that lifts it, and healed
 * once it is granted; a role the master created (ADMIN OPTION granted to its creator) is healed.
 */
import type { Client } from 'pg';
import { escapeIdentifier as id } from 'pg';
import { startPrivatePostgres, type PrivatePostgres } from '../../local/private-postgres';
import { admin, asLogin, createRole, password, secretValueFor, startRig, type Rig } from '../support/postgres-alternate-support';
import { rotate, secretValue } from '../support/rotation-endpoint';
import { binDirOf } from '../support/postgres-version-matrix';

let server: PrivatePostgres;
let rig: Rig;
let db: Client;
let master: { user: string; pw: string; arn: string };

beforeAll(async () => {
  server = await startPrivatePostgres({ binDir: binDirOf(17) });
  rig = await startRig();
  db = await admin(server.env);
  master = { user: 'hps_rds_master', pw: password(), arn: '' };
  await createRole(db, master.user, master.pw, 'CREATEROLE');
  master.arn = await rig.secret(secretValueFor(server.env, master.user, master.pw));
}, 60_000);

afterAll(async () => {
  await db?.end();
  await rig?.close();
  await server?.stop();
});

async function verifier(user: string): Promise<string> {
  return String((await db.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [user])).rows[0]?.rolpassword);
}

it('a role the master did not create: refused before any change with the GRANT, healed once granted', async () => {
  const user = 'hps_app_other';
  const pw = password();
  await createRole(db, user, pw);
  const before = await verifier(user);
  const arn = await rig.secret(secretValueFor(server.env, user, 'drifted-not-the-password', { masterarn: master.arn }));
  await expect(rotate(rig.endpoint.client, arn, rig.fn('single-user'))).rejects.toThrow(/ADMIN OPTION/);
  const failure = rig.logs.lines.filter((l) => l.secretArn === arn && l.outcome === 'failure').pop();
  expect(failure?.message).toContain(`GRANT ${id(user)} TO ${id(master.user)} WITH ADMIN OPTION`);
  expect(await verifier(user)).toBe(before);
  expect((await asLogin(server.env, user, pw, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);

  await db.query(`GRANT ${id(user)} TO ${id(master.user)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
  await expect(rotate(rig.endpoint.client, arn, rig.fn('single-user'))).rejects.toThrow(/previous rotation/);
  const current = await secretValue(rig.endpoint.client, arn);
  expect((await asLogin(server.env, user, current.password, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
});

it('a role the master created itself: healed (its creator holds ADMIN OPTION)', async () => {
  const user = 'hps_app_own';
  const asMaster = await admin({ ...server.env, PGUSER: master.user, PGPASSWORD: master.pw });
  try {
    await createRole(asMaster, user, password());
  } finally {
    await asMaster.end();
  }
  const arn = await rig.secret(secretValueFor(server.env, user, 'drifted-not-the-password', { masterarn: master.arn }));
  await rotate(rig.endpoint.client, arn, rig.fn('single-user'));
  const current = await secretValue(rig.endpoint.client, arn);
  expect((await asLogin(server.env, user, current.password, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
});
