import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createSecureContext, rootCertificates, type ConnectionOptions } from 'node:tls';
import { inspect } from 'node:util';
import { Client } from 'pg';
import {
  allowsPlaintextFallback,
  parseJdbcDbType,
  parseTlsMode,
  resolveTlsMode,
  toJdbcOptions,
  toMysqlConnectionOptions,
  toPgClientConfig,
  type TlsMode,
} from '../../shared/connection-options';
import { parseDatabaseSecret } from '../../shared/database-secret';
import { ConfigError, SecretValidationError, type ToolkitError } from '../../shared/errors';
import { readCertificates, secureContextFor, trustedCertificates } from '../../shared/tls';
import { noteSensitive } from '../../local/sensitive-values';

// mysql2 internals (outside its exports map, hence the absolute paths), read to prove what the
// driver makes of the options.
const mysql2Lib = join(dirname(require.resolve('mysql2')), 'lib');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MysqlConnectionConfig = require(join(mysql2Lib, 'connection_config.js')) as new (options: object) => {
  charsetNumber: number;
  clientFlags: number;
  ssl?: { rejectUnauthorized?: boolean; verifyIdentity?: boolean };
};
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mysqlEncodings = require(join(mysql2Lib, 'constants', 'charset_encodings.js')) as string[];
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mysqlClientFlags = require(join(mysql2Lib, 'constants', 'client.js')) as { LOCAL_FILES: number };

const PASSWORD = 'Map-Pw-6c1e-!@#secret';
const USERNAME = 'mapper_user_k7';
noteSensitive(PASSWORD);

// Public certificates of throwaway CAs made for this test (their keys were never kept).
const TEST_CA = `-----BEGIN CERTIFICATE-----
MIIBnTCCAUOgAwIBAgIUOGjz7pkEsIWMHndJYpQ2j3SeIlgwCgYIKoZIzj0EAwIw
IzEhMB8GA1UEAwwYcm90YXRpb24tdG9vbGtpdC10ZXN0LWNhMCAXDTI2MTEyMjAy
MDA0MFoYDzIxMjYxMDI5MDIwMDQwWjAjMSEwHwYDVQQDDBhyb3RhdGlvbi10b29s
a2l0LXRlc3QtY2EwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAAR0QD76NufUmaUP
BOwddKYXCMceH2BRuOghHFRhZ6XbDsIBrPKvrzS7LlgxHznGHwiiHx3wQCmMnNbq
xXeJTuoLo1MwUTAdBgNVHQ4EFgQUm4XrlIuoTXMDXjoHk25GSXe/V7IwHwYDVR0j
BBgwFoAUm4XrlIuoTXMDXjoHk25GSXe/V7IwDwYDVR0TAQH/BAUwAwEB/zAKBggq
hkjOPQQDAgNIADBFAiEA6zMPdHLDwGHcTbaI/YCb5uYtneemTW+kJCBlT7aq9woC
IHp9W/alTxGsmTW+daqQRg178VNG+uYpx4g0ExI6z4N5
-----END CERTIFICATE-----`;
const EXTRA_CA = `-----BEGIN CERTIFICATE-----
MIIBoDCCAUWgAwIBAgIUDb50g2R74BO5Jy3n9GaX8V7aPjgwCgYIKoZIzj0EAwIw
JDEiMCAGA1UEAwwZcm90YXRpb24tdG9vbGtpdC1leHRyYS1jYTAgFw0yNjExMjIw
MjAwNDBaGA8yMTI2MTAyOTAyMDA0MFowJDEiMCAGA1UEAwwZcm90YXRpb24tdG9v
bGtpdC1leHRyYS1jYTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBaWwoqXeCCS
7hv/H+JiYZEHmyXF7p4eEf3Yo13KY+6ioo+FP+6LNcYAc9pe4P9ea8hhYPFeGvwH
oGMi/w3Qt5SjUzBRMB0GA1UdDgQWBBRog3fCWeQmNPIDfedl47Q+O0ZE4DAfBgNV
HSMEGDAWgBRog3fCWeQmNPIDfedl47Q+O0ZE4DAPBgNVHRMBAf8EBTADAQH/MAoG
CCqGSM49BAMCA0kAMEYCIQCh6+a+ks8U2UTAE9FgdajT4R0gF/K4jxA0GEsM2NDu
NwIhAJratdr+5tBvL6UQZeJDeujgzlGRw3hBVZ6X7WcWxuG2
-----END CERTIFICATE-----`;

