/**
 * TLS on PostgreSQL, live, on a private server of this file's own (local/private-postgres.ts, a
 * temporary folder and a free port; never the shared server, whose suites rely on it having no TLS): it
 * starts without TLS, then the test turns `ssl` on — on that private server only, by ALTER SYSTEM and a
 * reload — with a throw-away CA's certificate, swaps the certificate, and turns TLS off again. Proven:
 * verify-full succeeds with the CA bundle and fails without it or with another CA or for a name the
 * certificate does not carry (all classified TLS); `prefer` logs its downgrade against the server without
 * TLS and does not downgrade against one with it; `disable` happens only when asked.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { canLoginPostgres, connectPostgresAdmin } from '../../local/admin-connections';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures';
import type { TlsMode } from '../../shared/connection-options';
import { parseDatabaseSecret } from '../../shared/database-secret';
import { connectPostgres, postgresEngine } from '../../shared/engines/postgres';
import { isToolkitError } from '../../shared/errors';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { Connector } from '../../shared/rotation/database-engine';
import { captureLogger, createSecret, lambdaArn, rotate, secretValue, uniqueName } from '../support/rotation-endpoint';
import { LeakScanner, describeLeaks, readSensitiveValues } from '../setup/leak-scanner';
import { recordFigure } from '../support/figures';
import { readState, startTestEndpoint, type TestEndpoint } from '../support/rotation-rig';
import { startPrivatePostgres, serverOwnedFile, type PrivatePostgres } from '../../local/private-postgres';
import { createCertificateAuthority, type CertificateAuthority } from '../../local/tls-certificates';

let server: PrivatePostgres;
let ca: CertificateAuthority;
let otherCa: CertificateAuthority;
let endpoint: TestEndpoint;
let user: PostgresFixtureUser;

beforeAll(async () => {
  [server, ca, otherCa, endpoint] = await Promise.all([
    startPrivatePostgres(),
    createCertificateAuthority('rt reliability CA'),
    createCertificateAuthority('rt other CA'),
    startTestEndpoint(),
  ]);
  user = await createPostgresUser({ env: server.env });
}, 30_000);

afterAll(async () => {
  await setServerTls(undefined).catch(() => undefined);
  // The private server logged every statement: its log is part of the leak scan.
  if (server !== undefined) {
    const leaks = new LeakScanner(readSensitiveValues(process.env.ROTATION_TOOLKIT_SENSITIVE_FILE)).scan(server.log());
    expect(describeLeaks('private PostgreSQL log', leaks)).toEqual([]);
  }
  await endpoint?.close();
  await server?.stop();
  ca?.remove();
  otherCa?.remove();
});

/** Installs a certificate and turns ssl on by reload, or (undefined) turns it off and resets the files. */
async function setServerTls(cert: { certFile: string; keyFile: string } | undefined): Promise<void> {
  const admin = await connectPostgresAdmin(server.env);
  try {
    if (cert === undefined) {
      for (const setting of ['ssl', 'ssl_cert_file', 'ssl_key_file']) await admin.query(`ALTER SYSTEM RESET ${setting}`);
    } else {
      const certFile = join(server.dir, `server-${Date.now()}.crt`);
      const keyFile = join(server.dir, `server-${Date.now()}.key`);
      copyFileSync(cert.certFile, certFile);
      copyFileSync(cert.keyFile, keyFile);
      serverOwnedFile(certFile);
      serverOwnedFile(keyFile);
      await admin.query(`ALTER SYSTEM SET ssl_cert_file = '${certFile}'`);
      await admin.query(`ALTER SYSTEM SET ssl_key_file = '${keyFile}'`);
      await admin.query('ALTER SYSTEM SET ssl = on');
    }
    await admin.query('SELECT pg_reload_conf()');
  } finally {
    await admin.end();
  }
  // The reload is asynchronous: wait until new sessions see the setting.
  const want = cert === undefined ? 'off' : 'on';
  for (let i = 0; i < 50; i += 1) {
    const check = await connectPostgresAdmin(server.env);
    try {
      if ((await check.query('SHOW ssl')).rows[0]?.ssl === want) return;
    } finally {
      await check.end();
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`ssl did not become ${want} after the reload (see the server log in ${server.dir})`);
}

function secret(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    engine: 'postgres',
    host: '127.0.0.1',
    port: server.port,
    username: user.username,
    password: user.password,
    dbname: 'postgres',
    ...extra,
  };
}

