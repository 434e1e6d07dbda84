/**
 * The account states that need a server setting the shared server must never get, on ONE private
 * MariaDB for the whole file (started in a temporary directory on a free port, stopped by its pid):
 * a password-validation plugin (simple_password_check with strict_password_validation), failed-login
 * limits (max_password_errors), the ed25519 plugin, and TLS with client certificates (REQUIRE X509).
 * Global variables are changed only on this private server, and put back after each test.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestEndpoint, type TestEndpoint } from '../support/rotation-rig';
import { startPrivateMariadb, type PrivateMariadb } from '../../local/private-mariadb';
import { createCertificateAuthority, type CertificateAuthority } from '../../local/tls-certificates';
import { createConnection, type Connection } from 'mysql2/promise';
import {
  createMaster,
  expectOutcome,
  logsIn,
  runCell,
  type AccountSpec,
  type CellContext,
  type CellOptions,
  type MysqlServer,
  type Outcome,
} from '../support/mysql-account-harness';

const openssl = (args: readonly string[]): Promise<unknown> => promisify(execFile)('openssl', [...args]);

let mariadb: PrivateMariadb;
let ca: CertificateAuthority;
let server: MysqlServer;
let endpoint: TestEndpoint;
let ctx: CellContext;
let clientTls: { ca: Buffer; cert: Buffer; key: Buffer };
const cleanup: string[] = [];

beforeAll(async () => {
  ca = await createCertificateAuthority('myacc-private-mariadb');
  const serverCert = await ca.issue('server', ['IP:127.0.0.1', 'DNS:localhost']);
  // A client certificate (the application's), signed by the same CA, for clientAuth.
  const dir = ca.dir;
  writeFileSync(join(dir, 'client.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n');
  await openssl([
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    join(dir, 'client.key'),
    '-out',
    join(dir, 'client.csr'),
    '-subj',
    '/CN=myacc-app',
  ]);
  await openssl([
    'x509',
    '-req',
    '-in',
    join(dir, 'client.csr'),
    '-CA',
    ca.caFile,
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-out',
    join(dir, 'client.crt'),
    '-days',
    '1',
    '-extfile',
    join(dir, 'client.ext'),
  ]);
  clientTls = { ca: readFileSync(ca.caFile), cert: readFileSync(join(dir, 'client.crt')), key: readFileSync(join(dir, 'client.key')) };
  mariadb = await startPrivateMariadb({
    plugins: ['simple_password_check.so', 'auth_ed25519.so'],
    // Loaded, but strict only in the test that needs it: the set-up's accounts use hashes.
    settings: { strict_password_validation: 'OFF' },
    tls: { ca: ca.caFile, cert: serverCert.certFile, key: serverCert.keyFile },
  });
  server = { port: mariadb.port, admin: () => mariadb.admin() };
  endpoint = await startTestEndpoint();
  const master = await createMaster(endpoint, server);
  ctx = { endpoint, server, masterArn: master.arn };
}, 120_000);

afterAll(async () => {
  await endpoint?.close();
  await mariadb?.stop();
  ca?.remove();
});

async function setGlobal(name: string, value: string | number): Promise<void> {
  const admin = await server.admin();
  try {
    await admin.query(`SET GLOBAL ${name} = ${typeof value === 'number' ? value : admin.escape(value)}`);
  } finally {
    await admin.end();
  }
}

const rotated: Outcome = { kind: 'rotated' };
const refused = (code: string, reason?: string, message?: RegExp): Outcome => ({
  kind: 'refused',
  code,
  ...(reason ? { reason } : {}),
  ...(message ? { message } : {}),
});

async function cells(spec: AccountSpec, expected: [Outcome, Outcome, Outcome], label: string, options: CellOptions = {}): Promise<void> {
  const [withMaster, withoutMaster, alternating] = expected;
  expectOutcome(await runCell(ctx, spec, 'single-user', true, cleanup, options), withMaster, `${label} / single-user + master`);
  expectOutcome(await runCell(ctx, spec, 'single-user', false, cleanup, options), withoutMaster, `${label} / single-user`);
  expectOutcome(await runCell(ctx, spec, 'alternating-users', true, cleanup, options), alternating, `${label} / alternating-users`);
}

describe('a password-validation plugin that refuses hashes (simple_password_check, strict_password_validation)', () => {
  it('every strategy rotates, sending the plaintext only after the hash was refused; MariaDB logs it as sent', async () => {
    const plainCreate: AccountSpec = { identified: (_hash, password) => `IDENTIFIED BY '${password}'` };
    await setGlobal('strict_password_validation', 'ON');
    const logBefore = mariadb.generalLog().length;
    try {
      const run = await runCell(ctx, plainCreate, 'single-user', false, cleanup);
      expectOutcome(run, rotated, 'validation / single-user');
      const sent = mariadb.generalLog().slice(logBefore);
      const hashedAttempt = sent.indexOf("SET PASSWORD = '*");
      const plainAttempt = sent.indexOf(`SET PASSWORD = PASSWORD('${run.current.password}')`);
      expect(hashedAttempt).toBeGreaterThanOrEqual(0);
      expect(plainAttempt).toBeGreaterThan(hashedAttempt);
      expectOutcome(await runCell(ctx, plainCreate, 'single-user', true, cleanup), rotated, 'validation / single-user + master');
      expectOutcome(await runCell(ctx, plainCreate, 'alternating-users', true, cleanup), rotated, 'validation / alternating-users');
    } finally {
      await setGlobal('strict_password_validation', 'OFF');
    }
  });

  it('without strict validation the same rotation sends no plaintext', async () => {
    const logBefore = mariadb.generalLog().length;
    const run = await runCell(ctx, {}, 'single-user', false, cleanup);
    expectOutcome(run, rotated, 'no strict validation / single-user');
    expect(mariadb.generalLog().slice(logBefore)).not.toContain(run.current.password);
  });
});

describe('failed-login limits (max_password_errors)', () => {
  afterEach(() => setGlobal('max_password_errors', 4294967295));

  it('max_password_errors=1: a normal rotation refuses no login, so nothing gets blocked', async () => {
    await setGlobal('max_password_errors', 1);
    await cells({}, [rotated, rotated, rotated], 'max_password_errors=1');
  });

  it('an account blocked by failed logins is refused with that reason, and not unblocked', async () => {
    await setGlobal('max_password_errors', 1);
    const blocked: AccountSpec = {
      prepare: async (s, user) => {
        expect(await logsIn(s, user, 'Wrong-password-1')).toBe(false);
      },
    };
    const reason = 'blocked-after-failed-logins';
    await cells(
      blocked,
      [refused('AUTH_FAILED', reason, /max_password_errors/), refused('AUTH_FAILED', reason), refused('AUTH_FAILED', reason)],
      'blocked',
    );
  });
});

describe('failed-login limits and a refusal no other password can overcome', () => {
  afterEach(() => setGlobal('max_password_errors', 4294967295));

  /** Logs in once the server has let a closed session go (it counts MAX_USER_CONNECTIONS until then). */
  async function logsInSoon(user: string, password: string): Promise<boolean> {
    for (let i = 0; i < 20; i += 1) {
      if (await logsIn(server, user, password)) return true;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  it('max_password_errors=1: the pending and previous passwords are not tried after such a refusal, so the account is not blocked', async () => {
    await setGlobal('max_password_errors', 1);
    for (const withMaster of [true, false]) {
      const label = withMaster ? 'with a master' : 'without a master';
      // The application holds the one session MAX_USER_CONNECTIONS 1 allows: the function's login meets 1226.
      let held: Connection | undefined;
      let password = '';
      const busy: AccountSpec = {
        options: 'WITH MAX_USER_CONNECTIONS 1',
        prepare: async (s, user, pw) => {
          password = pw;
          held = await createConnection({ host: '127.0.0.1', port: s.port, user, password: pw });
          held.on('error', () => undefined);
        },
      };
      const run = await runCell(ctx, busy, 'single-user', withMaster, cleanup);
      await held?.end();
      expectOutcome(run, refused('AUTH_FAILED', 'connection-limit'), `limit reached / ${label}`);
      expect({ label, appLogsInOnceReleased: await logsInSoon(run.username, password) }).toEqual({ label, appLogsInOnceReleased: true });

      // A dbname that does not exist: the password was accepted (1044).
      const noDb = await runCell(ctx, { secretFields: { dbname: 'myacc_no_such_db' } }, 'single-user', withMaster, cleanup);
      expectOutcome(noDb, refused('AUTH_FAILED', 'database-not-allowed'), `no such dbname / ${label}`);
      expect({ label, appLogsIn: await logsIn(server, noDb.username, noDb.secretPassword) }).toEqual({ label, appLogsIn: true });
    }
  });
});

