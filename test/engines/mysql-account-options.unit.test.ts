/**
 * Reading MySQL/MariaDB account options from the catalogs and writing them back: every option written
 * out (defaults included), MariaDB authentication chains rebuilt in order with the new password where
 * a password goes, and what cannot be copied refused by name.
 */
import {
  accountOptionsClause,
  copiedIdentified,
  fromGlobalPriv,
  fromUserRow,
  identifiedFor,
  readAccountOptions,
} from '../../shared/engines/mysql-account-options';
import type { Row, SqlSession } from '../../shared/rotation/database-engine';
import { parseMysqlServerInfo } from '../../shared/engines/mysql-server-info';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';

const MARIADB = parseMysqlServerInfo('10.11.9-MariaDB');
const MYSQL8 = parseMysqlServerInfo('8.0.36');
const PASSWORD = "pw'\\x";
const HASH = mysqlNativePasswordHash(PASSWORD);

describe('fromGlobalPriv', () => {
  it('puts the top-level method where the empty auth_or entry stands', () => {
    const o = fromGlobalPriv('%', {
      plugin: 'mysql_old_password',
      authentication_string: 'abcd',
      auth_or: [{ plugin: 'unix_socket' }, {}, { plugin: 'mysql_native_password', authentication_string: '*X' }],
    });
    expect(o.auth.map((m) => m.plugin)).toEqual(['unix_socket', 'mysql_old_password', 'mysql_native_password']);
  });

  it('reads JSON text or a parsed object alike, absent fields as their defaults', () => {
    const json = '{"plugin":"mysql_native_password","authentication_string":"*X"}';
    expect(fromGlobalPriv('h', json)).toEqual(fromGlobalPriv('h', JSON.parse(json) as unknown));
    expect(fromGlobalPriv('h', json)).toMatchObject({
      sslType: '',
      maxQueriesPerHour: 0,
      maxStatementTime: '0',
      passwordLifetime: null,
      locked: false,
    });
    expect(fromGlobalPriv('h', { password_lifetime: 0, account_locked: true, ssl_type: 2 })).toMatchObject({
      passwordLifetime: 0,
      locked: true,
      sslType: 'X509',
    });
  });

  it('refuses what it cannot read, naming the host only', () => {
    expect(() => fromGlobalPriv('10.%', 'not json')).toThrow("cannot read for the account at host '10.%'");
  });
});

describe('fromUserRow', () => {
  it('takes only the columns the version has', () => {
    const v57 = fromUserRow(parseMysqlServerInfo('5.7.44'), {
      Host: '%',
      plugin: 'mysql_native_password',
      ssl_type: '',
      password_lifetime: null,
      account_locked: 'Y',
    });
    expect(v57).toMatchObject({ passwordLifetime: null, locked: true });
    expect(v57.passwordPolicy).toBeUndefined();
    expect(v57.maxStatementTime).toBeUndefined();
  });
});

describe('readAccountOptions', () => {
  const session = (rows: Row[]): SqlSession => ({ query: async () => rows, close: async () => undefined });

  it('leaves out a MariaDB role of the same name (host empty, is_role): it is not an account', async () => {
    const role = { host: '', priv: { is_role: true } };
    const user = { host: '%', priv: JSON.stringify({ plugin: 'mysql_native_password', authentication_string: HASH }) };
    expect((await readAccountOptions(session([role, user]), MARIADB, 'app')).map((o) => o.host)).toEqual(['%']);
    const old = parseMysqlServerInfo('10.3.39-MariaDB');
    const rows = [
      { Host: '', User: 'app', is_role: 'Y', plugin: '', ssl_type: '' },
      { Host: '%', User: 'app', is_role: 'N', plugin: 'mysql_native_password', ssl_type: '' },
    ];
    expect((await readAccountOptions(session(rows), old, 'app')).map((o) => o.host)).toEqual(['%']);
  });
});