let dir: string;
let caPath: string;
let extraPath: string;
let fileCount = 0;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mapper-test-'));
  caPath = join(dir, 'rds-ca.pem');
  extraPath = join(dir, 'extra-ca.pem');
  writeFileSync(caPath, `# a bundle with a comment line\n${TEST_CA}\n`);
  writeFileSync(extraPath, `${EXTRA_CA}\n`);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A fresh path per test: the certificate cache is per path and lives for the process. */
function freshFile(content: string): string {
  const path = join(dir, `ca-${++fileCount}.pem`);
  writeFileSync(path, content);
  return path;
}

function thrown(fn: () => unknown): ToolkitError & Partial<SecretValidationError> {
  try {
    fn();
  } catch (err) {
    return err as ToolkitError & Partial<SecretValidationError>;
  }
  throw new Error('expected a throw');
}

function expectNoSecretIn(err: Error): void {
  for (const out of [err.message, String(err.stack), JSON.stringify(err), inspect(err)]) {
    expect(out).not.toContain(PASSWORD);
    expect(out).not.toContain(USERNAME);
  }
}

const rds = (engine: string, extra: Record<string, unknown> = {}) => ({
  engine,
  host: 'db.example.internal',
  username: USERNAME,
  password: PASSWORD,
  ...extra,
});

describe('toJdbcOptions: RDS format', () => {
  it.each([
    ['POSTGRES', 'postgres', 'jdbc:postgresql://db.example.internal:5432/orders', 'org.postgresql.Driver'],
    ['MYSQL', 'mysql', 'jdbc:mysql://db.example.internal:3306/orders', 'com.mysql.cj.jdbc.Driver'],
    ['MARIADB', 'mariadb', 'jdbc:mariadb://db.example.internal:3306/orders', 'org.mariadb.jdbc.Driver'],
    ['REDSHIFT', 'redshift', 'jdbc:redshift://db.example.internal:5439/orders', 'com.amazon.redshift.jdbc.Driver'],
  ])('%s: builds the URL with the default port and the standard driver', (dbType, engine, url, driver) => {
    expect(toJdbcOptions(rds(engine, { dbname: 'orders' }), dbType)).toEqual({
      url,
      user: USERNAME,
      password: PASSWORD,
      driver,
      jars: '',
    });
  });

  it.each([
    ['postgres', 'jdbc:postgresql://db.example.internal:5432/postgres'],
    ['mysql', 'jdbc:mysql://db.example.internal:3306'],
    ['mariadb', 'jdbc:mariadb://db.example.internal:3306'],
    ['redshift', 'jdbc:redshift://db.example.internal:5439'],
  ])('%s without dbname: Postgres gets its default database, the others none', (dbType, url) => {
    expect(toJdbcOptions(rds(dbType), dbType).url).toBe(url);
    // Terraform writes "dbname": null for an instance without a database name: the same as absent.
    expect(toJdbcOptions(rds(dbType, { dbname: null }), dbType).url).toBe(url);
  });

  it('takes the port as a number or a numeric string', () => {
    expect(toJdbcOptions(rds('postgres', { port: 6543, dbname: 'a' }), 'POSTGRES').url).toBe(
      'jdbc:postgresql://db.example.internal:6543/a',
    );
    expect(toJdbcOptions(rds('mysql', { port: '3307' }), 'MYSQL').url).toBe('jdbc:mysql://db.example.internal:3307');
  });

  it('puts an IPv6 host in brackets', () => {
    expect(toJdbcOptions(rds('postgres', { host: '::1', dbname: 'db' }), 'POSTGRES').url).toBe('jdbc:postgresql://[::1]:5432/db');
  });

  it('accepts a JSON string and a parsed DatabaseSecret', () => {
    const fromJson = toJdbcOptions(JSON.stringify(rds('postgres', { dbname: 'db' })), 'POSTGRES');
    const fromParsed = toJdbcOptions(parseDatabaseSecret(rds('postgres', { dbname: 'db' })), 'POSTGRES');
    expect(fromJson).toEqual(fromParsed);
    expect(fromParsed.password).toBe(PASSWORD);
  });

  it('reads dbType in any case and with spaces', () => {
    expect(toJdbcOptions(rds('mariadb'), ' MariaDb ').driver).toBe('org.mariadb.jdbc.Driver');
    expect(parseJdbcDbType('redshift')).toBe('REDSHIFT');
  });
});

