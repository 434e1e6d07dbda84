/**
 * The drivers load on the first login, not at import (an application importing `shared/` pays for
 * them only when it logs in), except in the rotation Lambdas, which load theirs during init; and what
 * replaced their helpers behaves exactly like them: pg's identifier/literal quoting, mysql2's escape,
 * and the SCRAM verifier computed off the event loop.
 */
import { escapeIdentifier, escapeLiteral } from 'pg';
import { escape as mysql2Escape } from 'mysql2';
import { escapePostgresIdentifier, escapePostgresLiteral } from '../../shared/engines/postgres-escape';
import { passwordHash, passwordHashAsync } from '../../shared/engines/postgres-sql';
import { scramSha256Verifier, scramSha256VerifierAsync } from '../../shared/engines/password-hashes';

const AWKWARD = [
  '',
  'plain',
  'with space',
  'My "Odd" Üser',
  "o'brien",
  "''",
  'back\\slash',
  'both \' and \\ and "',
  '\\',
  'trailing\\',
  'unicode ✓ 𝄞 Ω',
  'new\nline\ttab',
  'SCRAM-SHA-256$4096:c2FsdA==$a2V5:c2VydmVy',
];

describe('pg quoting without pg', () => {
  it.each(AWKWARD)('%j is quoted exactly as pg quotes it', (text) => {
    expect(escapePostgresIdentifier(text)).toBe(escapeIdentifier(text));
    expect(escapePostgresLiteral(text)).toBe(escapeLiteral(text));
  });
});

describe('SCRAM verifier off the event loop', () => {
  const salt = Buffer.from('0123456789abcdef');
  it.each(['Plain-Text-Password-42', 'ünïcödé-Ｐａｓｓ', ''])('the async verifier of %j equals the sync one', async (password) => {
    await expect(scramSha256VerifierAsync(password, salt, 4096)).resolves.toBe(scramSha256Verifier(password, salt, 4096));
  });

  it('draws a fresh salt per call', async () => {
    const [a, b] = await Promise.all([scramSha256VerifierAsync('same'), scramSha256VerifierAsync('same')]);
    expect(a).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(a).not.toBe(b);
  });

  it('chooses md5 or SCRAM as the sync passwordHash does', async () => {
    await expect(passwordHashAsync('pw-1', 'app', 'md5')).resolves.toBe(passwordHash('pw-1', 'app', 'md5'));
    await expect(passwordHashAsync('pw-1', 'app', ' MD5 ')).resolves.toBe(passwordHash('pw-1', 'app', 'md5'));
    await expect(passwordHashAsync('pw-1', 'app', 'scram-sha-256')).resolves.toMatch(/^SCRAM-SHA-256\$4096:/);
  });
});

/** Requires `module` in a fresh registry and reports which of `drivers` were loaded by the import itself. */
function driversLoadedByImport(module: string, drivers: readonly string[]): { loaded: string[]; exports: Record<string, unknown> } {
  const loaded: string[] = [];
  let exports: Record<string, unknown> = {};
  jest.isolateModules(() => {
    for (const driver of drivers) {
      jest.doMock(driver, () => {
        loaded.push(driver);
        return jest.requireActual(driver);
      });
    }
    exports = jest.requireActual<Record<string, unknown>>(module);
  });
  return { loaded, exports };
}

describe('drivers load on first use', () => {
  afterEach(() => jest.resetModules());

  it('importing the PostgreSQL engine (and its SQL) does not load pg', () => {
    expect(driversLoadedByImport('../../shared/engines/postgres', ['pg']).loaded).toEqual([]);
  });

  it('the PostgreSQL connector loads pg when it first connects', async () => {
    const { loaded, exports } = driversLoadedByImport('../../shared/engines/postgres', ['pg']);
    const connect = exports.connectPostgres as (request: object) => Promise<{ close(): Promise<void> }>;
    // Port 9 on loopback refuses at once: the attempt fails, but only after pg was needed.
    await expect(
      connect({
        family: 'postgres',
        secret: {
          family: 'postgres',
          engine: 'postgres',
          host: '127.0.0.1',
          port: 9,
          username: 'nobody',
          password: 'pw-never-used',
          fields: {},
        },
        role: 'current',
        tlsMode: 'disable',
        connectTimeoutMs: 2_000,
      }),
    ).rejects.toMatchObject({ name: expect.stringMatching(/NetworkError|TimeoutError/) });
    expect(loaded).toEqual(['pg']);
  });

  it('importing the MySQL connector does not load mysql2; escapeMysql loads it and escapes as mysql2 does', () => {
    const { loaded, exports } = driversLoadedByImport('../../shared/engines/mysql-connector', ['mysql2', 'mysql2/promise']);
    expect(loaded).toEqual([]);
    const escapeMysql = exports.escapeMysql as (value: string) => string;
    for (const text of AWKWARD) expect(escapeMysql(text)).toBe(mysql2Escape(text));
    expect(loaded).toEqual(['mysql2']);
  });
});

describe('the rotation Lambdas load their driver during init', () => {
  const saved = { ...process.env };
  beforeEach(() => {
    // What the handler needs to build at import: a region for its Secrets Manager client.
    process.env.AWS_REGION = 'us-east-1';
    delete process.env.SECRETS_MANAGER_ENDPOINT;
    delete process.env.ROTATION_STRATEGY;
  });
  afterEach(() => {
    process.env = { ...saved };
    jest.resetModules();
  });

  it('the PostgreSQL Lambda loads pg at import, and not mysql2', () => {
    const { loaded, exports } = driversLoadedByImport('../../lambdas/postgres-rotation/index', ['pg', 'mysql2']);
    expect(loaded).toEqual(['pg']);
    expect(typeof exports.handler).toBe('function');
  });

  it('the MySQL Lambda loads mysql2 and its promise wrapper at import, and not pg', () => {
    const { loaded, exports } = driversLoadedByImport('../../lambdas/mysql-rotation/index', ['pg', 'mysql2', 'mysql2/promise']);
    expect(loaded.sort()).toEqual(['mysql2', 'mysql2/promise']);
    expect(typeof exports.handler).toBe('function');
  });
});