/** Logs in through the rotation's own connector and says whether the session is encrypted. */
async function encrypted(value: Record<string, unknown>, tlsMode: TlsMode, caBundlePath?: string): Promise<boolean> {
  const session = await connectPostgres({
    family: 'postgres',
    secret: parseDatabaseSecret(value, { expectedFamily: 'postgres' }),
    role: 'current',
    tlsMode,
    connectTimeoutMs: 3000,
    ...(caBundlePath !== undefined ? { caBundlePath } : {}),
  });
  try {
    const rows = await session.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    return rows[0]?.ssl === true;
  } finally {
    await session.close();
  }
}

async function failure(promise: Promise<unknown>): Promise<{ code?: string; cause?: string }> {
  try {
    await promise;
  } catch (err) {
    if (!isToolkitError(err)) throw err;
    return { code: err.code, ...(err.causeSummary?.code !== undefined ? { cause: err.causeSummary.code } : {}) };
  }
  throw new Error('expected a failure');
}

/** A connector recording, per session, whether it is encrypted. */
function encryptionRecorder(): { connector: Connector; seen: boolean[] } {
  const seen: boolean[] = [];
  const connector: Connector = async (request) => {
    const session = await connectPostgres(request);
    const rows = await session.query('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()');
    seen.push(rows[0]?.ssl === true);
    return session;
  };
  return { connector, seen };
}

function handler(env: Record<string, string>, connector?: Connector): { arn: string; logs: ReturnType<typeof captureLogger> } {
  const logs = captureLogger();
  const arn = lambdaArn(uniqueName('rel-tls'));
  endpoint.local.registerRotationFunction(
    arn,
    createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env,
      logger: logs,
      ...(connector ? { connect: connector } : {}),
    }),
  );
  return { arn, logs };
}