describe('toJdbcOptions: AwsSecretManager format', () => {
  const seed = {
    username: USERNAME,
    password: PASSWORD,
    hosturl: 'jdbc:postgresql://pg.example:5432/sales',
    driver: 'org.postgresql.Driver',
    jars: '/opt/jars/postgresql.jar',
  };

  it('passes the fields through', () => {
    expect(toJdbcOptions(seed, 'POSTGRES')).toEqual({
      url: 'jdbc:postgresql://pg.example:5432/sales',
      user: USERNAME,
      password: PASSWORD,
      driver: 'org.postgresql.Driver',
      jars: '/opt/jars/postgresql.jar',
    });
  });

  it('accepts the alternative spellings user and url', () => {
    const alt = { user: USERNAME, password: PASSWORD, url: 'jdbc:mysql://my.example:3306/app' };
    expect(toJdbcOptions(alt, 'mysql')).toEqual({
      url: 'jdbc:mysql://my.example:3306/app',
      user: USERNAME,
      password: PASSWORD,
      driver: 'com.mysql.cj.jdbc.Driver',
      jars: '',
    });
  });

  it('prefers username over user and hosturl over url, and a given URL over host', () => {
    const both = { ...seed, user: 'other_user', url: 'jdbc:postgresql://other:1/x', host: 'ignored.example' };
    const out = toJdbcOptions(both, 'POSTGRES');
    expect(out.user).toBe(USERNAME);
    expect(out.url).toBe(seed.hosturl);
  });

  it('defaults the driver per dbType and jars to an empty string', () => {
    const { driver: _d, jars: _j, ...bare } = seed;
    expect(toJdbcOptions(bare, 'REDSHIFT')).toMatchObject({ driver: 'com.amazon.redshift.jdbc.Driver', jars: '' });
    expect(toJdbcOptions(bare, 'MARIADB')).toMatchObject({ driver: 'org.mariadb.jdbc.Driver', jars: '' });
  });

  it('serializes with the password (the contract returns it) but does not show it in console output', () => {
    const out = toJdbcOptions(seed, 'POSTGRES');
    expect(JSON.parse(JSON.stringify(out)).password).toBe(PASSWORD);
    expect({ ...out }.password).toBe(PASSWORD);
    expect(inspect(out)).not.toContain(PASSWORD);
    expect(inspect(out, { showHidden: true })).not.toContain(PASSWORD);
    expect(inspect(out)).toContain(USERNAME);
    expect(Object.isFrozen(out)).toBe(true);
  });
});

