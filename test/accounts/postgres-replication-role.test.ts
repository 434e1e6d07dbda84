/**
 * A REPLICATION role (a CDC or logical-replication user: Debezium, DMS, pglogical): before PostgreSQL 16
 * only a superuser may alter a replication role, its own password included. Single-user rotation then
 * has the master change it (a superuser master rotates it; without a master the step fails before any
 * change, naming the cause), and a drift heal by an RDS-like master (CREATEROLE, not superuser) is
 * refused before any change with a RoleAdministrationError naming what lifts it, not a raw refused
 * statement. The shared server (PostgreSQL 15).
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { escapePostgresIdentifier as ident, escapePostgresLiteral as literal } from '../../shared/engines/postgres-escape';
import { scramSha256Verifier } from '../../shared/engines/password-hashes';
import { connectPostgres, postgresEngine } from '../../shared/engines/postgres';
import { AuthenticationError } from '../../shared/errors';
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
import { SHARED_SERVER, dropRoles, loginCode, pgAdmin, pgPassword, roleRows } from '../support/postgres-accounts';

let endpoint: Endpoint;
let admin: Client;
const logs = captureLogger();
let singleUser: string;
/** Single-user whose proving login (the pending secret's) is refused, as a connection-limit race would. */
let proofRefused: string;
const roles: string[] = [];

const base = { engine: 'postgres', host: SHARED_SERVER.host, port: SHARED_SERVER.port, ssl: false, dbname: 'postgres' };

beforeAll(async () => {
  endpoint = await startEndpoint();
  admin = await pgAdmin(SHARED_SERVER);
  proofRefused = lambdaArn(uniqueName('hp-proof-refused'));
  endpoint.local.registerRotationFunction(
    proofRefused,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'disable' },
      logger: logs,
      connect: async (request) => {
        if (request.role === 'pending') {
          throw new AuthenticationError('PostgreSQL login with the pending secret was refused (53300)', { reason: 'connection-limit' });
        }
        return connectPostgres(request);
      },
    }),
  );
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
});

afterAll(async () => {
  if (admin !== undefined) {
    await dropRoles(admin, roles);
    await admin.end();
  }
  await endpoint?.close();
});

async function createRole(label: string, password: string, attributes: string): Promise<string> {
  const name = `hp_${label}_${randomBytes(3).toString('hex')}`;
  roles.push(name);
  await admin.query(`CREATE ROLE ${ident(name)} WITH LOGIN ${attributes} PASSWORD ${literal(scramSha256Verifier(password))}`);
  return name;
}

async function driftedRotation(masterUser: string, masterPassword: string) {
  const dbaPassword = pgPassword();
  const app = await createRole('repl', dbaPassword, 'REPLICATION');
  const before = await roleRows(admin, app);
  const masterarn = await createSecret(endpoint.client, uniqueName('hp-master'), {
    ...base,
    username: masterUser,
    password: masterPassword,
  });
  const drifted = pgPassword();
  const arn = await createSecret(endpoint.client, uniqueName('hp-app'), { ...base, username: app, password: drifted, masterarn });
  const error = await rotate(endpoint.client, arn, singleUser).then(
    () => undefined,
    (e: unknown) => e,
  );
  const failure = logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
  return { app, before, dbaPassword, drifted, error, failure, current: await secretValue(endpoint.client, arn) };
}

it('an RDS-like master is refused before any change, naming the remedy', async () => {
  const masterPassword = pgPassword();
  const master = await createRole('rm', masterPassword, 'CREATEROLE');
  const out = await driftedRotation(master, masterPassword);
  expect(out.error).toBeDefined();
  expect(out.failure?.errorCode).toBe('DATABASE');
  expect(out.failure?.message).toMatch(/cannot administer role .*replication.*nothing was changed/i);
  expect(await roleRows(admin, out.app)).toEqual(out.before);
  expect(out.current.password).toBe(out.drifted);
  expect(await loginCode(SHARED_SERVER, out.app, out.dbaPassword)).toBe('ok');
});

