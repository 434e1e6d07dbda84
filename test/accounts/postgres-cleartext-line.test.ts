/**
 * A pg_hba `password` line (the client sends the password itself) tells nothing of the stored verifier's
 * kind, unlike a SCRAM exchange or an md5 challenge. Under password_encryption md5 (PostgreSQL 13 and
 * older by default), a rotation that logged in through such a line must not turn a SCRAM verifier into
 * an md5 hash: the clients that meet a scram-sha-256 line (here: another database) would be locked out,
 * while the rotation's own proof, through the same `password` line, passes. A private server (pg_hba,
 * password_encryption).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import { startPrivatePostgres, type PrivatePostgres } from '../../local/private-postgres';
import { escapePostgresIdentifier as ident, escapePostgresLiteral as literal } from '../../shared/engines/postgres-escape';
import { postgresMd5Hash, scramSha256Verifier } from '../../shared/engines/password-hashes';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import {
  captureLogger,
  createSecret,
  lambdaArn,
  rotate,
  secretValue,
  startEndpoint,
  uniqueName,
  type Endpoint,
} from '../support/rotation-endpoint';
import { loginCode, pgAdmin, pgPassword, type PgServer } from '../support/postgres-accounts';

const SCRAM_DB = 'hp_scramdb';

const HBA = `
local all all trust
host all postgres 127.0.0.1/32 scram-sha-256
host ${SCRAM_DB} all 127.0.0.1/32 scram-sha-256
host all all 127.0.0.1/32 password
`;

let pg: PrivatePostgres;
let server: PgServer;
let endpoint: Endpoint;
let admin: Client;
let singleUser: string;
let masterArn: string;
const logs = captureLogger();

beforeAll(async () => {
  pg = await startPrivatePostgres();
  server = { host: '127.0.0.1', port: pg.port, adminPassword: pg.env.PGPASSWORD ?? '' };
  writeFileSync(join(pg.dir, 'data', 'pg_hba.conf'), HBA);
  admin = await pgAdmin(server);
  await admin.query("ALTER SYSTEM SET password_encryption = 'md5'");
  await admin.query('SELECT pg_reload_conf()');
  await admin.query(`CREATE DATABASE ${SCRAM_DB}`);
  endpoint = await startEndpoint();
  singleUser = lambdaArn(uniqueName('hp-single'));
  endpoint.local.registerRotationFunction(
    singleUser,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'disable' },
      logger: logs,
    }),
  );
  masterArn = await createSecret(endpoint.client, uniqueName('hp-master'), {
    ...base(),
    username: 'postgres',
    password: server.adminPassword,
  });
}, 60_000);

afterAll(async () => {
  await admin?.end();
  await endpoint?.close();
  await pg?.stop();
});

function base(): Record<string, unknown> {
  return { engine: 'postgres', host: server.host, port: server.port, ssl: false, dbname: 'postgres' };
}

async function role(stored: 'scram' | 'md5'): Promise<{ user: string; pw: string }> {
  const user = `hp_ct_${randomBytes(4).toString('hex')}`;
  const pw = pgPassword();
  const verifier = stored === 'md5' ? postgresMd5Hash(pw, user) : scramSha256Verifier(pw);
  await admin.query(`CREATE ROLE ${ident(user)} LOGIN PASSWORD ${literal(verifier)}`);
  return { user, pw };
}

async function stored(user: string): Promise<string> {
  return String((await admin.query('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [user])).rows[0]?.rolpassword);
}

async function rotated(value: Record<string, unknown>): Promise<{ username: string; password: string }> {
  const arn = await createSecret(endpoint.client, uniqueName('hp-app'), { ...base(), ...value });
  await rotate(endpoint.client, arn, singleUser);
  expect(logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure')).toBeUndefined();
  return secretValue(endpoint.client, arn);
}

it('no master: a SCRAM verifier stays SCRAM, and clients of the scram-sha-256 line still log in', async () => {
  const { user, pw } = await role('scram');
  expect(await loginCode(server, user, pw, SCRAM_DB)).toBe('ok');
  const current = await rotated({ username: user, password: pw });
  expect(await stored(user)).toMatch(/^SCRAM-SHA-256\$/);
  expect(await loginCode(server, user, current.password)).toBe('ok');
  expect(await loginCode(server, user, current.password, SCRAM_DB)).toBe('ok');
});

it('a superuser master: a SCRAM verifier stays SCRAM', async () => {
  const { user, pw } = await role('scram');
  const current = await rotated({ username: user, password: pw, masterarn: masterArn });
  expect(await stored(user)).toMatch(/^SCRAM-SHA-256\$/);
  expect(await loginCode(server, user, current.password, SCRAM_DB)).toBe('ok');
});

it('a superuser master, which reads the stored kind: an md5 hash stays md5 as password_encryption asks', async () => {
  const { user, pw } = await role('md5');
  const current = await rotated({ username: user, password: pw, masterarn: masterArn });
  expect(await stored(user)).toBe(postgresMd5Hash(current.password, user));
});

it('an RDS-like master (CREATEROLE, no pg_authid) heals drift without turning a SCRAM verifier into md5', async () => {
  const master = `hp_ctm_${randomBytes(4).toString('hex')}`;
  const masterPassword = pgPassword();
  await admin.query(`CREATE ROLE ${ident(master)} LOGIN CREATEROLE PASSWORD ${literal(scramSha256Verifier(masterPassword))}`);
  const rdsLike = await createSecret(endpoint.client, uniqueName('hp-master'), { ...base(), username: master, password: masterPassword });
  const { user } = await role('scram');
  const current = await rotated({ username: user, password: pgPassword(), masterarn: rdsLike });
  expect(await stored(user)).toMatch(/^SCRAM-SHA-256\$/);
  expect(await loginCode(server, user, current.password, SCRAM_DB)).toBe('ok');
});