describe('toJdbcOptions: errors', () => {
  it.each([
    ['no user', { password: PASSWORD, hosturl: 'jdbc:mysql://h:3306/x' }, ['username']],
    ['no password', { username: USERNAME, hosturl: 'jdbc:mysql://h:3306/x' }, ['password']],
    ['no URL and no host', { username: USERNAME, password: PASSWORD }, ['hosturl']],
    ['nothing at all', {}, ['hosturl', 'password', 'username']],
    ['an empty password', { username: USERNAME, password: '', hosturl: 'jdbc:mysql://h/x' }, ['password']],
    ['a numeric password', { username: USERNAME, password: 12345678, hosturl: 'jdbc:mysql://h/x' }, ['password']],
    ['a non-string user', { user: [USERNAME], password: PASSWORD, url: 'jdbc:mysql://h/x' }, ['user']],
    ['a non-string url', { username: USERNAME, password: PASSWORD, url: 42 }, ['url']],
    ['a non-string driver', { username: USERNAME, password: PASSWORD, url: 'jdbc:mysql://h/x', driver: 1 }, ['driver']],
    ['a non-string jars', { username: USERNAME, password: PASSWORD, url: 'jdbc:mysql://h/x', jars: ['a.jar'] }, ['jars']],
    ['a host with a path', { username: USERNAME, password: PASSWORD, host: 'h/x' }, ['host']],
    ['a host with credentials', { username: USERNAME, password: PASSWORD, host: `${USERNAME}:${PASSWORD}@h` }, ['host']],
    ['a bad port', { username: USERNAME, password: PASSWORD, host: 'h', port: '80a' }, ['port']],
    ['a host holding its port', { username: USERNAME, password: PASSWORD, host: 'db.example.com:3306' }, ['host']],
    ['a bracketed IPv6 host with a port', { username: USERNAME, password: PASSWORD, host: '[::1]:3306' }, ['host']],
    ['a numeric host', { username: USERNAME, password: PASSWORD, host: 12 }, ['host']],
    ['invalid JSON', `{"username": "${USERNAME}", "password": "${PASSWORD}"`, ['']],
    ['a JSON array', `["${USERNAME}", "${PASSWORD}"]`, ['']],
    ['null', null, ['']],
  ])('%s → SecretValidationError naming the keys, never a value', (_name, secret, paths) => {
    const err = thrown(() => toJdbcOptions(secret, 'MYSQL', { secretId: 'app/jdbc' }));
    expect(err).toBeInstanceOf(SecretValidationError);
    expect(err.code).toBe('SECRET_INVALID');
    expect(err.issues!.map((i) => i.path).sort()).toEqual(paths);
    expect(err.message).toContain('secret app/jdbc');
    expectNoSecretIn(err);
  });

  it('unknown dbType → ConfigError, checked before the secret', () => {
    const err = thrown(() => toJdbcOptions({ username: USERNAME, password: PASSWORD }, 'ORACLE'));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('CONFIG');
    expect(err.message).toContain('POSTGRES, MYSQL, MARIADB, REDSHIFT');
    expectNoSecretIn(err);
  });
});

describe('TLS modes', () => {
  it.each([
    [true, 'disable', 'verify-full'],
    [false, 'verify-full', 'disable'],
    [undefined, 'require', 'require'],
    [undefined, 'prefer', 'prefer'],
    [true, 'require', 'verify-full'],
  ] as const)('resolveTlsMode(ssl %p, fallback %s) → %s', (ssl, fallback, expected) => {
    expect(resolveTlsMode(ssl, fallback)).toBe(expected);
  });

  it.each([
    [undefined, 'verify-full'],
    ['', 'verify-full'],
    ['  ', 'verify-full'],
    ['verify-full', 'verify-full'],
    ['REQUIRE', 'require'],
    [' Prefer ', 'prefer'],
    ['disable', 'disable'],
  ])('parseTlsMode(%p) → %s', (value, expected) => {
    expect(parseTlsMode(value)).toBe(expected);
  });

  it.each(['verify-ca', 'true', 'allow', 'verify_full'])('parseTlsMode(%p) → ConfigError naming the variable', (value) => {
    const err = thrown(() => parseTlsMode(value));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('DB_TLS_MODE');
    expect(thrown(() => parseTlsMode(value, 'MY_TLS')).message).toContain('MY_TLS');
  });

  it('allows a plaintext fallback only under prefer', () => {
    const modes: TlsMode[] = ['verify-full', 'require', 'prefer', 'disable'];
    expect(modes.filter(allowsPlaintextFallback)).toEqual(['prefer']);
  });
});

