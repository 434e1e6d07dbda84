/**
 * Explaining a refused MySQL/MariaDB login: the reason a code alone gives (with MariaDB's own names for
 * its numbers), the master's diagnosis from the catalogs (recording fake sessions answering as
 * mysql.global_priv and mysql.user do), the account the server picks for an address, and the exact
 * put-back of stored verifiers.
 */
import fc from 'fast-check';
import { classifyConnectError } from '../../shared/engines/driver-errors';
import { mysqlErrorCode } from '../../shared/engines/mysql-error-codes';
import { accountForClient, hostMatches, hostSpecificity } from '../../shared/engines/mysql-host-match';
import { diagnoseMysqlRefusal, mysqlRefusalReasonFromCode, saveMysqlPassword } from '../../shared/engines/mysql-refusals';
import { parseMysqlServerInfo } from '../../shared/engines/mysql-server-info';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import { AuthenticationError, type RefusalReason } from '../../shared/errors';
import { recordingSession, type FakeRule } from '../support/mysql-fake-session';

const MARIADB = parseMysqlServerInfo('10.11.19-MariaDB-0+deb12u1', 'Debian 12');
const MYSQL80 = parseMysqlServerInfo('8.0.36', 'MySQL Community Server - GPL');
const SECRET_PW = 'Secret-pw-1234';
const HASH = mysqlNativePasswordHash(SECRET_PW);
const OTHER_HASH = mysqlNativePasswordHash('someone-else');
const NOW = 1_800_000_000;

describe('the reason a refused login code gives', () => {
  it.each<[string, RefusalReason]>([
    ['ER_ACCESS_DENIED_ERROR', 'undetermined'],
    ['1045', 'undetermined'],
    ['ER_USER_IS_BLOCKED', 'blocked-after-failed-logins'],
    ['4150', 'blocked-after-failed-logins'],
    ['3955', 'blocked-after-failed-logins'],
    ['ER_ACCOUNT_HAS_BEEN_LOCKED', 'login-disabled'],
    ['4151', 'login-disabled'],
    ['3118', 'login-disabled'],
    ['1862', 'expired'],
    ['1130', 'host-not-allowed'],
    ['AUTH_SWITCH_PLUGIN_ERROR', 'unsupported-auth-plugin'],
    ['1251', 'unsupported-auth-plugin'],
    ['1524', 'unsupported-auth-plugin'],
    ['ER_SERVER_IS_IN_SECURE_AUTH_MODE', 'unsupported-auth-plugin'],
    ['ER_USER_LIMIT_REACHED', 'connection-limit'],
    ['1226', 'connection-limit'],
    ['1203', 'connection-limit'],
    ['ER_CON_COUNT_ERROR', 'connection-limit'],
    ['ER_DBACCESS_DENIED_ERROR', 'database-not-allowed'],
    ['1044', 'database-not-allowed'],
    ['ER_BAD_DB_ERROR', 'database-not-allowed'],
    ['1049', 'database-not-allowed'],
  ])('%s: %s', (code, reason) => {
    expect(mysqlRefusalReasonFromCode(code)).toBe(reason);
  });

  it.each([
    [4151, 'ER_BULK_PARSER_INCOMPLETE_ESCAPE_SEQUENCE', 'ER_ACCOUNT_HAS_BEEN_LOCKED', 'login-disabled'],
    [4150, 'ER_BULK_PARSER_UNEXPECTED_CHAR_AFTER_COLUMN_TERMINATOR', 'ER_USER_IS_BLOCKED', 'blocked-after-failed-logins'],
  ])("MariaDB %i at login carries MariaDB's name, not mysql2's MySQL one", (errno, mysqlName, mariadbName, reason) => {
    const raw = Object.assign(new Error(`Access denied near 'x'`), { errno, code: mysqlName, sqlState: 'HY000' });
    const err = classifyConnectError(raw, { family: 'mysql', role: 'current' });
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err).toMatchObject({ reason, causeSummary: { code: mariadbName } });
    expect(err.message).toContain(mariadbName);
    expect(`${err.message} ${JSON.stringify(err)}`).not.toMatch(/BULK_PARSER/);
  });

  it('statement errors are renamed only when the server is known to be MariaDB', () => {
    const raw = { errno: 4151, code: 'ER_BULK_PARSER_INCOMPLETE_ESCAPE_SEQUENCE' };
    expect(mysqlErrorCode(raw, 'mariadb')).toBe('ER_ACCOUNT_HAS_BEEN_LOCKED');
    expect(mysqlErrorCode(raw, 'mysql')).toBe('ER_BULK_PARSER_INCOMPLETE_ESCAPE_SEQUENCE');
    expect(mysqlErrorCode(raw)).toBe('ER_BULK_PARSER_INCOMPLETE_ESCAPE_SEQUENCE');
  });
});

