/**
 * PostgreSQL single-user rotation on the shared server, for account states and secrets taken from real
 * setups that the account matrix does not draw: role names that need quoting, a `dbname` the role may not
 * open (3D000, 42501: not a password problem), masters that cannot act (a wrong master password, another
 * spelling of the host, the user's own role under another secret), and a proof refused while the master
 * cannot be reached. Each ends rotated, or refused with a typed error, having changed nothing.
 */
import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';
import { escapePostgresIdentifier as ident, escapePostgresLiteral as literal } from '../../shared/engines/postgres-escape';
import { matchPostgresStoredPassword, scramSha256Verifier } from '../../shared/engines/password-hashes';
import { connectPostgres, postgresEngine } from '../../shared/engines/postgres';
import { AuthenticationError, NetworkError } from '../../shared/errors';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { Connector } from '../../shared/rotation/database-engine';
import type { StepLogLine } from '../../shared/rotation/logger';
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
import { startOptionsRefusingPooler } from '../support/pooler-refusing-options';
import { SHARED_SERVER, dropRoles, loginCode, pgAdmin, pgPassword, roleRows, type RoleRows } from '../support/postgres-accounts';

let endpoint: Endpoint;
let admin: Client;
const logs = captureLogger();
let singleUser: string;
/** Single-user whose proving login (the pending secret's) is refused, as a connection-limit race would. */
let proofRefused: string;
/** Single-user whose proving login loses its connection. */
let proofLost: string;
const lostOnce = new Set<string>();
let rdsLikeMaster: { name: string; password: string };
const roles: string[] = [];
const databases: string[] = [];

beforeAll(async () => {
  endpoint = await startEndpoint();
  admin = await pgAdmin(SHARED_SERVER);
  singleUser = lambdaArn(uniqueName('hps-single'));
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
  const refusing: Connector = async (request) => {
    if (request.role === 'pending') {
      throw new AuthenticationError('PostgreSQL login with the pending secret was refused (53300)', { reason: 'connection-limit' });
    }
    return connectPostgres(request);
  };
  proofRefused = lambdaArn(uniqueName('hps-proof-refused'));
  endpoint.local.registerRotationFunction(
    proofRefused,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'disable' },
      logger: logs,
      connect: refusing,
    }),
  );
  proofLost = lambdaArn(uniqueName('hps-proof-lost'));
  endpoint.local.registerRotationFunction(
    proofLost,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'disable' },
      logger: logs,
      // Once per secret: the re-attempted rotation's proof connects.
      connect: async (request) => {
        if (request.role === 'pending' && request.secretId !== undefined && !lostOnce.has(request.secretId)) {
          lostOnce.add(request.secretId);
          throw new NetworkError('PostgreSQL login with the pending secret could not reach the server (ECONNRESET)');
        }
        return connectPostgres(request);
      },
    }),
  );
  rdsLikeMaster = { name: `hps_rm_${randomBytes(4).toString('hex')}`, password: pgPassword() };
  await createRole(rdsLikeMaster.name, rdsLikeMaster.password, 'CREATEROLE');
});

afterAll(async () => {
  if (admin !== undefined) {
    for (const db of databases) await admin.query(`DROP DATABASE IF EXISTS ${ident(db)}`).catch(() => undefined);
    await dropRoles(admin, roles);
    await admin.end();
  }
  await endpoint?.close();
});

async function createRole(name: string, password: string, attributes = ''): Promise<void> {
  roles.push(name);
  await admin.query(`CREATE ROLE ${ident(name)} WITH LOGIN ${attributes} PASSWORD ${literal(scramSha256Verifier(password))}`);
}

function roleName(label: string): string {
  return `hps_${label}_${randomBytes(3).toString('hex')}`;
}

const base = { engine: 'postgres', host: SHARED_SERVER.host, port: SHARED_SERVER.port, ssl: false };

async function masterSecret(username: string, password: string, extra: Record<string, unknown> = {}): Promise<string> {
  return createSecret(endpoint.client, uniqueName('hps-master'), { ...base, dbname: 'postgres', username, password, ...extra });
}

async function superuserMaster(extra: Record<string, unknown> = {}): Promise<string> {
  return masterSecret('postgres', SHARED_SERVER.adminPassword || 'trusted-on-loopback', extra);
}

interface Outcome {
  readonly error: unknown;
  readonly failure: StepLogLine | undefined;
  readonly current: { username: string; password: string } & Record<string, unknown>;
}