describe('trustedCertificates', () => {
  it('is undefined without a bundle path: Node’s default store applies', () => {
    expect(trustedCertificates({})).toBeUndefined();
    expect(trustedCertificates({ caBundlePath: '  ', env: { NODE_EXTRA_CA_CERTS: extraPath } })).toBeUndefined();
  });

  it('adds the bundle to Node’s roots instead of replacing them', () => {
    const ca = trustedCertificates({ caBundlePath: caPath, env: {} })!;
    for (const root of rootCertificates) expect(ca).toContain(root);
    expect(ca).toContain(TEST_CA);
    expect(ca).toHaveLength(rootCertificates.length + 1);
  });

  it('reads NODE_EXTRA_CA_CERTS explicitly, since an explicit ca would drop it', () => {
    const ca = trustedCertificates({ caBundlePath: caPath, env: { NODE_EXTRA_CA_CERTS: extraPath } })!;
    expect(ca).toContain(EXTRA_CA);
    expect(ca).toContain(TEST_CA);
    expect(ca).toContain(rootCertificates[0]);
  });

  it('yields certificates Node’s TLS accepts', () => {
    const ca = trustedCertificates({ caBundlePath: caPath, env: { NODE_EXTRA_CA_CERTS: extraPath } })!;
    expect(() => createSecureContext({ ca })).not.toThrow();
  });

  it('reads each file once and hands out the same frozen array', () => {
    const path = freshFile(TEST_CA);
    const first = trustedCertificates({ caBundlePath: path, env: {} });
    writeFileSync(path, EXTRA_CA);
    const second = trustedCertificates({ caBundlePath: path, env: {} });
    expect(second).toBe(first);
    expect(second).toContain(TEST_CA);
    expect(readCertificates(path)).toEqual([TEST_CA]);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('builds one secure context per bundle', () => {
    const ca = trustedCertificates({ caBundlePath: caPath, env: {} })!;
    expect(secureContextFor(ca)).toBe(secureContextFor(ca));
    const other = trustedCertificates({ caBundlePath: caPath, env: { NODE_EXTRA_CA_CERTS: extraPath } })!;
    expect(secureContextFor(other)).not.toBe(secureContextFor(ca));
  });

  it('splits a bundle of several certificates', () => {
    expect(readCertificates(freshFile(`${TEST_CA}\n${EXTRA_CA}\n`))).toEqual([TEST_CA, EXTRA_CA]);
  });

  it('a missing file → ConfigError naming the path', () => {
    const missing = join(dir, 'nope.pem');
    const err = thrown(() => trustedCertificates({ caBundlePath: missing, env: {} }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain(missing);
    expect(err.message).toContain('ENOENT');
  });

  it('a missing NODE_EXTRA_CA_CERTS file → ConfigError naming it', () => {
    const missing = join(dir, 'no-extra.pem');
    const err = thrown(() => trustedCertificates({ caBundlePath: caPath, env: { NODE_EXTRA_CA_CERTS: missing } }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).toContain('NODE_EXTRA_CA_CERTS');
    expect(err.message).toContain(missing);
  });

  it('a file without certificates → ConfigError, and is not cached as good', () => {
    const path = freshFile('not a certificate');
    expect(thrown(() => trustedCertificates({ caBundlePath: path, env: {} }))).toBeInstanceOf(ConfigError);
    writeFileSync(path, TEST_CA);
    expect(trustedCertificates({ caBundlePath: path, env: {} })).toContain(TEST_CA);
  });
});

describe('toPgClientConfig', () => {
  const pgSecret = rds('postgres', { port: '6432' });

  it('maps the secret, with the default database and timeout', () => {
    expect(toPgClientConfig(pgSecret, { tlsMode: 'disable' })).toEqual({
      host: 'db.example.internal',
      port: 6432,
      user: USERNAME,
      password: PASSWORD,
      database: 'postgres',
      connectionTimeoutMillis: 5000,
      ssl: false,
    });
  });

  it('reads "dbname": null as absent: the default database', () => {
    expect(toPgClientConfig({ ...pgSecret, dbname: null }).database).toBe('postgres');
  });

  it('uses the secret’s dbname, and opts.database over it', () => {
    expect(toPgClientConfig({ ...pgSecret, dbname: 'orders' }).database).toBe('orders');
    expect(toPgClientConfig({ ...pgSecret, dbname: 'orders' }, { database: 'child' }).database).toBe('child');
  });

  it('takes a custom connect timeout and refuses a nonsense one', () => {
    expect(toPgClientConfig(pgSecret, { connectTimeoutMs: 1500 }).connectionTimeoutMillis).toBe(1500);
    for (const ms of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(thrown(() => toPgClientConfig(pgSecret, { connectTimeoutMs: ms }))).toBeInstanceOf(ConfigError);
    }
  });

  it.each([
    [undefined, { rejectUnauthorized: true }],
    ['verify-full', { rejectUnauthorized: true }],
    ['require', { rejectUnauthorized: false }],
    ['prefer', { rejectUnauthorized: false }],
    ['disable', false],
  ] as const)('tlsMode %p → ssl %p', (tlsMode, ssl) => {
    expect(toPgClientConfig(pgSecret, tlsMode === undefined ? {} : { tlsMode }).ssl).toEqual(ssl);
  });

  it('lets the secret’s ssl win over the configured mode', () => {
    expect(toPgClientConfig({ ...pgSecret, ssl: 'true' }, { tlsMode: 'disable' }).ssl).toEqual({ rejectUnauthorized: true });
    expect(toPgClientConfig({ ...pgSecret, ssl: false }, { tlsMode: 'verify-full' }).ssl).toBe(false);
  });

  it('shows no password when logged, yet hands it to the driver', () => {
    const config = toPgClientConfig(pgSecret, { caBundlePath: caPath, env: {} });
    expect(inspect(config, { showHidden: true })).not.toContain(PASSWORD);
    expect(inspect(config)).toContain(USERNAME);
    expect({ ...config }.password).toBe(PASSWORD);
  });

  it('takes tlsMode as given when the caller already resolved it (tlsModeFinal)', () => {
    expect(toPgClientConfig({ ...pgSecret, ssl: false }, { tlsMode: 'verify-full', tlsModeFinal: true }).ssl).toEqual({
      rejectUnauthorized: true,
    });
    expect(toPgClientConfig({ ...pgSecret, ssl: true }, { tlsMode: 'disable', tlsModeFinal: true }).ssl).toBe(false);
  });

  it('trusts the CA bundle on top of Node’s roots under verify-full only, with a reused secure context', () => {
    const ssl = toPgClientConfig(pgSecret, { caBundlePath: caPath, env: {} }).ssl as ConnectionOptions & { ca: string[] };
    expect(ssl.rejectUnauthorized).toBe(true);
    expect(ssl.ca).toContain(TEST_CA);
    expect(ssl.ca).toContain(rootCertificates[0]);
    expect(ssl.secureContext).toBeDefined();
    expect((toPgClientConfig(pgSecret, { caBundlePath: caPath, env: {} }).ssl as ConnectionOptions).secureContext).toBe(ssl.secureContext);
    expect(toPgClientConfig(pgSecret, { caBundlePath: caPath, tlsMode: 'require' }).ssl).toEqual({ rejectUnauthorized: false });
  });

  it('accepts a parsed secret, a JSON string or an object', () => {
    const expected = toPgClientConfig(pgSecret);
    expect(toPgClientConfig(JSON.stringify(pgSecret))).toEqual(expected);
    expect(toPgClientConfig(parseDatabaseSecret(pgSecret))).toEqual(expected);
  });

  it('refuses a MySQL secret and an invalid one, without values', () => {
    const err = thrown(() => toPgClientConfig(rds('mysql'), { secretId: 'app/pg', step: 'testSecret' }));
    expect(err.code).toBe('SECRET_INVALID');
    expect(err.issues!.map((i) => i.path)).toEqual(['engine']);
    expect(err.message).toContain('step testSecret');
    expectNoSecretIn(err);
    expectNoSecretIn(thrown(() => toPgClientConfig(parseDatabaseSecret(rds('mariadb')))));
    expectNoSecretIn(thrown(() => toPgClientConfig({ ...pgSecret, host: `${USERNAME}:${PASSWORD}@h` })));
  });

  it('keeps PG* environment variables from overriding the TLS choice', () => {
    const saved = process.env.PGSSLMODE;
    process.env.PGSSLMODE = 'no-verify';
    try {
      const client = new Client(toPgClientConfig(pgSecret)) as unknown as { ssl: unknown; database: string };
      expect(client.ssl).toEqual({ rejectUnauthorized: true });
      expect(client.database).toBe('postgres');
    } finally {
      if (saved === undefined) delete process.env.PGSSLMODE;
      else process.env.PGSSLMODE = saved;
    }
  });
});

describe('toMysqlConnectionOptions', () => {
  const mySecret = rds('mariadb');

  it('maps the secret with utf8mb4, single statements and no LOAD DATA LOCAL', () => {
    expect(toMysqlConnectionOptions(mySecret, { tlsMode: 'disable' })).toEqual({
      host: 'db.example.internal',
      port: 3306,
      user: USERNAME,
      password: PASSWORD,
      connectTimeout: 5000,
      charset: 'utf8mb4',
      multipleStatements: false,
      flags: ['-LOCAL_FILES'],
    });
  });

  it('names no database unless the secret or opts do', () => {
    expect('database' in toMysqlConnectionOptions(mySecret)).toBe(false);
    expect('database' in toMysqlConnectionOptions({ ...mySecret, dbname: null })).toBe(false);
    expect(toMysqlConnectionOptions({ ...mySecret, dbname: 'shop' }).database).toBe('shop');
    expect(toMysqlConnectionOptions({ ...mySecret, dbname: 'shop' }, { database: 'child' }).database).toBe('child');
  });

  it.each([
    [undefined, { rejectUnauthorized: true, verifyIdentity: true }],
    ['verify-full', { rejectUnauthorized: true, verifyIdentity: true }],
    ['require', { rejectUnauthorized: false, verifyIdentity: false }],
    ['prefer', { rejectUnauthorized: false, verifyIdentity: false }],
    ['disable', undefined],
  ] as const)('tlsMode %p → ssl %p', (tlsMode, ssl) => {
    const options = toMysqlConnectionOptions(mySecret, tlsMode === undefined ? {} : { tlsMode });
    expect(options.ssl).toEqual(ssl);
    expect('ssl' in options).toBe(ssl !== undefined);
  });

  it('shows no password when logged, yet hands it to the driver', () => {
    const options = toMysqlConnectionOptions(mySecret);
    expect(inspect(options, { showHidden: true })).not.toContain(PASSWORD);
    expect({ ...options }.password).toBe(PASSWORD);
  });

  it('takes tlsMode as given under tlsModeFinal', () => {
    expect(toMysqlConnectionOptions({ ...mySecret, ssl: true }, { tlsMode: 'disable', tlsModeFinal: true }).ssl).toBeUndefined();
    expect(toMysqlConnectionOptions({ ...mySecret, ssl: 'false' }, { tlsMode: 'require', tlsModeFinal: true }).ssl).toEqual({
      rejectUnauthorized: false,
      verifyIdentity: false,
    });
  });

  it('lets the secret’s ssl win and adds the CA bundle to Node’s roots', () => {
    expect(toMysqlConnectionOptions({ ...mySecret, ssl: 'FALSE' }, { tlsMode: 'verify-full' }).ssl).toBeUndefined();
    const ssl = toMysqlConnectionOptions({ ...mySecret, ssl: true }, { tlsMode: 'disable', caBundlePath: caPath, env: {} }).ssl as {
      ca: string[];
      verifyIdentity: boolean;
    };
    expect(ssl.verifyIdentity).toBe(true);
    expect(ssl.ca).toContain(TEST_CA);
    expect(ssl.ca).toContain(rootCertificates[0]);
  });

  it('hands mysql2 one ssl object per mode and CA set, which mysql2 caches its TLS state by', () => {
    const a = toMysqlConnectionOptions(mySecret).ssl;
    expect(toMysqlConnectionOptions(rds('mysql', { host: 'other.example' })).ssl).toBe(a);
    expect(toMysqlConnectionOptions(mySecret, { tlsMode: 'require' }).ssl).not.toBe(a);
    const withCa = toMysqlConnectionOptions(mySecret, { caBundlePath: caPath, env: {} }).ssl;
    expect(withCa).not.toBe(a);
    expect(toMysqlConnectionOptions(mySecret, { caBundlePath: caPath, env: {} }).ssl).toBe(withCa);
  });

  it('survives mysql2 reading (and writing back to) the shared ssl object', () => {
    const ssl = toMysqlConnectionOptions(mySecret, { tlsMode: 'require' }).ssl;
    const before = { ...(ssl as object) };
    new MysqlConnectionConfig(toMysqlConnectionOptions(mySecret, { tlsMode: 'require' }));
    expect(ssl).toEqual(before);
  });

  it('is read by mysql2 as utf8mb4 decoded natively, without LOCAL_FILES, verifying the host', () => {
    const config = new MysqlConnectionConfig(toMysqlConnectionOptions(mySecret));
    expect(mysqlEncodings[config.charsetNumber]).toBe('utf8');
    expect(config.clientFlags & mysqlClientFlags.LOCAL_FILES).toBe(0);
    expect(config.ssl).toMatchObject({ rejectUnauthorized: true, verifyIdentity: true });
  });

  it('refuses a Postgres secret without values', () => {
    const err = thrown(() => toMysqlConnectionOptions(rds('aurora-postgresql')));
    expect(err.code).toBe('SECRET_INVALID');
    expect(err.issues!.map((i) => i.path)).toEqual(['engine']);
    expectNoSecretIn(err);
  });

  it('takes the port from the secret', () => {
    expect(toMysqlConnectionOptions({ ...mySecret, port: '3307' }).port).toBe(3307);
  });
});

describe('the driver mappers refuse a host holding a port before any connection', () => {
  const secret = { engine: 'postgres', username: USERNAME, password: PASSWORD, host: '127.0.0.1:5432' };
  it.each([
    ['toPgClientConfig', () => toPgClientConfig(secret)],
    ['toMysqlConnectionOptions', () => toMysqlConnectionOptions({ ...secret, engine: 'mysql', host: 'db.example.com:3306' })],
  ])('%s', (_name, map) => {
    const err = thrown(map);
    expect(err).toBeInstanceOf(SecretValidationError);
    expect(err.issues!.map((i) => `${i.path} ${i.problem}`)).toEqual([
      'host must not contain a port ("host:port"); put the port in "port"',
    ]);
  });

  it('keeps a bare IPv6 host, bracketed only in a JDBC URL', () => {
    expect(toPgClientConfig({ engine: 'postgres', username: USERNAME, password: PASSWORD, host: '::1' }).host).toBe('::1');
    expect(toJdbcOptions({ username: USERNAME, password: PASSWORD, host: '2001:db8::5', port: 3306 }, 'MYSQL').url).toMatch(
      /^jdbc:mysql:\/\/\[2001:db8::5\]:3306/,
    );
  });
});