describe('the account the server picks for an address', () => {
  it.each([
    ['%', '10.1.2.3', true],
    ['10.0.%', '10.0.7.1', true],
    ['10.0.%', '10.1.0.1', false],
    ['10.0.0._', '10.0.0.7', true],
    ['10.0.0._', '10.0.0.17', false],
    ['10.0.0.0/255.255.255.0', '10.0.0.99', true],
    ['10.0.0.0/255.255.255.0', '10.0.1.99', false],
    ['127.0.0.2', '127.0.0.1', false],
    ['App.Example.com', 'app.example.com', true],
  ])('%s admits %s: %s', (pattern, host, expected) => {
    expect(hostMatches(pattern, host)).toBe(expected);
  });

  it('a literal host before a pattern, a later wildcard before an earlier one, % last, a named user before the anonymous one', () => {
    const accounts = [
      { user: 'app', host: '%' },
      { user: 'app', host: '10.%' },
      { user: 'app', host: '10.0.%' },
      { user: '', host: '10.0.%' },
    ];
    expect(accountForClient(accounts, 'app', '10.0.0.5')).toEqual({ user: 'app', host: '10.0.%' });
    expect(accountForClient([...accounts, { user: '', host: '10.0.0.5' }], 'app', '10.0.0.5')).toEqual({ user: '', host: '10.0.0.5' });
    expect(accountForClient(accounts, 'app', '192.168.0.1')).toEqual({ user: 'app', host: '%' });
    expect(accountForClient(accounts.slice(1), 'app', '192.168.0.1')).toBeUndefined();
  });

  it.each([
    // [the host MariaDB 10.11 picked for a login from 127.0.0.1, the one it passed over], both admitting it
    ['12_.0.0.%', '127.0.%'],
    ['127.0.%.1', '127.0.0.%'],
    ['127._.0.1', '127.0.0.%'],
    ['%.0.0.1', '127.0.%'],
    ['%.1', '1%'],
    ['%0.1', '12%'],
    ['127._.0.1', '127.0._.1'],
    ['1%.0.0.1', '127.0.0%'],
    ['127.0.0._', '1%.0.0.1'],
    ['127.0.0.%', '1_7.0.0.%'],
    ['127.0.0.1', '127.0.0.1%'],
    ['127.0.0.0/255.255.255.0', '127.0.0.%'],
  ])("MariaDB's order of wildcard patterns, as the server showed it: '%s' before '%s'", (picked, passed) => {
    for (const hosts of [
      [picked, passed],
      [passed, picked],
    ]) {
      const accounts = hosts.map((host) => ({ user: 'app', host }));
      expect(accountForClient(accounts, 'app', '127.0.0.1', 'mariadb')?.host).toBe(picked);
    }
  });

  it('ties of rank as MariaDB breaks them: a named user first, then the greater host string', () => {
    const tied = [
      { user: 'app', host: '127.0.0.0/255.0.0.0' },
      { user: 'app', host: '127.0.0.1' },
    ];
    expect(accountForClient(tied, 'app', '127.0.0.1')).toEqual({ user: 'app', host: '127.0.0.1' });
    expect(accountForClient([...tied].reverse(), 'app', '127.0.0.1')).toEqual({ user: 'app', host: '127.0.0.1' });
    const anonymous = [
      { user: '', host: '127.0.0.1' },
      { user: 'app', host: '127.0.0.0/255.0.0.0' },
    ];
    expect(accountForClient(anonymous, 'app', '127.0.0.1')).toEqual({ user: 'app', host: '127.0.0.0/255.0.0.0' });
    expect(
      accountForClient(
        [
          { user: 'app', host: '1%' },
          { user: 'app', host: '1_7.0.0.1' },
        ],
        'app',
        '127.0.0.1',
      ),
    ).toEqual({
      user: 'app',
      host: '1_7.0.0.1',
    });
  });

  it('property: the picked account admits the address, and no admitting account of the user is more specific', () => {
    const octet = fc.integer({ min: 0, max: 255 });
    const address = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
    const pattern = fc.oneof(
      fc.constant('%'),
      address,
      fc.tuple(octet, octet).map(([a, b]) => `${a}.${b}.%`),
      fc.tuple(octet, octet, octet).map(([a, b, c]) => `${a}.${b}.${c}.0/255.255.255.0`),
    );
    fc.assert(
      fc.property(fc.uniqueArray(pattern, { minLength: 1, maxLength: 6 }), address, (hosts, client) => {
        const accounts = hosts.map((host) => ({ user: 'app', host }));
        const picked = accountForClient(accounts, 'app', client);
        const admitting = accounts.filter((a) => hostMatches(a.host, client));
        if (admitting.length === 0) return picked === undefined;
        return (
          picked !== undefined &&
          hostMatches(picked.host, client) &&
          admitting.every((a) => hostSpecificity(a.host) <= hostSpecificity(picked.host))
        );
      }),
    );
  });
});

