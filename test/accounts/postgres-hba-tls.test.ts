/**
 * pg_hba.conf lines that depend on TLS, the database or the method, on ONE private server with TLS for the
 * whole file: `hostssl` and `hostnossl` lines (the master's session may use TLS when the user's does not,
 * so the refused login's own TLS decides which line it met), client certificates (`clientcert=` and the
 * `cert` method), a line for one database while the secret names another or none, `samerole`, and the
 * cleartext `password` method. Each ends rotated, or refused with its reason and nothing changed.
 */
import { randomBytes } from 'node:crypto';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Client } from 'pg';
import { startPrivatePostgres, serverOwnedFile, type PrivatePostgres } from '../../local/private-postgres';
import { createCertificateAuthority, type CertificateAuthority } from '../../local/tls-certificates';
import { postgresEngine } from '../../shared/engines/postgres';
import { escapePostgresIdentifier as ident, escapePostgresLiteral as literal } from '../../shared/engines/postgres-escape';
import { scramSha256Verifier } from '../../shared/engines/password-hashes';
import type { RefusalReason } from '../../shared/errors';
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

const GROUPS = ['hps_master', 'hps_sslonly', 'hps_nossl', 'hps_clientcert', 'hps_cert', 'hps_owndb', 'hps_team', 'hps_cleartext'] as const;
type Group = (typeof GROUPS)[number];

/** The function's address is 127.0.0.1; each group meets another kind of line from it. */
const HBA = `
local all all trust
host all postgres 127.0.0.1/32 scram-sha-256
host all +hps_master 127.0.0.1/32 scram-sha-256
hostssl all +hps_sslonly 127.0.0.1/32 scram-sha-256
hostnossl all +hps_nossl 127.0.0.1/32 scram-sha-256
hostssl all +hps_clientcert 127.0.0.1/32 scram-sha-256 clientcert=verify-ca
hostssl all +hps_cert 127.0.0.1/32 cert
host hps_owndb +hps_owndb 127.0.0.1/32 scram-sha-256
host samerole +hps_team 127.0.0.1/32 scram-sha-256
host all +hps_cleartext 127.0.0.1/32 password
`;

let pg: PrivatePostgres;
let ca: CertificateAuthority;
let server: PgServer;
let endpoint: Endpoint;
let admin: Client;
const logs = captureLogger();
let fn: string;
/** The same function under DB_TLS_MODE prefer. */
let preferFn: string;
let rdsLike: { name: string; password: string };

beforeAll(async () => {
  ca = await createCertificateAuthority('hps hba CA');
  const cert = await ca.issue('hps-server', ['IP:127.0.0.1', 'DNS:localhost']);
  pg = await startPrivatePostgres({ tls: cert });
  server = { host: '127.0.0.1', port: pg.port, adminPassword: pg.env.PGPASSWORD ?? '' };
  // clientcert and cert lines need the server to know a CA.
  const serverCa = join(pg.dir, 'root.crt');
  copyFileSync(ca.caFile, serverCa);
  serverOwnedFile(serverCa);
  writeFileSync(join(pg.dir, 'data', 'pg_hba.conf'), HBA);
  admin = await pgAdmin(server);
  await admin.query(`ALTER SYSTEM SET ssl_ca_file = ${literal(serverCa)}`);
  // As on RDS PostgreSQL 13 and older: new passwords are md5 unless the login proved SCRAM works.
  await admin.query("ALTER SYSTEM SET password_encryption = 'md5'");
  await admin.query('SELECT pg_reload_conf()');
  for (const group of GROUPS) await admin.query(`CREATE ROLE ${ident(group)} NOLOGIN`);
  await admin.query('CREATE DATABASE hps_owndb');
  await admin.query('CREATE DATABASE hps_team');
  endpoint = await startEndpoint();
  fn = lambdaArn(uniqueName('hps-hba'));
  endpoint.local.registerRotationFunction(
    fn,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'disable', DB_CA_BUNDLE: ca.caFile },
      logger: logs,
    }),
  );
  preferFn = lambdaArn(uniqueName('hps-hba-prefer'));
  endpoint.local.registerRotationFunction(
    preferFn,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: { DB_TLS_MODE: 'prefer' },
      logger: logs,
    }),
  );
  rdsLike = { name: 'hps_rds_master', password: pgPassword() };
  await admin.query(
    `CREATE ROLE hps_rds_master LOGIN CREATEROLE IN ROLE hps_master PASSWORD ${literal(scramSha256Verifier(rdsLike.password))}`,
  );
}, 60_000);