async function rotation(value: Record<string, unknown>, fn = singleUser): Promise<Outcome & { arn: string }> {
  const arn = await createSecret(endpoint.client, uniqueName('hps-app'), { ...base, ...value });
  const error = await rotate(endpoint.client, arn, fn).then(
    () => undefined,
    (e: unknown) => e,
  );
  const failure = logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
  return { arn, error, failure, current: await secretValue(endpoint.client, arn) };
}

/** A refused rotation: the role's rows and the secret as before. */
async function expectUnchanged(name: string, before: RoleRows, outcome: Outcome, password: string): Promise<void> {
  expect(outcome.error).toBeDefined();
  expect(await roleRows(admin, name)).toEqual(before);
  expect(outcome.current.password).toBe(password);
}

describe('role names that need quoting', () => {
  const names = [
    `hps_Mixed Case ${randomBytes(2).toString('hex')}`,
    `hps_q"uo'te_${randomBytes(2).toString('hex')}`,
    `hps_ünï_密_${randomBytes(2).toString('hex')}`,
  ];

  it.each(names)('%j rotates on its own and has its drift healed by the master', async (name) => {
    const password = pgPassword();
    await createRole(name, password);
    const own = await rotation({ username: name, password, dbname: 'postgres' });
    expect(own.failure?.message).toBeUndefined();
    expect(await loginCode(SHARED_SERVER, name, own.current.password)).toBe('ok');

    const before = await roleRows(admin, name);
    const drifted = pgPassword();
    const healed = await rotation({ username: name, password: drifted, dbname: 'postgres', masterarn: await superuserMaster() });
    expect(healed.failure?.message).toBeUndefined();
    expect(await loginCode(SHARED_SERVER, name, healed.current.password)).toBe('ok');
    const after = await roleRows(admin, name);
    expect(after.attributes).toBe(before.attributes);
  });
});

describe('a dbname the role may not open: the password checked out, so nothing is healed', () => {
  const masters = {
    none: async (): Promise<Record<string, unknown>> => ({}),
    superuser: async (): Promise<Record<string, unknown>> => ({ masterarn: await superuserMaster() }),
    'RDS-like': async (): Promise<Record<string, unknown>> => ({
      masterarn: await masterSecret(rdsLikeMaster.name, rdsLikeMaster.password),
    }),
  };

  it.each(Object.keys(masters) as Array<keyof typeof masters>)('missing database (3D000), master %s', async (which) => {
    const name = roleName('nodb');
    const password = pgPassword();
    await createRole(name, password);
    const before = await roleRows(admin, name);
    const out = await rotation({ username: name, password, dbname: 'hps_no_such_db', ...(await masters[which]()) });
    await expectUnchanged(name, before, out, password);
    expect(out.failure?.reason).toBe('database-not-allowed');
    expect(out.failure?.message).toMatch(/3D000: the password checked out, but the database the secret names .* does not exist/);
  });

  it.each(Object.keys(masters) as Array<keyof typeof masters>)('no CONNECT on the database (42501), master %s', async (which) => {
    const name = roleName('noconn');
    const db = roleName('db');
    databases.push(db);
    await admin.query(`CREATE DATABASE ${ident(db)}`);
    await admin.query(`REVOKE CONNECT ON DATABASE ${ident(db)} FROM PUBLIC`);
    await admin.query(`GRANT CONNECT ON DATABASE ${ident(db)} TO ${ident(rdsLikeMaster.name)}`);
    const password = pgPassword();
    await createRole(name, password);
    const before = await roleRows(admin, name);
    const out = await rotation({ username: name, password, dbname: db, ...(await masters[which]()) });
    await expectUnchanged(name, before, out, password);
    expect(out.failure?.reason).toBe('database-not-allowed');
    expect(out.failure?.message).toMatch(/lacks CONNECT/);
  });

  it('drift AND no CONNECT: the master finds both and heals nothing (the heal could never be proven)', async () => {
    const name = roleName('noconn_drift');
    const db = roleName('db');
    databases.push(db);
    await admin.query(`CREATE DATABASE ${ident(db)}`);
    await admin.query(`REVOKE CONNECT ON DATABASE ${ident(db)} FROM PUBLIC`);
    await admin.query(`GRANT CONNECT ON DATABASE ${ident(db)} TO ${ident(rdsLikeMaster.name)}`);
    const password = pgPassword();
    await createRole(name, password);
    const before = await roleRows(admin, name);
    for (const masterarn of [await superuserMaster(), await masterSecret(rdsLikeMaster.name, rdsLikeMaster.password)]) {
      const drifted = pgPassword();
      const out = await rotation({ username: name, password: drifted, dbname: db, masterarn });
      await expectUnchanged(name, before, out, drifted);
      expect(out.failure?.reason).toBe('database-not-allowed');
      expect(out.failure?.message).toMatch(new RegExp(`lacks CONNECT on database ${db}`));
    }
    expect(await loginCode(SHARED_SERVER, name, password, db)).toBe('42501');
  });

  it('a database closed to connections (55000, ALLOW_CONNECTIONS false)', async () => {
    const name = roleName('closed');
    const db = roleName('db');
    databases.push(db);
    await admin.query(`CREATE DATABASE ${ident(db)} ALLOW_CONNECTIONS false`);
    const password = pgPassword();
    await createRole(name, password);
    const before = await roleRows(admin, name);
    const out = await rotation({ username: name, password, dbname: db });
    await expectUnchanged(name, before, out, password);
    expect(out.failure?.reason).toBe('database-not-allowed');
  });
});

