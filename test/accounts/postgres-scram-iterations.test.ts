/**
 * PostgreSQL 16+ `scram_iterations`: a DBA who raised the PBKDF2 rounds of new SCRAM verifiers (server-wide,
 * or for one role) keeps that hashing strength through every rotation. The toolkit computes verifiers
 * itself (no plaintext in statement logs), so it must use the rounds the server would: the role's own
 * session's setting when the role changes its password, the role's setting when the master heals drift,
 * the server's for the alternate user. A private PostgreSQL 16 server (ALTER SYSTEM is server-wide).
 */
import type { Client } from 'pg';
import { escapeIdentifier as id } from 'pg';
import { randomBytes } from 'node:crypto';
import { startPrivatePostgres, type PrivatePostgres } from '../../local/private-postgres';
import { rotate, secretValue } from '../support/rotation-endpoint';
import { admin, asLogin, createRole, dropAll, password, secretValueFor, startRig, type Rig } from '../support/postgres-alternate-support';
import { binDirOf } from '../support/postgres-version-matrix';
import { scramSha256Verifier } from '../../shared/engines/password-hashes';

const SERVER_ROUNDS = 10000;
const ROLE_ROUNDS = 12000;

let server: PrivatePostgres;
let rig: Rig;
let db: Client;
let masterArn: string;
const roles: string[] = [];

beforeAll(async () => {
  server = await startPrivatePostgres({ binDir: binDirOf(16) });
  rig = await startRig();
  db = await admin(server.env);
  await db.query(`ALTER SYSTEM SET scram_iterations = ${SERVER_ROUNDS}`);
  await db.query('SELECT pg_reload_conf()');
  masterArn = await rig.secret(secretValueFor(server.env, 'postgres', server.env.PGPASSWORD!));
});

afterAll(async () => {
  if (db !== undefined) {
    await dropAll(server.env, roles);
    await db.end();
  }
  await rig?.close();
  await server?.stop();
});

/** A login role with a password set by the server itself, as a DBA's ALTER ROLE would (so under scram_iterations). */
async function role(): Promise<{ user: string; pw: string }> {
  const user = `hp_it_${randomBytes(4).toString('hex')}`;
  const pw = password();
  roles.push(user, `${user}_clone`);
  await createRole(db, user, pw);
  return { user, pw };
}

/** The PBKDF2 rounds of the role's stored SCRAM verifier. */
async function storedRounds(user: string): Promise<number> {
  const row = (
    await db.query("SELECT split_part(split_part(rolpassword, '$', 2), ':', 1)::int AS n FROM pg_authid WHERE rolname = $1", [user])
  ).rows[0];
  return Number(row?.n);
}

async function assertLogsIn(arn: string): Promise<void> {
  const current = await secretValue(rig.endpoint.client, arn);
  expect((await asLogin(server.env, current.username, current.password, 'SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
}

it('single-user: the new verifier has the server-wide scram_iterations', async () => {
  const { user, pw } = await role();
  const arn = await rig.secret(secretValueFor(server.env, user, pw));
  await rotate(rig.endpoint.client, arn, rig.fn('single-user'));
  await assertLogsIn(arn);
  expect(await storedRounds(user)).toBe(SERVER_ROUNDS);
});

it("single-user: the role's own scram_iterations setting is kept, and the setting itself is left alone", async () => {
  const { user, pw } = await role();
  await db.query(`ALTER ROLE ${id(user)} SET scram_iterations = ${ROLE_ROUNDS}`);
  const arn = await rig.secret(secretValueFor(server.env, user, pw));
  await rotate(rig.endpoint.client, arn, rig.fn('single-user'));
  await assertLogsIn(arn);
  expect(await storedRounds(user)).toBe(ROLE_ROUNDS);
  const settings = await db.query('SELECT setconfig FROM pg_db_role_setting WHERE setrole = $1::regrole', [user]);
  expect(settings.rows).toEqual([{ setconfig: [`scram_iterations=${ROLE_ROUNDS}`] }]);
});

it("single-user heal: the master sets the drifted role's password with the role's scram_iterations", async () => {
  const { user } = await role();
  await db.query(`ALTER ROLE ${id(user)} SET scram_iterations = ${ROLE_ROUNDS}`);
  const arn = await rig.secret(secretValueFor(server.env, user, password(), { masterarn: masterArn }));
  await rotate(rig.endpoint.client, arn, rig.fn('single-user'));
  await assertLogsIn(arn);
  expect(await storedRounds(user)).toBe(ROLE_ROUNDS);
});

it("alternating users: the alternate's verifier has the server's scram_iterations", async () => {
  const { user, pw } = await role();
  const arn = await rig.secret(secretValueFor(server.env, user, pw, { masterarn: masterArn }));
  await rotate(rig.endpoint.client, arn, rig.fn('alternating-users'));
  await assertLogsIn(arn);
  expect(await storedRounds(`${user}_clone`)).toBe(SERVER_ROUNDS);
});

it('single-user: rounds above what pg accepts by default (100000) are capped there, so pg clients still log in', async () => {
  const { user, pw } = await role();
  await db.query(`ALTER ROLE ${id(user)} SET scram_iterations = 200000`);
  const arn = await rig.secret(secretValueFor(server.env, user, pw));
  await rotate(rig.endpoint.client, arn, rig.fn('single-user'));
  await assertLogsIn(arn);
  expect(await storedRounds(user)).toBe(100000);
});

it('single-user: a stored verifier of more rounds than pg accepts by default still rotates, to one pg clients accept', async () => {
  const user = `hp_it_${randomBytes(4).toString('hex')}`;
  const pw = password();
  roles.push(user, `${user}_clone`);
  await db.query(`CREATE ROLE ${id(user)} LOGIN PASSWORD '${scramSha256Verifier(pw, undefined, 200000)}'`);
  const arn = await rig.secret(secretValueFor(server.env, user, pw));
  const failed = await rotate(rig.endpoint.client, arn, rig.fn('single-user')).then(
    () => undefined,
    (e: unknown) => (e as Error).message,
  );
  expect(failed).toBeUndefined();
  await assertLogsIn(arn);
  expect(await storedRounds(user)).toBe(SERVER_ROUNDS);
});