afterAll(async () => {
  // The private server logged every statement: no password may be in it.
  if (pg !== undefined) {
    const leaks = new LeakScanner(readSensitiveValues(process.env.ROTATION_TOOLKIT_SENSITIVE_FILE)).scan(pg.log());
    expect(describeLeaks('private PostgreSQL log', leaks)).toEqual([]);
  }
  await admin?.end();
  await endpoint?.close();
  await pg?.stop();
  ca?.remove();
});

type Master = 'superuser-tls' | 'superuser-plain' | 'rds-like' | 'none';

async function masterArn(master: Master): Promise<Record<string, unknown>> {
  if (master === 'none') return {};
  const base = { engine: 'postgres', host: server.host, port: server.port, dbname: 'postgres' };
  const value =
    master === 'rds-like'
      ? { ...base, username: rdsLike.name, password: rdsLike.password, ssl: false }
      : { ...base, username: 'postgres', password: server.adminPassword, ssl: master === 'superuser-tls' };
  return { masterarn: await createSecret(endpoint.client, uniqueName('hps-hba-master'), value) };
}

interface Cell {
  readonly group: Group;
  /** The secret's `ssl`; undefined leaves it out, so the function's DB_TLS_MODE decides. */
  readonly ssl?: boolean;
  /** The function's DB_TLS_MODE is prefer (else disable). */
  readonly prefer?: boolean;
  readonly master: Master;
  /** The secret's dbname; undefined leaves it out. */
  readonly dbname?: string;
  readonly drift?: boolean;
}

/**
 * Rotates a fresh member of `group`; checks rotated (AWSCURRENT logs in) or refused (nothing changed).
 * Returns the failure's message, or the stored password after a rotation.
 */
async function cell(c: Cell, expected: 'rotated' | RefusalReason): Promise<string> {
  const name = `hps_${c.group.slice(4)}_${randomBytes(3).toString('hex')}`;
  const password = pgPassword();
  await admin.query(`CREATE ROLE ${ident(name)} LOGIN IN ROLE ${ident(c.group)} PASSWORD ${literal(scramSha256Verifier(password))}`);
  try {
    const before = await roleRows(admin, name);
    const secretPassword = c.drift === true ? pgPassword() : password;
    const arn = await createSecret(endpoint.client, uniqueName('hps-hba-app'), {
      engine: 'postgres',
      host: server.host,
      port: server.port,
      username: name,
      password: secretPassword,
      ...(c.ssl !== undefined ? { ssl: c.ssl } : {}),
      ...(c.dbname !== undefined ? { dbname: c.dbname } : {}),
      ...(await masterArn(c.master)),
    });
    const error = await rotate(endpoint.client, arn, c.prefer === true ? preferFn : fn).then(
      () => undefined,
      (e: unknown) => e,
    );
    const failure = logs.lines.find((l) => l.secretArn === arn && l.outcome === 'failure');
    const current = await secretValue(endpoint.client, arn);
    const where = `${JSON.stringify(c)}: ${failure?.message ?? String(error ?? 'rotated')}`;
    if (expected === 'rotated') {
      expect([where, error]).toEqual([where, undefined]);
      expect(current.password).not.toBe(secretPassword);
      const after = await roleRows(admin, name);
      expect(after.attributes).toBe(before.attributes);
      // loginCode speaks plaintext only; over TLS the rotation's own proof stands.
      if (c.ssl === false) expect(await loginCode(server, name, current.password, c.dbname ?? 'postgres')).toBe('ok');
      return after.password ?? '';
    }
    expect([where, failure?.reason]).toEqual([where, expected]);
    expect(await roleRows(admin, name)).toEqual(before);
    expect(current.password).toBe(secretPassword);
    return failure?.message ?? '';
  } finally {
    await admin.query(`DROP ROLE IF EXISTS ${ident(name)}`);
  }
}