interface Account {
  readonly host?: string;
  readonly user?: string;
  readonly priv?: Record<string, unknown>;
}

function priv(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { plugin: 'mysql_native_password', authentication_string: HASH, password_last_changed: NOW - 86_400, ...extra };
}

/** A master session answering as MariaDB 10.11's mysql.global_priv does, seeing the function at 10.0.1.5. */
function master(accounts: readonly Account[], client = 'master@10.0.1.5', lifetime = 0): ReturnType<typeof recordingSession> {
  const rules: FakeRule[] = [
    { match: /default_password_lifetime/, rows: [{ lifetime, now: NOW }] },
    {
      match: /FROM mysql\.global_priv WHERE User IN/,
      rows: accounts.map((a) => ({ user: a.user ?? 'app', host: a.host ?? '%', priv: JSON.stringify(a.priv ?? priv()) })),
    },
    { match: /^SELECT USER\(\)/, rows: [{ client }] },
  ];
  return recordingSession(rules);
}

function refusal(reason: RefusalReason = 'undetermined', password = SECRET_PW) {
  return { username: 'app', password, error: new AuthenticationError('refused', { reason }) };
}

describe('the master explains a refused login from the catalogs', () => {
  it.each<[string, readonly Account[], RefusalReason, string, RefusalReason, RegExp]>([
    ['no such user', [], 'undetermined', SECRET_PW, 'role-missing', /no account of user 'app' exists/],
    [
      'an account for another address only',
      [{ host: '127.0.0.2' }],
      'undetermined',
      SECRET_PW,
      'host-not-allowed',
      /matches the address 10\.0\.1\.5.*'127\.0\.0\.2'/,
    ],
    [
      'an anonymous account first',
      [{ host: '%' }, { user: '', host: '10.0.1.%' }],
      'undetermined',
      SECRET_PW,
      'host-not-allowed',
      /anonymous account ''@'10\.0\.1\.%'/,
    ],
    ['blocked (the code says so)', [{}], 'blocked-after-failed-logins', SECRET_PW, 'blocked-after-failed-logins', /max_password_errors/],
    ['ACCOUNT LOCK', [{ priv: priv({ account_locked: true }) }], 'undetermined', 'wrong', 'login-disabled', /locked/],
    ['REQUIRE X509', [{ priv: priv({ ssl_type: 2 }) }], 'undetermined', 'wrong', 'client-certificate-required', /REQUIRE X509/],
    [
      'REQUIRE SUBJECT',
      [{ priv: priv({ ssl_type: 3, x509_subject: '/CN=app' }) }],
      'undetermined',
      'wrong',
      'client-certificate-required',
      /REQUIRE SUBJECT/,
    ],
    [
      'ed25519',
      [{ priv: { plugin: 'ed25519', authentication_string: 'pk' } }],
      'unsupported-auth-plugin',
      SECRET_PW,
      'unsupported-auth-plugin',
      /ed25519/,
    ],
    [
      'ed25519 before the native method',
      [{ priv: priv({ auth_or: [{ plugin: 'ed25519', authentication_string: 'pk' }, {}] }) }],
      'unsupported-auth-plugin',
      SECRET_PW,
      'unsupported-auth-plugin',
      /ed25519 OR mysql_native_password/,
    ],
    [
      'unix_socket only',
      [{ priv: { plugin: 'unix_socket', authentication_string: '' } }],
      'undetermined',
      SECRET_PW,
      'unsupported-auth-plugin',
      /unix_socket/,
    ],
    ['expired (the code says so)', [{}], 'expired', SECRET_PW, 'expired', /expired/],
    [
      'expired by PASSWORD EXPIRE, right password',
      [{ priv: priv({ password_last_changed: 0 }) }],
      'undetermined',
      SECRET_PW,
      'expired',
      /expired/,
    ],
    [
      'drift: the stored hash differs',
      [{ priv: priv({ authentication_string: OTHER_HASH }) }],
      'undetermined',
      SECRET_PW,
      'wrong-password',
      /does not match/,
    ],
    [
      'drift behind a unix_socket method',
      [{ priv: priv({ authentication_string: OTHER_HASH, auth_or: [{ plugin: 'unix_socket' }, {}] }) }],
      'undetermined',
      SECRET_PW,
      'wrong-password',
      /does not match/,
    ],
    ['the password matches: not drift', [{}], 'undetermined', SECRET_PW, 'undetermined', /matches the stored hash/],
    [
      'the password matches, REQUIRE SSL',
      [{ priv: priv({ ssl_type: 1 }) }],
      'undetermined',
      SECRET_PW,
      'undetermined',
      /requires TLS \(ANY\)/,
    ],
  ])('%s', async (_name, accounts, byCode, password, reason, detail) => {
    const session = master(accounts);
    const diagnosis = await diagnoseMysqlRefusal(session, MARIADB, refusal(byCode, password));
    expect(diagnosis.reason).toBe(reason);
    expect(diagnosis.detail).toMatch(detail);
    expect(diagnosis.detail).not.toContain(HASH);
    expect(diagnosis.detail).not.toContain(SECRET_PW);
    expect(session.statements.every((s) => /^(SELECT|SET SESSION)/.test(s))).toBe(true);
  });

  it('the most specific account for the address decides, not the first one listed', async () => {
    const session = master([{ host: '%' }, { host: '10.0.%', priv: priv({ account_locked: true }) }]);
    await expect(diagnoseMysqlRefusal(session, MARIADB, refusal('undetermined', 'wrong'))).resolves.toMatchObject({
      reason: 'login-disabled',
    });
  });

  it('MySQL caching_sha2_password: wrong password only by elimination, and never with a TLS requirement', async () => {
    const mysqlMaster = (sslType: string) =>
      recordingSession([
        { match: /default_password_lifetime/, rows: [{ lifetime: 0, now: NOW }] },
        {
          match: /FROM mysql\.user WHERE User IN/,
          rows: [
            {
              user: 'app',
              host: '%',
              plugin: 'caching_sha2_password',
              authHex: '2441243030352461',
              sslType,
              expired: 'N',
              changedAt: NOW - 10,
              lifetime: null,
              locked: 'N',
            },
          ],
        },
        { match: /^SELECT USER\(\)/, rows: [{ client: 'm@10.0.1.5' }] },
      ]);
    await expect(diagnoseMysqlRefusal(mysqlMaster(''), MYSQL80, refusal())).resolves.toMatchObject({
      reason: 'wrong-password',
      detail: expect.stringMatching(/by elimination/),
    });
    await expect(diagnoseMysqlRefusal(mysqlMaster('ANY'), MYSQL80, refusal())).resolves.toMatchObject({ reason: 'undetermined' });
  });

  it('MySQL caching_sha2_password refused with 1044 (the dbname) or 1226 (a limit): never wrong-password by elimination', async () => {
    const mysqlMaster = () =>
      recordingSession([
        { match: /default_password_lifetime/, rows: [{ lifetime: 0, now: NOW }] },
        {
          match: /FROM mysql\.user WHERE User IN/,
          rows: [{ user: 'app', host: '%', plugin: 'caching_sha2_password', authHex: '2441', sslType: '', expired: 'N', locked: 'N' }],
        },
        { match: /^SELECT USER\(\)/, rows: [{ client: 'm@10.0.1.5' }] },
      ]);
    const coded = (code: string, errno: number) =>
      classifyConnectError(Object.assign(new Error('refused'), { code, errno }), {
        family: 'mysql',
        role: 'current',
      }) as AuthenticationError;
    const dbDenied = { username: 'app', password: SECRET_PW, error: coded('ER_DBACCESS_DENIED_ERROR', 1044) };
    await expect(diagnoseMysqlRefusal(mysqlMaster(), MYSQL80, dbDenied)).resolves.toMatchObject({
      reason: 'database-not-allowed',
      detail: expect.stringMatching(/password .* was accepted.*dbname/),
    });
    const limited = { username: 'app', password: SECRET_PW, error: coded('ER_USER_LIMIT_REACHED', 1226) };
    expect(limited.error.reason).toBe('connection-limit');
    await expect(diagnoseMysqlRefusal(mysqlMaster(), MYSQL80, limited)).resolves.toMatchObject({
      reason: 'connection-limit',
      detail: expect.stringMatching(/MAX_USER_CONNECTIONS.*not a password problem/),
    });
  });

  it('name resolution on: an anonymous account on a more specific address pattern keeps drift undetermined', async () => {
    const accounts = [
      { host: '%', priv: priv({ authentication_string: OTHER_HASH }) },
      { user: '', host: '10.0.1.5' },
    ];
    await expect(diagnoseMysqlRefusal(master(accounts, 'master@app-1.internal'), MARIADB, refusal())).resolves.toMatchObject({
      reason: 'undetermined',
      detail: expect.stringMatching(/does not match.*anonymous account ''@'10\.0\.1\.5'/),
    });
    // The user's own entry on an address pattern, REQUIRE SSL, may be the one refusing: '%' differing is no proof.
    const own = [
      { host: '%', priv: priv({ authentication_string: OTHER_HASH }) },
      { host: '10.0.1.%', priv: priv({ ssl_type: 1 }) },
    ];
    await expect(diagnoseMysqlRefusal(master(own, 'master@app-1.internal'), MARIADB, refusal())).resolves.toMatchObject({
      reason: 'undetermined',
      detail: expect.stringMatching(/account 'app'@'10\.0\.1\.%' \(tried before/),
    });
    // With the address in USER() (skip_name_resolve) the match is exact: the anonymous account is not the function's.
    await expect(diagnoseMysqlRefusal(master(accounts, 'master@10.0.2.9'), MARIADB, refusal())).resolves.toMatchObject({
      reason: 'wrong-password',
    });
  });

  it('MariaDB 10.3 (no global_priv, no lifetimes): read from mysql.user, the native hash from its Password column', async () => {
    const session = recordingSession([
      {
        match: /FROM mysql\.user WHERE User IN/,
        rows: [{ user: 'app', host: '%', plugin: '', auth: '', password: OTHER_HASH, sslType: '' }],
      },
      { match: /^SELECT USER\(\)/, rows: [{ client: 'm@10.0.1.5' }] },
    ]);
    await expect(diagnoseMysqlRefusal(session, parseMysqlServerInfo('10.3.39-MariaDB'), refusal())).resolves.toMatchObject({
      reason: 'wrong-password',
    });
    expect(session.statements.some((x) => /default_password_lifetime|global_priv/.test(x))).toBe(false);
  });

  it('a password lifetime that has run out counts as expired', async () => {
    const session = master([{ priv: priv({ password_last_changed: NOW - 40 * 86_400, password_lifetime: 30 }) }]);
    await expect(diagnoseMysqlRefusal(session, MARIADB, refusal())).resolves.toMatchObject({ reason: 'expired' });
  });
});

describe('putting stored verifiers back exactly', () => {
  it('MariaDB: every account, every method of a chain, and PASSWORD EXPIRE again when the DBA had set it', async () => {
    const reader = master([
      { host: '%', priv: priv({ auth_or: [{ plugin: 'unix_socket' }, {}] }) },
      { host: '10.0.%', priv: priv({ password_last_changed: 0 }) },
      { host: 'localhost', priv: { plugin: 'unix_socket', authentication_string: '' } },
    ]);
    const restore = await saveMysqlPassword(reader, MARIADB, 'app');
    const writer = recordingSession();
    await restore!(writer);
    expect(writer.statements.filter((s) => s.startsWith('ALTER USER'))).toEqual([
      `ALTER USER 'app'@'%' IDENTIFIED VIA unix_socket OR mysql_native_password USING '${HASH}'`,
      `ALTER USER 'app'@'10.0.%' IDENTIFIED VIA mysql_native_password USING '${HASH}'`,
      "ALTER USER 'app'@'10.0.%' PASSWORD EXPIRE",
    ]);
  });

  it('MySQL: a binary caching_sha2_password string goes back as a hex literal', async () => {
    const reader = recordingSession([
      { match: /default_password_lifetime/, rows: [{ lifetime: 0, now: NOW }] },
      {
        match: /FROM mysql\.user WHERE User IN/,
        rows: [
          {
            user: 'app',
            host: '%',
            plugin: 'caching_sha2_password',
            authHex: '24412430303524FF01',
            sslType: '',
            expired: 'N',
            locked: 'N',
          },
        ],
      },
    ]);
    const restore = await saveMysqlPassword(reader, MYSQL80, 'app');
    const writer = recordingSession();
    await restore!(writer);
    expect(writer.statements.at(-1)).toBe("ALTER USER 'app'@'%' IDENTIFIED WITH caching_sha2_password AS 0x24412430303524FF01");
  });

  it('a master that may not read the catalogs: no put-back, said so by undefined', async () => {
    const reader = recordingSession([
      { match: /global_priv/, error: Object.assign(new Error('denied'), { code: 'ER_TABLEACCESS_DENIED_ERROR', errno: 1142 }) },
    ]);
    await expect(saveMysqlPassword(reader, MARIADB, 'app')).resolves.toBeUndefined();
  });
});