describe('PostgreSQL TLS, on a private server', () => {
  it('without TLS on the server: prefer rotates with a logged downgrade; verify-full and require refuse (TLS)', async () => {
    const prefer = handler({ DB_TLS_MODE: 'prefer' });
    const id = await createSecret(endpoint.client, uniqueName('rel-tls-prefer'), secret());
    await rotate(endpoint.client, id, prefer.arn);
    const downgrades = prefer.logs.lines.filter((l) => l.level === 'warn' && /without TLS/.test(l.message));
    expect(downgrades.length).toBeGreaterThan(0);
    expect(downgrades.every((l) => l.errorCode === 'TLS')).toBe(true);
    const current = await secretValue(endpoint.client, id);
    user = { ...user, password: current.password };
    expect(await canLoginPostgres(user.username, user.password, server.env)).toBe(true);

    await expect(failure(encrypted(secret(), 'verify-full', ca.caFile))).resolves.toMatchObject({ code: 'TLS' });
    await expect(failure(encrypted(secret(), 'require'))).resolves.toMatchObject({ code: 'TLS' });
    recordFigure('tls.preferDowngradeWarnings', downgrades.length);
  });

  describe('with ssl turned on (private server: ALTER SYSTEM and a reload)', () => {
    beforeAll(async () => {
      await setServerTls(await ca.issue('server', ['IP:127.0.0.1', 'DNS:localhost']));
    });

    it('verify-full with the CA bundle rotates, every session encrypted', async () => {
      const recorder = encryptionRecorder();
      const strict = handler({ DB_TLS_MODE: 'verify-full', DB_CA_BUNDLE: ca.caFile }, recorder.connector);
      const id = await createSecret(endpoint.client, uniqueName('rel-tls-strict'), secret());
      await rotate(endpoint.client, id, strict.arn);
      const current = await secretValue(endpoint.client, id);
      user = { ...user, password: current.password };
      expect(recorder.seen.length).toBeGreaterThan(0);
      expect(recorder.seen.every(Boolean)).toBe(true);
      expect(strict.logs.lines.filter((l) => l.level === 'warn')).toEqual([]);
      expect(await encrypted(secret({ host: 'localhost' }), 'verify-full', ca.caFile)).toBe(true);
      recordFigure('tls.verifyFullSessions', recorder.seen.length);
    });

    it('verify-full without the CA bundle, or with another CA, fails as TLS and changes nothing', async () => {
      expect(await failure(encrypted(secret(), 'verify-full'))).toMatchObject({ code: 'TLS' });
      expect(await failure(encrypted(secret(), 'verify-full', otherCa.caFile))).toMatchObject({ code: 'TLS' });
      const strict = handler({ DB_TLS_MODE: 'verify-full' });
      const id = await createSecret(endpoint.client, uniqueName('rel-tls-noca'), secret());
      const before = await readState(endpoint.client, id);
      await expect(rotate(endpoint.client, id, strict.arn)).rejects.toBeDefined();
      expect(strict.logs.lines.filter((l) => l.outcome === 'failure').map((l) => `${l.step}:${l.errorCode}`)).toEqual(['setSecret:TLS']);
      expect((await readState(endpoint.client, id)).current.versionId).toBe(before.current.versionId);
      expect(await canLoginPostgres(user.username, user.password, server.env)).toBe(true);
    });

    it('prefer does not downgrade when the server has TLS; disable happens only when asked', async () => {
      expect(await encrypted(secret(), 'prefer')).toBe(true);
      expect(await encrypted(secret(), 'require')).toBe(true);
      expect(await encrypted(secret(), 'disable')).toBe(false);
      // Through a rotation, the secret's own `ssl` decides over DB_TLS_MODE, as in the AWS templates:
      // `ssl: false` is the way to a plaintext session, and nothing else is.
      const cases: Array<{ ssl?: boolean; env: Record<string, string>; encrypted: boolean }> = [
        { ssl: false, env: { DB_TLS_MODE: 'verify-full', DB_CA_BUNDLE: ca.caFile }, encrypted: false },
        { ssl: true, env: { DB_TLS_MODE: 'disable', DB_CA_BUNDLE: ca.caFile }, encrypted: true },
        { env: { DB_TLS_MODE: 'prefer' }, encrypted: true },
      ];
      for (const c of cases) {
        const recorder = encryptionRecorder();
        const h = handler(c.env, recorder.connector);
        const id = await createSecret(endpoint.client, uniqueName('rel-tls-mode'), secret(c.ssl === undefined ? {} : { ssl: c.ssl }));
        await rotate(endpoint.client, id, h.arn);
        user = { ...user, password: (await secretValue(endpoint.client, id)).password };
        expect({ ...c, seen: recorder.seen }).toEqual({ ...c, seen: recorder.seen.map(() => c.encrypted) });
        expect(recorder.seen.length).toBeGreaterThan(0);
        expect(h.logs.lines.filter((l) => l.level === 'warn')).toEqual([]);
      }
    });

    it('verify-full fails as TLS for a host name the certificate does not carry', async () => {
      await setServerTls(await ca.issue('elsewhere', ['DNS:db.elsewhere.internal']));
      expect(await failure(encrypted(secret(), 'verify-full', ca.caFile))).toMatchObject({ code: 'TLS' });
      // Encryption without verification still works: only the name is wrong.
      expect(await encrypted(secret(), 'require')).toBe(true);
    });
  });

  it('turns TLS off again by reload: the server refuses TLS afterwards', async () => {
    expect(await encrypted(secret(), 'require')).toBe(true);
    await setServerTls(undefined);
    expect(await failure(encrypted(secret(), 'require'))).toMatchObject({ code: 'TLS' });
  });
});