describe('masters that cannot act', () => {
  it("a master whose own password is wrong: the error says it is the master's login, and nothing changes", async () => {
    const name = roleName('mwrong');
    const password = pgPassword();
    await createRole(name, password);
    const before = await roleRows(admin, name);
    const drifted = pgPassword();
    const out = await rotation({
      username: name,
      password: drifted,
      dbname: 'postgres',
      masterarn: await masterSecret(rdsLikeMaster.name, 'not-the-password'),
    });
    await expectUnchanged(name, before, out, drifted);
    expect(out.failure?.message).toMatch(/login with the master secret was refused/);
  });

  it('a master secret on the same host but another port (the app through a pooler): refused before any change', async () => {
    const name = roleName('mport');
    const password = pgPassword();
    await createRole(name, password);
    const before = await roleRows(admin, name);
    const drifted = pgPassword();
    const out = await rotation({ username: name, password: drifted, dbname: 'postgres', masterarn: await superuserMaster({ port: 6432 }) });
    await expectUnchanged(name, before, out, drifted);
    expect(out.failure?.errorCode).toBe('SECRET_INVALID');
    expect(out.failure?.message).toMatch(/differs from the master's/);
  });

  it('drift AND a missing database: the master diagnoses from its own database, and nothing changes', async () => {
    const name = roleName('nodb_drift');
    const password = pgPassword();
    await createRole(name, password);
    const before = await roleRows(admin, name);
    const drifted = pgPassword();
    const out = await rotation({ username: name, password: drifted, dbname: 'hps_no_such_db', masterarn: await superuserMaster() });
    await expectUnchanged(name, before, out, drifted);
    expect(out.failure?.reason).toBe('database-not-allowed');
    expect(out.failure?.message).toMatch(/database hps_no_such_db, which the secret names, does not exist/);
  });

  it("an RDS-like master without CONNECT on the app's database heals drift from its own database", async () => {
    const name = roleName('mnoconn');
    const db = roleName('db');
    databases.push(db);
    await admin.query(`CREATE DATABASE ${ident(db)}`);
    await admin.query(`REVOKE CONNECT ON DATABASE ${ident(db)} FROM PUBLIC`);
    const password = pgPassword();
    await createRole(name, password);
    await admin.query(`GRANT CONNECT ON DATABASE ${ident(db)} TO ${ident(name)}`);
    const before = await roleRows(admin, name);
    const out = await rotation({
      username: name,
      password: pgPassword(),
      dbname: db,
      masterarn: await masterSecret(rdsLikeMaster.name, rdsLikeMaster.password),
    });
    expect(out.failure?.message).toBeUndefined();
    expect(await loginCode(SHARED_SERVER, name, out.current.password, db)).toBe('ok');
    expect((await roleRows(admin, name)).attributes).toBe(before.attributes);
  });

  it('a master secret of the same role: refused before anything, drift included (a rotation or a heal would lock the master secret out)', async () => {
    const name = roleName('msame');
    const password = pgPassword();
    await createRole(name, password, 'CREATEROLE');
    const masterarn = await masterSecret(name, password);
    const before = await roleRows(admin, name);
    const drifted = pgPassword();
    const out = await rotation({ username: name, password: drifted, dbname: 'postgres', masterarn });
    await expectUnchanged(name, before, out, drifted);
    expect(out.failure?.errorCode).toBe('SECRET_INVALID');
    expect(out.failure?.message).toMatch(/master's own user/);
    expect(await loginCode(SHARED_SERVER, name, password)).toBe('ok');
  });

  it('a proof that fails for another cause (a lost connection): the previous password is put back, and the retry rotates', async () => {
    const name = roleName('proof_lost');
    const password = pgPassword();
    await createRole(name, password);
    const out = await rotation({ username: name, password, dbname: 'postgres' }, proofLost);
    expect(out.error).toBeDefined();
    expect(out.current.password).toBe(password);
    expect(await loginCode(SHARED_SERVER, name, password)).toBe('ok');
    // RotateSecret re-attempts the unfinished rotation with the same token; this time the proof connects.
    await expect(rotate(endpoint.client, out.arn, singleUser)).rejects.toThrow(/previous rotation/);
    const current = await secretValue(endpoint.client, out.arn);
    expect(current.password).not.toBe(password);
    expect(await loginCode(SHARED_SERVER, name, current.password)).toBe('ok');
  });

  it('a proof refused while the master cannot log in: the previous password is put back before the error', async () => {
    const name = roleName('proof');
    const password = pgPassword();
    await createRole(name, password);
    const out = await rotation(
      { username: name, password, dbname: 'postgres', masterarn: await masterSecret(rdsLikeMaster.name, 'not-the-password') },
      proofRefused,
    );
    expect(out.error).toBeDefined();
    expect(out.failure?.message).toMatch(/login with the master secret was refused/);
    expect(out.current.password).toBe(password);
    expect(await loginCode(SHARED_SERVER, name, password)).toBe('ok');
    expect(logs.lines.some((l) => l.secretArn === out.arn && /the previous password was put back/.test(l.message))).toBe(true);
  });
});

describe('role attributes and secret shapes kept or refused as the DBA set them', () => {
  it("VALID UNTIL 'infinity' is kept", async () => {
    const name = roleName('infinity');
    const password = pgPassword();
    await createRole(name, password, "VALID UNTIL 'infinity'");
    const before = await roleRows(admin, name);
    const out = await rotation({ username: name, password, dbname: 'postgres' });
    expect(out.failure?.message).toBeUndefined();
    expect((await roleRows(admin, name)).attributes).toBe(before.attributes);
    expect(before.attributes).toContain('infinity');
  });

  it("VALID UNTIL '-infinity' (expired for ever): expired before any change, and the message names the expiry", async () => {
    const name = `hp_neginf_${randomBytes(3).toString('hex')}`;
    const password = pgPassword();
    await createRole(name, password, "VALID UNTIL '-infinity'");
    const before = await roleRows(admin, name);
    const out = await rotation({ username: name, password, dbname: 'postgres', masterarn: await superuserMaster() });
    await expectUnchanged(name, before, out, password);
    expect(out.failure?.reason).toBe('expired');
    expect(out.failure?.message).toContain('VALID UNTIL -infinity has passed');
  });

  it.each([['no master'], ['superuser master']])('CONNECTION LIMIT 0: connection-limit before any change, %s', async (which) => {
    const name = roleName('limit0');
    const password = pgPassword();
    await createRole(name, password, 'CONNECTION LIMIT 0');
    const before = await roleRows(admin, name);
    const out = await rotation({
      username: name,
      password,
      dbname: 'postgres',
      ...(which === 'superuser master' ? { masterarn: await superuserMaster() } : {}),
    });
    await expectUnchanged(name, before, out, password);
    expect(out.failure?.reason).toBe('connection-limit');
  });

  it("engine 'aurora-postgresql' and ports written as strings, in the secret and its master's: drift healed", async () => {
    const name = roleName('aurora');
    const password = pgPassword();
    await createRole(name, password);
    const out = await rotation({
      engine: 'aurora-postgresql',
      port: String(SHARED_SERVER.port),
      username: name,
      password: pgPassword(),
      dbname: 'postgres',
      masterarn: await superuserMaster({ engine: 'aurora-postgresql', port: String(SHARED_SERVER.port) }),
    });
    expect(out.failure?.message).toBeUndefined();
    expect(await loginCode(SHARED_SERVER, name, out.current.password)).toBe('ok');
    expect(out.current.engine).toBe('aurora-postgresql');
  });
});

/**
 * Time limits a DBA sets for the application's sessions (`ALTER ROLE app SET statement_timeout = …`) are
 * the application's: the rotation's own sessions, the master's included, run under their own, and the
 * role's settings stay as they were.
 */
describe("the application's session time limits do not block the rotation's own sessions", () => {
  async function withSettings(
    label: string,
    settings: Record<string, string>,
    attributes = '',
  ): Promise<{ name: string; password: string }> {
    const name = roleName(label);
    const password = pgPassword();
    await createRole(name, password, attributes);
    for (const [setting, value] of Object.entries(settings)) {
      await admin.query(`ALTER ROLE ${ident(name)} SET ${ident(setting)} = ${literal(value)}`);
    }
    return { name, password };
  }

  it('statement_timeout 1ms on the role: it rotates its own password, settings kept', async () => {
    const { name, password } = await withSettings('stmt1ms', { statement_timeout: '1ms' });
    const before = await roleRows(admin, name);
    const out = await rotation({ username: name, password, dbname: 'postgres' });
    expect(out.failure?.message).toBeUndefined();
    const after = await roleRows(admin, name);
    expect(after.password).not.toBe(before.password);
    expect(after.settings).toBe(before.settings);
    expect(after.settings).toContain('statement_timeout=1ms');
  });

  it('statement_timeout 1ms and drift: the master heals, and testSecret proves the new password', async () => {
    const { name } = await withSettings('stmt1ms_drift', { statement_timeout: '1ms' });
    const before = await roleRows(admin, name);
    const out = await rotation({ username: name, password: pgPassword(), dbname: 'postgres', masterarn: await superuserMaster() });
    expect(out.failure?.message).toBeUndefined();
    const after = await roleRows(admin, name);
    expect(after.settings).toBe(before.settings);
    // Compared with the verifier: the application's own statements still run under the DBA's 1ms.
    expect(await matchPostgresStoredPassword(String(after.password), name, out.current.password)).toBe('match');
  });

  it('idle_in_transaction_session_timeout 1ms on a read-only role (its password transaction is explicit)', async () => {
    const { name, password } = await withSettings('idletx1ms', {
      idle_in_transaction_session_timeout: '1ms',
      default_transaction_read_only: 'on',
    });
    const out = await rotation({ username: name, password, dbname: 'postgres' });
    expect(out.failure?.message).toBeUndefined();
    expect(await loginCode(SHARED_SERVER, name, out.current.password)).toBe('ok');
  });

  it('a master (CREATEROLE) with statement_timeout 1ms diagnoses and heals drift', async () => {
    const master = await withSettings('m_stmt1ms', { statement_timeout: '1ms' }, 'CREATEROLE');
    const name = roleName('app_of_tiny_master');
    const password = pgPassword();
    await createRole(name, password);
    const out = await rotation({
      username: name,
      password: pgPassword(),
      dbname: 'postgres',
      masterarn: await masterSecret(master.name, master.password),
    });
    expect(out.failure?.message).toBeUndefined();
    expect(await loginCode(SHARED_SERVER, name, out.current.password)).toBe('ok');
  });

  it('a pooler that refuses startup options (PgBouncer without ignore_startup_parameters): the login is made again without them', async () => {
    const pooler = await startOptionsRefusingPooler(SHARED_SERVER.port);
    try {
      const name = roleName('pooled');
      const password = pgPassword();
      await createRole(name, password);
      const out = await rotation({ username: name, password, dbname: 'postgres', port: pooler.port });
      expect(out.failure?.message).toBeUndefined();
      expect(await loginCode(SHARED_SERVER, name, out.current.password)).toBe('ok');
      expect(pooler.counts.refused).toBeGreaterThan(0);
      expect(pooler.counts.forwarded).toBeGreaterThan(0);
    } finally {
      await pooler.close();
    }
  });
});

describe('a session the server cannot start after accepting the password (a role setting naming a missing library)', () => {
  async function preloading(label: string): Promise<{ name: string; password: string; before: RoleRows }> {
    const name = roleName(label);
    const password = pgPassword();
    await createRole(name, password);
    await admin.query(`ALTER ROLE ${ident(name)} SET session_preload_libraries = 'hps_no_such_library'`);
    return { name, password, before: await roleRows(admin, name) };
  }
  const said = /the server accepted the password, then could not start the session \(58P01: .*session_preload_libraries/;

  it('no drift: nothing changes, and the error says the password was accepted and what to look at', async () => {
    const { name, password, before } = await preloading('preload');
    const out = await rotation({ username: name, password, dbname: 'postgres', masterarn: await superuserMaster() });
    await expectUnchanged(name, before, out, password);
    expect(out.failure?.message).toMatch(said);
  });

  it("drift: the master's heal cannot be proven, so the stored password is put back, and the error says why", async () => {
    const { name, before } = await preloading('preload_drift');
    const drifted = pgPassword();
    const out = await rotation({ username: name, password: drifted, dbname: 'postgres', masterarn: await superuserMaster() });
    await expectUnchanged(name, before, out, drifted);
    expect(out.failure?.message).toMatch(said);
  });
});