it('a superuser master heals it, REPLICATION kept', async () => {
  const out = await driftedRotation('postgres', SHARED_SERVER.adminPassword || 'trusted-on-loopback');
  expect(out.failure?.message).toBeUndefined();
  expect(await loginCode(SHARED_SERVER, out.app, out.current.password)).toBe('ok');
  expect((await roleRows(admin, out.app)).attributes).toBe(out.before.attributes);
});

describe('single-user rotation of a REPLICATION role whose password is right', () => {
  async function ownRotation(extra: Record<string, unknown>, fn = singleUser) {
    const password = pgPassword();
    const app = await createRole('repl', password, 'REPLICATION');
    const before = await roleRows(admin, app);
    const arn = await createSecret(endpoint.client, uniqueName('hp-app'), { ...base, username: app, password, ...extra });
    const error = await rotate(endpoint.client, arn, fn).then(
      () => undefined,
      (e: unknown) => e,
    );
    const failure = logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
    return { app, before, password, error, failure, current: await secretValue(endpoint.client, arn) };
  }

  it('without a master: refused before any change, naming the cause', async () => {
    const out = await ownRotation({});
    expect(out.error).toBeDefined();
    expect(out.failure?.errorCode).toBe('DATABASE');
    expect(out.failure?.message).toMatch(/REPLICATION.*cannot change its own password.*masterarn.*the password was not changed/);
    expect(await roleRows(admin, out.app)).toEqual(out.before);
    expect(out.current.password).toBe(out.password);
    expect(await loginCode(SHARED_SERVER, out.app, out.password)).toBe('ok');
  });

  it('a superuser master changes it; the new password logs in, REPLICATION kept', async () => {
    const masterarn = await createSecret(endpoint.client, uniqueName('hp-master'), {
      ...base,
      username: 'postgres',
      password: SHARED_SERVER.adminPassword || 'trusted-on-loopback',
    });
    const out = await ownRotation({ masterarn });
    expect(out.failure?.message).toBeUndefined();
    expect(out.current.password).not.toBe(out.password);
    expect(await loginCode(SHARED_SERVER, out.app, out.current.password)).toBe('ok');
    expect((await roleRows(admin, out.app)).attributes).toBe(out.before.attributes);
  });

  it('an RDS-like master: refused before any change, naming the remedy', async () => {
    const masterPassword = pgPassword();
    const master = await createRole('rm', masterPassword, 'CREATEROLE');
    const masterarn = await createSecret(endpoint.client, uniqueName('hp-master'), { ...base, username: master, password: masterPassword });
    const out = await ownRotation({ masterarn });
    expect(out.failure?.message).toMatch(/cannot administer role .*replication.*nothing was changed/i);
    expect(await roleRows(admin, out.app)).toEqual(out.before);
    expect(await loginCode(SHARED_SERVER, out.app, out.password)).toBe('ok');
  });
});

it('single-user, a superuser master, the proof refused: the master puts the old password back', async () => {
  const password = pgPassword();
  const app = await createRole('repl', password, 'REPLICATION');
  const masterarn = await createSecret(endpoint.client, uniqueName('hp-master'), {
    ...base,
    username: 'postgres',
    password: SHARED_SERVER.adminPassword || 'trusted-on-loopback',
  });
  const arn = await createSecret(endpoint.client, uniqueName('hp-app'), { ...base, username: app, password, masterarn });
  await expect(rotate(endpoint.client, arn, proofRefused)).rejects.toThrow();
  const failure = logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
  // The master's diagnosis finds nothing in the catalogs behind the simulated refusal.
  expect(failure?.errorCode).toBe('AUTH_FAILED');
  expect(failure?.message).toMatch(/the previous password was put back/);
  expect(await loginCode(SHARED_SERVER, app, password)).toBe('ok');
});