describe('hostssl and hostnossl: the refused login’s own TLS decides the line', () => {
  it('a hostssl-only role rotates over TLS, keeping SCRAM under password_encryption md5 (its login was SCRAM)', async () => {
    expect(await cell({ group: 'hps_sslonly', ssl: true, master: 'none' }, 'rotated')).toMatch(/^SCRAM-SHA-256\$/);
  });

  it.each(['superuser-tls', 'superuser-plain'] as const)(
    'a hostssl-only role whose secret says ssl false: host-not-allowed, named, with a master %s',
    async (master) => {
      const message = await cell({ group: 'hps_sslonly', ssl: false, master }, 'host-not-allowed');
      expect(message).toMatch(/without TLS/);
    },
  );

  it('a hostnossl-only role whose secret asks for TLS: host-not-allowed, named, with a master over TLS', async () => {
    const message = await cell({ group: 'hps_nossl', ssl: true, master: 'superuser-tls' }, 'host-not-allowed');
    expect(message).toMatch(/over TLS/);
  });

  it('DB_TLS_MODE prefer: a hostnossl-only role is retried without TLS after its 28000 over TLS, as libpq does', async () => {
    await cell({ group: 'hps_nossl', prefer: true, master: 'none' }, 'rotated');
    expect(logs.lines.some((l) => l.level === 'warn' && /refused the login over TLS \(28000/.test(l.message))).toBe(true);
  });

  it('DB_TLS_MODE prefer: a hostssl-only role rotates over TLS', async () => {
    await cell({ group: 'hps_sslonly', prefer: true, master: 'none' }, 'rotated');
  });

  it('without a master, only the code speaks', async () => {
    await cell({ group: 'hps_sslonly', ssl: false, master: 'none' }, 'undetermined');
  });
});

describe('client certificates', () => {
  it('a clientcert=verify-ca line: client-certificate-required, never healed', async () => {
    const message = await cell({ group: 'hps_clientcert', ssl: true, master: 'superuser-tls', drift: true }, 'client-certificate-required');
    expect(message).toMatch(/clientcert=verify-ca/);
  });

  it('the cert method: client-certificate-required', async () => {
    await cell({ group: 'hps_cert', ssl: true, master: 'superuser-tls' }, 'client-certificate-required');
  });
});

describe('a line for one database', () => {
  it('rotates when the secret names that database', async () => {
    await cell({ group: 'hps_owndb', ssl: false, master: 'none', dbname: 'hps_owndb' }, 'rotated');
  });

  it.each([['postgres'], [undefined]])('refuses, naming the database, when the secret names %s', async (dbname) => {
    const message = await cell(
      { group: 'hps_owndb', ssl: false, master: 'superuser-plain', drift: true, ...(dbname ? { dbname } : {}) },
      'host-not-allowed',
    );
    expect(message).toMatch(/to database postgres/);
  });

  it('samerole: rotates on the database named after its group, refused elsewhere', async () => {
    await cell({ group: 'hps_team', ssl: false, master: 'none', dbname: 'hps_team' }, 'rotated');
    await cell({ group: 'hps_team', ssl: false, master: 'superuser-plain', dbname: 'postgres' }, 'host-not-allowed');
  });
});

describe('the cleartext password method', () => {
  it('rotates, and drift is healed by the master', async () => {
    // A cleartext login shows no verifier kind and no master can read it: SCRAM, which every password
    // method takes (md5 under password_encryption could lock out a client of a scram-sha-256 line).
    expect(await cell({ group: 'hps_cleartext', ssl: false, master: 'none' }, 'rotated')).toMatch(/^SCRAM-SHA-256\$/);
    // The RDS-like master logged in with SCRAM: its heal keeps SCRAM, which the line takes too.
    expect(await cell({ group: 'hps_cleartext', ssl: false, master: 'rds-like', drift: true }, 'rotated')).toMatch(/^SCRAM-SHA-256\$/);
  });
});

it('the admin still logs in (the file was reloaded without errors)', async () => {
  expect(await loginCode(server, 'postgres', server.adminPassword)).toBe('ok');
});
