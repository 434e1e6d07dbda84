/**
 * A single-user secret whose host is a hot standby (an RDS read replica, an Aurora reader endpoint):
 * a private primary and a streaming standby made from it with pg_basebackup. The standby changes no
 * role (25006), so the rotation is refused before any change, naming the standby and the writer; so is
 * an alternating-users rotation whose master is on the standby too.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Client } from 'pg';
import { asServerUser, startPrivatePostgres, type PrivatePostgres } from '../../local/private-postgres';
import { postgresEngine } from '../../shared/engines/postgres';
import { escapePostgresLiteral as literal } from '../../shared/engines/postgres-escape';
import { scramSha256Verifier } from '../../shared/engines/password-hashes';
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
import { LeakScanner, describeLeaks, readSensitiveValues } from '../setup/leak-scanner';
import { loginCode, pgAdmin, pgPassword, roleRows, type PgServer } from '../support/postgres-accounts';
import { freeLoopbackPort } from '../../local/free-port';

const run = promisify(execFile);

let primary: PrivatePostgres;
let standbyDir: string;
let standbyPort: number;
let standby: PgServer;
let bin: string;
let endpoint: Endpoint;
let admin: Client;

beforeAll(async () => {
  primary = await startPrivatePostgres();
  admin = await pgAdmin({ host: '127.0.0.1', port: primary.port, adminPassword: primary.env.PGPASSWORD ?? '' });
  // The primary's major, from the installed layout private-postgres.ts starts it from (or PG_BINDIR).
  const version = String((await admin.query('SHOW server_version_num')).rows[0]?.server_version_num);
  bin = process.env.PG_BINDIR || `/usr/lib/postgresql/${Math.floor(Number(version) / 10000)}/bin`;
  standbyDir = mkdtempSync(join(tmpdir(), 'hps-standby-'));
  chmodSync(standbyDir, 0o700);
  if (userInfo().uid === 0) {
    const [, , uid, gid] = readFileSync('/etc/passwd', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('postgres:'))!
      .split(':');
    chownSync(standbyDir, Number(uid), Number(gid));
  }
  const backup = asServerUser(join(bin, 'pg_basebackup'), [
    '-h',
    '127.0.0.1',
    '-p',
    String(primary.port),
    '-U',
    'postgres',
    '-D',
    standbyDir,
    '-R',
    '-X',
    'stream',
  ]);
  await run(backup[0], backup[1], { env: { ...process.env, PGPASSWORD: primary.env.PGPASSWORD ?? '' } });
  standbyPort = await freeLoopbackPort();
  const start = asServerUser(join(bin, 'pg_ctl'), [
    '-D',
    standbyDir,
    '-o',
    `-p ${standbyPort} -k ${standbyDir} -c listen_addresses=127.0.0.1 -c hot_standby=on`,
    '-l',
    join(standbyDir, 'server.log'),
    '-w',
    'start',
  ]);
  await run(start[0], start[1]);
  standby = { host: '127.0.0.1', port: standbyPort, adminPassword: primary.env.PGPASSWORD ?? '' };
  endpoint = await startEndpoint();
}, 60_000);

afterAll(async () => {
  // The private server logged every statement: no password may be in it.
  if (primary !== undefined) {
    const leaks = new LeakScanner(readSensitiveValues(process.env.ROTATION_TOOLKIT_SENSITIVE_FILE)).scan(primary.log());
    expect(describeLeaks('private PostgreSQL log', leaks)).toEqual([]);
  }
  await admin?.end();
  await endpoint?.close();
  if (standbyDir !== undefined) {
    const stop = asServerUser(join(bin, 'pg_ctl'), ['-D', standbyDir, '-m', 'immediate', 'stop']);
    await run(stop[0], stop[1]).catch(() => undefined);
    rmSync(standbyDir, { recursive: true, force: true });
  }
  await primary?.stop();
});

it('a secret naming a hot standby: refused before any change, naming the standby and the writer', async () => {
  const name = `hps_replica_${randomBytes(3).toString('hex')}`;
  const password = pgPassword();
  await admin.query(`CREATE ROLE ${name} LOGIN PASSWORD ${literal(scramSha256Verifier(password))}`);
  // The role reaches the standby by replay.
  for (let i = 0; i < 100 && (await loginCode(standby, name, password)) !== 'ok'; i++) await new Promise((r) => setTimeout(r, 100));
  const before = await roleRows(admin, name);
  const logs = captureLogger();
  const fn = lambdaArn(uniqueName('hps-standby'));
  endpoint.local.registerRotationFunction(
    fn,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'disable' },
      logger: logs,
    }),
  );
  const arn = await createSecret(endpoint.client, uniqueName('hps-standby-app'), {
    engine: 'postgres',
    host: standby.host,
    port: standby.port,
    username: name,
    password,
    dbname: 'postgres',
    ssl: false,
  });
  await expect(rotate(endpoint.client, arn, fn)).rejects.toThrow(/hot standby/);
  const failure = logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
  expect(failure?.message).toMatch(/writer/);
  expect(await roleRows(admin, name)).toEqual(before);
  expect((await secretValue(endpoint.client, arn)).password).toBe(password);
  expect(await loginCode(standby, name, password)).toBe('ok');
});

it('drift on a standby with a master of the same host: diagnosed, then refused before the master changes anything', async () => {
  const name = `hps_replica_${randomBytes(3).toString('hex')}`;
  const password = pgPassword();
  await admin.query(`CREATE ROLE ${name} LOGIN PASSWORD ${literal(scramSha256Verifier(password))}`);
  for (let i = 0; i < 100 && (await loginCode(standby, name, password)) !== 'ok'; i++) await new Promise((r) => setTimeout(r, 100));
  const before = await roleRows(admin, name);
  const logs = captureLogger();
  const fn = lambdaArn(uniqueName('hps-standby'));
  endpoint.local.registerRotationFunction(
    fn,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'disable' },
      logger: logs,
    }),
  );
  const base = { engine: 'postgres', host: standby.host, port: standby.port, dbname: 'postgres', ssl: false };
  const masterarn = await createSecret(endpoint.client, uniqueName('hps-standby-master'), {
    ...base,
    username: 'postgres',
    password: standby.adminPassword,
  });
  const drifted = pgPassword();
  const arn = await createSecret(endpoint.client, uniqueName('hps-standby-app'), { ...base, username: name, password: drifted, masterarn });
  await expect(rotate(endpoint.client, arn, fn)).rejects.toThrow(/hot standby/);
  expect(await roleRows(admin, name)).toEqual(before);
  expect((await secretValue(endpoint.client, arn)).password).toBe(drifted);
});

it('alternating users with a master on the standby: refused before any change, naming the standby and the writer', async () => {
  const name = `rpa_replica_${randomBytes(3).toString('hex')}`;
  const password = pgPassword();
  await admin.query(`CREATE ROLE ${name} LOGIN PASSWORD ${literal(scramSha256Verifier(password))}`);
  for (let i = 0; i < 100 && (await loginCode(standby, name, password)) !== 'ok'; i++) await new Promise((r) => setTimeout(r, 100));
  const logs = captureLogger();
  const fn = lambdaArn(uniqueName('rpa-standby'));
  endpoint.local.registerRotationFunction(
    fn,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'alternating-users',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'disable' },
      logger: logs,
    }),
  );
  const base = { engine: 'postgres', host: standby.host, port: standby.port, dbname: 'postgres', ssl: false };
  const masterarn = await createSecret(endpoint.client, uniqueName('rpa-standby-master'), {
    ...base,
    username: 'postgres',
    password: standby.adminPassword,
  });
  const arn = await createSecret(endpoint.client, uniqueName('rpa-standby-app'), { ...base, username: name, password, masterarn });
  await expect(rotate(endpoint.client, arn, fn)).rejects.toThrow(/hot standby/);
  const failure = logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
  expect(failure?.message).toMatch(/writer/);
  expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${name}_clone`])).rows).toEqual([]);
  expect((await secretValue(endpoint.client, arn)).password).toBe(password);
  expect(await loginCode(standby, name, password)).toBe('ok');
});