describe('failed-login limits and a TLS requirement the function does not meet', () => {
  afterEach(() => setGlobal('max_password_errors', 4294967295));

  it.each(['REQUIRE SSL', 'REQUIRE X509'])(
    'max_password_errors=1, %s, the function without TLS: the master diagnoses first, no other password is tried, the application keeps logging in',
    async (requirement) => {
      await setGlobal('max_password_errors', 1);
      // The right password without TLS is no failed login; the pending password tried after it would be one.
      const run = await runCell(ctx, { options: requirement }, 'single-user', true, cleanup);
      expectOutcome(
        run,
        refused('AUTH_FAILED', requirement === 'REQUIRE SSL' ? 'undetermined' : 'client-certificate-required', /TLS|X509/),
        requirement,
      );
      expect({ requirement, appLogsIn: await logsIn(server, run.username, run.secretPassword, '127.0.0.2', clientTls) }).toEqual({
        requirement,
        appLogsIn: true,
      });
    },
  );
});

describe('the ed25519 plugin (which mysql2 cannot answer)', () => {
  it('refused naming the plugin, with or without a master; nothing changed', async () => {
    const ed25519: AccountSpec = { identified: (_hash, password) => `IDENTIFIED VIA ed25519 USING PASSWORD('${password}')` };
    const reason = 'unsupported-auth-plugin';
    await cells(
      ed25519,
      [
        refused('AUTH_FAILED', reason, /ed25519/),
        refused('AUTH_FAILED', reason, /client_ed25519/),
        refused('AUTH_FAILED', reason, /ed25519/),
      ],
      'ed25519',
    );
  });
});

describe('TLS requirements', () => {
  const tls = (): CellOptions => ({ tls: true, env: { DB_TLS_MODE: 'verify-full', DB_CA_BUNDLE: ca.caFile }, appSsl: clientTls });

  it('REQUIRE X509: refused (the function has no client certificate); the application keeps logging in with its certificate', async () => {
    const reason = 'client-certificate-required';
    await cells(
      { options: 'REQUIRE X509' },
      [refused('AUTH_FAILED', reason, /REQUIRE X509/), refused('AUTH_FAILED', 'undetermined'), refused('AUTH_FAILED', reason)],
      'REQUIRE X509',
      tls(),
    );
  });

  it('REQUIRE SSL over TLS: rotated, the requirement kept', async () => {
    await cells({ options: 'REQUIRE SSL' }, [rotated, rotated, rotated], 'REQUIRE SSL', tls());
  });
});