describe('copiedIdentified (an entry no method of which takes a password)', () => {
  const entry = (auth: Array<{ plugin: string; authString: string }>) => ({ ...fromGlobalPriv('localhost', '{}'), auth });
  it('copies every method as stored, USING string included; refuses what it does not copy', () => {
    expect(copiedIdentified(MARIADB, entry([{ plugin: 'unix_socket', authString: '' }]))).toBe('IDENTIFIED VIA unix_socket');
    expect(
      copiedIdentified(
        MARIADB,
        entry([
          { plugin: 'pam', authString: "it's" },
          { plugin: 'unix_socket', authString: '' },
        ]),
      ),
    ).toBe("IDENTIFIED VIA pam USING 'it\\'s' OR unix_socket");
    expect(copiedIdentified(MYSQL8, entry([{ plugin: 'auth_socket', authString: 'os_app' }]))).toBe(
      "IDENTIFIED WITH auth_socket AS 'os_app'",
    );
    expect(() => copiedIdentified(MARIADB, entry([{ plugin: 'mysql_old_password', authString: '0123456789abcdef' }]))).toThrow(
      /mysql_old_password method, which this toolkit does not copy/,
    );
  });
});

describe('accountOptionsClause', () => {
  const base = fromGlobalPriv('%', {});

  it('writes every option, defaults included (MariaDB)', () => {
    expect(accountOptionsClause(MARIADB, base)).toBe(
      'REQUIRE NONE WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0 MAX_STATEMENT_TIME 0 PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK',
    );
    expect(accountOptionsClause(MARIADB, { ...base, passwordLifetime: 0, locked: true })).toMatch(/PASSWORD EXPIRE NEVER ACCOUNT LOCK$/);
    expect(accountOptionsClause(MARIADB, { ...base, passwordLifetime: 45 })).toMatch(/PASSWORD EXPIRE INTERVAL 45 DAY/);
  });

  it('leaves MAX_STATEMENT_TIME out on MySQL and adds its password policy', () => {
    const o = { ...base, passwordPolicy: { history: 3, reuseDays: null, requireCurrent: true, failedLoginAttempts: 0, lockDays: 2 } };
    expect(accountOptionsClause(MYSQL8, o)).toBe(
      'REQUIRE NONE WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0 PASSWORD EXPIRE DEFAULT ' +
        'PASSWORD HISTORY 3 PASSWORD REUSE INTERVAL DEFAULT PASSWORD REQUIRE CURRENT FAILED_LOGIN_ATTEMPTS 0 PASSWORD_LOCK_TIME 2 ACCOUNT UNLOCK',
    );
  });
});

describe('identifiedFor', () => {
  const chain = (...auth: Array<[string, string]>): ReturnType<typeof fromGlobalPriv> => ({
    ...fromGlobalPriv('%', {}),
    auth: auth.map(([plugin, authString]) => ({ plugin, authString })),
  });

  it('a chain keeps its methods in order, the new password where a password goes', () => {
    expect(
      identifiedFor(MARIADB, chain(['unix_socket', ''], ['mysql_native_password', '*OLD'], ['ed25519', 'old'], ['pam', 'svc']), PASSWORD),
    ).toBe(
      `IDENTIFIED VIA unix_socket OR mysql_native_password USING '${HASH}' OR ed25519 USING PASSWORD('pw\\'\\\\x') OR pam USING 'svc'`,
    );
  });

  it('a single method goes through the single-method clause', () => {
    expect(identifiedFor(MARIADB, chain(['mysql_native_password', '*OLD']), PASSWORD)).toBe(`IDENTIFIED BY PASSWORD '${HASH}'`);
  });

  it.each([
    [
      [
        ['mysql_old_password', 'abcd'],
        ['mysql_native_password', '*X'],
      ],
      /mysql_old_password method/,
    ],
    [
      [
        ['unix_socket', ''],
        ['pam', 'svc'],
      ],
      /takes a password/,
    ],
    [
      [
        ['mysql_native_password', '*X'],
        ['Bad Plugin', ''],
      ],
      /Bad Plugin method/,
    ],
  ] as Array<[Array<[string, string]>, RegExp]>)('refuses %j', (auth, error) => {
    expect(() => identifiedFor(MARIADB, chain(...auth), PASSWORD)).toThrow(error);
  });

  it('several methods on MySQL are refused (multi-factor is not copied)', () => {
    expect(() => identifiedFor(MYSQL8, chain(['caching_sha2_password', 'x'], ['authentication_fido', '']), PASSWORD)).toThrow(
      /only MariaDB chains/,
    );
  });
});
