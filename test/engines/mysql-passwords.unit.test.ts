/**
 * Single-user password changes on every account (host part) of a MySQL/MariaDB user, against recording
 * fake sessions (the user's own and the master's): which statements each session sends, in which order,
 * and that a step refuses before sending any change when it cannot reach every account. MySQL 8's dual
 * passwords and PASSWORD REQUIRE CURRENT are covered here only, since only MariaDB runs in the suite.
 */
import { mysqlEngine } from '../../shared/engines/mysql';
import { parseMysqlServerInfo } from '../../shared/engines/mysql-server-info';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import type { OwnPasswordChange, Row } from '../../shared/rotation/database-engine';
import { driverError, recordingSession, type FakeRule, type RecordingSession } from '../support/mysql-fake-session';

const NEW = 'New-pw-1234';
const CUR = 'Cur-pw-5678';
const NEW_HASH = mysqlNativePasswordHash(NEW);
const MARIADB = parseMysqlServerInfo('10.11.19-MariaDB-0+deb12u1', 'Debian 12');
const MYSQL80 = parseMysqlServerInfo('8.0.36', 'MySQL Community Server - GPL');

/** Every statement of every session, in the order they were sent, prefixed with the session's name. */
function journal(): { log: string[]; session(name: string, rules?: readonly FakeRule[]): RecordingSession } {
  const log: string[] = [];
  return {
    log,
    session(name, rules = []) {
      const inner = recordingSession(rules);
      const wrapped: RecordingSession = {
        get statements() {
          return inner.statements;
        },
        closed: false,
        async query(sql: string): Promise<readonly Row[]> {
          log.push(`${name}: ${sql}`);
          return inner.query(sql);
        },
        close: () => inner.close(),
      };
      return wrapped;
    },
  };
}

const mustChange = driverError('ER_MUST_CHANGE_PASSWORD', 1820, 'SELECT');

function ownRules(
  options: { host?: string; hosts?: Array<{ host: string; plugin?: string }> | 'denied'; createUser?: string; expired?: boolean } = {},
): FakeRule[] {
  const rules: FakeRule[] = [];
  if (options.expired) {
    // The session answers only SETs: the probe of its own entry keeps sql_mode for its account, else is refused.
    const own = `'app@${options.host ?? '%'}'`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    rules.push(
      { match: /^SELECT/, error: mustChange },
      { match: /^SHOW/, error: mustChange },
      { match: new RegExp(`CAST\\(CURRENT_USER\\(\\) AS BINARY\\) = CAST\\(${own} AS BINARY\\)`), rows: [] },
      { match: /CAST\(CURRENT_USER\(\) AS BINARY\)/, error: driverError('ER_WRONG_VALUE_FOR_VAR', 1231, 'x') },
    );
    return rules;
  }
  rules.push({ match: /^SELECT CURRENT_USER\(\)/, rows: [{ account: `app@${options.host ?? '%'}` }] });
  rules.push({
    match: /^SHOW CREATE USER CURRENT_USER\(\)$/,
    rows: [{ c: options.createUser ?? "CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*0123456789ABCDEF0123456789ABCDEF01234567'" }],
  });
  if (options.hosts === 'denied') {
    rules.push({ match: /FROM mysql\.user WHERE User = /, error: driverError('ER_TABLEACCESS_DENIED_ERROR', 1142, 'x') });
  } else {
    rules.push({
      match: /FROM mysql\.user WHERE User = /,
      rows: (options.hosts ?? [{ host: options.host ?? '%' }]).map((h) => ({ host: h.host, plugin: h.plugin ?? 'mysql_native_password' })),
    });
  }
  return rules;
}

/** The master's view: mysql.global_priv documents (MariaDB) for the given accounts, and its own address. */
function masterRules(accounts: Array<{ host: string; priv?: Record<string, unknown> }>, client = 'master@10.0.1.5'): FakeRule[] {
  return [
    { match: /default_password_lifetime/, rows: [{ lifetime: 0, now: 1_800_000_000 }] },
    {
      match: /FROM mysql\.global_priv WHERE User IN/,
      rows: accounts.map((a) => ({
        user: 'app',
        host: a.host,
        priv: JSON.stringify(
          a.priv ?? {
            plugin: 'mysql_native_password',
            authentication_string: '*0123456789ABCDEF0123456789ABCDEF01234567',
            password_last_changed: 1_700_000_000,
          },
        ),
      })),
    },
    { match: /^SELECT USER\(\)/, rows: [{ client }] },
  ];
}

function change(extra: Partial<OwnPasswordChange> = {}): OwnPasswordChange {
  return { username: 'app', password: NEW, ...extra };
}

const changes = (log: readonly string[]): string[] => log.filter((l) => /: (SET PASSWORD|ALTER USER)/.test(l));

describe('every host part of the user, or none', () => {
  it('the master sets the other host parts first, then the user its own; nothing else is named', async () => {
    const j = journal();
    const own = j.session('own', ownRules({ hosts: [{ host: '%' }, { host: '10.0.%' }] }));
    const master = j.session('master', masterRules([{ host: '%' }, { host: '10.0.%' }]));
    await mysqlEngine.setOwnPassword(own, MARIADB, change({ master: async () => master }));
    expect(changes(j.log)).toEqual([
      `master: ALTER USER 'app'@'10.0.%' IDENTIFIED BY PASSWORD '${NEW_HASH}'`,
      `own: SET PASSWORD = '${NEW_HASH}'`,
    ]);
    expect(j.log.join('\n')).not.toContain(NEW);
  });

  it('without a master: refuses before any change, naming the host entries it cannot reach', async () => {
    const j = journal();
    const own = j.session('own', ownRules({ hosts: [{ host: '%' }, { host: '10.0.%' }, { host: 'db.internal' }] }));
    const err = await mysqlEngine.setOwnPassword(own, MARIADB, change()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATABASE' });
    expect((err as Error).message).toMatch(
      /also exists as account 'app'@'10\.0\.%', account 'app'@'db\.internal'.*masterarn.*Nothing was changed/,
    );
    expect(changes(j.log)).toEqual([]);
  });

  it('without a master, a user that cannot list its host entries is refused before any change', async () => {
    const j = journal();
    const own = j.session('own', ownRules({ hosts: 'denied' }));
    await expect(mysqlEngine.setOwnPassword(own, MARIADB, change())).rejects.toThrow(
      /cannot list its own host entries.*SELECT \(User, Host\) ON mysql\.user/,
    );
    expect(changes(j.log)).toEqual([]);
  });

  it('with a master, the master lists them instead', async () => {
    const j = journal();
    const own = j.session('own', ownRules({ hosts: 'denied' }));
    const master = j.session('master', masterRules([{ host: '%' }]));
    await mysqlEngine.setOwnPassword(own, MARIADB, change({ master: async () => master }));
    expect(changes(j.log)).toEqual([`own: SET PASSWORD = '${NEW_HASH}'`]);
  });

  it("host entries that take no password (unix_socket) are not the secret's: left alone, no master needed", async () => {
    const j = journal();
    const own = j.session('own', ownRules({ hosts: [{ host: '%' }, { host: 'localhost', plugin: 'unix_socket' }] }));
    await mysqlEngine.setOwnPassword(own, MARIADB, change());
    expect(changes(j.log)).toEqual([`own: SET PASSWORD = '${NEW_HASH}'`]);
  });

  it('a host entry on a plugin nobody can explain stops the step before any change', async () => {
    const j = journal();
    const own = j.session('own', ownRules({ hosts: [{ host: '%' }, { host: '10.0.%' }] }));
    const master = j.session(
      'master',
      masterRules([{ host: '%' }, { host: '10.0.%', priv: { plugin: 'mystery_auth', authentication_string: 'x' } }]),
    );
    await expect(mysqlEngine.setOwnPassword(own, MARIADB, change({ master: async () => master }))).rejects.toThrow(
      /mystery_auth.*cannot explain/,
    );
    expect(changes(j.log)).toEqual([]);
  });

  it('a user holding CREATE USER changes its other host entries itself', async () => {
    const j = journal();
    const own = j.session('own', [
      ...ownRules({ hosts: [{ host: '%' }, { host: '10.0.%' }] }),
      { match: /USER_PRIVILEGES/, rows: [{ n: 1 }] },
      ...masterRules([{ host: '%' }, { host: '10.0.%' }]),
    ]);
    await mysqlEngine.setOwnPassword(own, MARIADB, change());
    expect(changes(j.log)).toEqual([
      `own: ALTER USER 'app'@'10.0.%' IDENTIFIED BY PASSWORD '${NEW_HASH}'`,
      `own: SET PASSWORD = '${NEW_HASH}'`,
    ]);
  });

  it('when the user may not set its own password (RDS restricted password commands), the master does', async () => {
    const j = journal();
    const own = j.session('own', [
      ...ownRules(),
      { match: /^SET PASSWORD/, error: driverError('ER_SPECIFIC_ACCESS_DENIED_ERROR', 1227, 'x') },
    ]);
    const master = j.session('master', masterRules([{ host: '%' }]));
    await mysqlEngine.setOwnPassword(own, MARIADB, change({ master: async () => master }));
    expect(changes(j.log).at(-1)).toBe(`master: ALTER USER 'app'@'%' IDENTIFIED BY PASSWORD '${NEW_HASH}'`);
  });
});

describe('an expired password is renewed', () => {
  it('the expired session only SETs (its mode, then its password); the master lists and sets the rest', async () => {
    const j = journal();
    // The session itself says it is 'app'@'10.0.%' (the master's USER() may show a name instead of the address).
    const own = j.session('own', ownRules({ expired: true, host: '10.0.%' }));
    const master = j.session('master', masterRules([{ host: '%' }, { host: '10.0.%' }]));
    await mysqlEngine.setOwnPassword(own, MARIADB, change({ master: async () => master }));
    const ownStatements = j.log.filter((l) => l.startsWith('own: '));
    expect(ownStatements.filter((l) => !/^own: SET /.test(l))).toEqual(['own: SELECT CURRENT_USER() AS account']);
    expect(ownStatements.at(-1)).toBe(`own: SET PASSWORD = '${NEW_HASH}'`);
    expect(changes(j.log)).toEqual([
      `master: ALTER USER 'app'@'%' IDENTIFIED BY PASSWORD '${NEW_HASH}'`,
      `own: SET PASSWORD = '${NEW_HASH}'`,
    ]);
  });

  it('without a master: refused before any change (the expired session cannot list its host entries)', async () => {
    const j = journal();
    const own = j.session('own', ownRules({ expired: true }));
    await expect(mysqlEngine.setOwnPassword(own, MARIADB, change())).rejects.toThrow(/has expired.*masterarn.*Nothing was changed/);
    expect(changes(j.log)).toEqual([]);
  });
});

describe('MariaDB authentication chains keep every method', () => {
  const chainUser =
    "CREATE USER `app`@`%` IDENTIFIED VIA unix_socket OR mysql_native_password USING '*0123456789ABCDEF0123456789ABCDEF01234567'";
  const chainPriv = {
    plugin: 'mysql_native_password',
    authentication_string: '*0123456789ABCDEF0123456789ABCDEF01234567',
    auth_or: [{ plugin: 'unix_socket' }, {}],
    password_last_changed: 1_700_000_000,
  };

  it('the master re-states the chain with the new password in its password method, the user sends nothing', async () => {
    const j = journal();
    const own = j.session('own', ownRules({ createUser: chainUser }));
    const master = j.session('master', masterRules([{ host: '%', priv: chainPriv }]));
    await mysqlEngine.setOwnPassword(own, MARIADB, change({ master: async () => master }));
    expect(changes(j.log)).toEqual([
      `master: ALTER USER 'app'@'%' IDENTIFIED VIA unix_socket OR mysql_native_password USING '${NEW_HASH}'`,
    ]);
  });

  it('without a master a chain is refused before any change (SET PASSWORD would change one method)', async () => {
    const j = journal();
    const own = j.session('own', ownRules({ createUser: chainUser }));
    await expect(mysqlEngine.setOwnPassword(own, MARIADB, change())).rejects.toThrow(/chain of methods.*masterarn/);
    expect(changes(j.log)).toEqual([]);
  });

  it('healing as the master: every password method gets the new password, PAM keeps its service', async () => {
    const j = journal();
    const master = j.session(
      'master',
      masterRules([
        {
          host: '%',
          priv: {
            plugin: 'ed25519',
            authentication_string: 'pubkey',
            auth_or: [
              { plugin: 'mysql_native_password', authentication_string: '*0123456789ABCDEF0123456789ABCDEF01234567' },
              { plugin: 'pam', authentication_string: 'mariadb' },
              {},
            ],
          },
        },
      ]),
    );
    await mysqlEngine.setPasswordAsMaster(master, MARIADB, 'app', NEW);
    expect(changes(j.log)).toEqual([
      `master: ALTER USER 'app'@'%' IDENTIFIED VIA mysql_native_password USING '${NEW_HASH}' OR pam USING 'mariadb' OR ed25519 USING PASSWORD('${NEW}')`,
    ]);
  });
});

describe('password-validation plugins: the plaintext only when a plugin refuses the hash', () => {
  const plugins = (names: string[]): FakeRule => ({ match: /information_schema\.PLUGINS/, rows: names.map((name) => ({ name })) });

  it('MariaDB strict_password_validation: SET PASSWORD = PASSWORD(<plain>) after the hash is refused', async () => {
    const j = journal();
    const own = j.session('own', [
      ...ownRules(),
      { match: /^SET PASSWORD = '\*/, error: driverError('ER_OPTION_PREVENTS_STATEMENT', 1290, 'x') },
      plugins(['simple_password_check']),
    ]);
    await mysqlEngine.setOwnPassword(own, MARIADB, change());
    expect(changes(j.log)).toEqual([`own: SET PASSWORD = '${NEW_HASH}'`, `own: SET PASSWORD = PASSWORD('${NEW}')`]);
  });

  it('no plaintext when no validation plugin explains the refusal', async () => {
    const j = journal();
    const own = j.session('own', [...ownRules(), { match: /^SET PASSWORD/, error: driverError('ER_CANNOT_USER', 1396, 'x') }, plugins([])]);
    await expect(mysqlEngine.setOwnPassword(own, MARIADB, change())).rejects.toThrow(/ER_CANNOT_USER/);
    expect(j.log.join('\n')).not.toContain(NEW);
  });

  it('the master: IDENTIFIED BY <plain> after IDENTIFIED BY PASSWORD <hash> is refused', async () => {
    const j = journal();
    const master = j.session('master', [
      ...masterRules([{ host: '%' }]),
      { match: /IDENTIFIED BY PASSWORD/, error: driverError('ER_CANNOT_USER', 1396, 'x') },
      plugins(['cracklib_password_check']),
    ]);
    await mysqlEngine.setPasswordAsMaster(master, MARIADB, 'app', NEW);
    expect(changes(j.log).at(-1)).toBe(`master: ALTER USER 'app'@'%' IDENTIFIED BY '${NEW}'`);
  });

  it('a password the policy refuses even in plaintext: the error names the plugin, never the password', async () => {
    const master = recordingSession([
      ...masterRules([{ host: '%' }]),
      { match: /^ALTER USER/, error: driverError('ER_CANNOT_USER', 1396, `ALTER USER x IDENTIFIED BY '${NEW}'`) },
      plugins(['simple_password_check']),
    ]);
    const err = await mysqlEngine.setPasswordAsMaster(master, MARIADB, 'app', NEW).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/password policy \(simple_password_check\)/);
    expect(`${(err as Error).message} ${JSON.stringify(err)}`).not.toContain(NEW);
  });
});

describe('MySQL 8: dual passwords and PASSWORD REQUIRE CURRENT (unit-tested SQL: only MariaDB runs here)', () => {
  const sha2User =
    "CREATE USER `app`@`%` IDENTIFIED WITH 'caching_sha2_password' AS '<hash>' REQUIRE NONE PASSWORD REQUIRE CURRENT DEFAULT";
  const nativeOptional =
    "CREATE USER `app`@`%` IDENTIFIED WITH 'mysql_native_password' AS '*00' REQUIRE NONE PASSWORD REQUIRE CURRENT OPTIONAL";
  const nativeRequired = "CREATE USER `app`@`%` IDENTIFIED WITH 'mysql_native_password' AS '*00' REQUIRE NONE PASSWORD REQUIRE CURRENT";

  function ownMysql(createUser: string, extra: FakeRule[] = []): RecordingSession {
    return recordingSession([...extra, ...ownRules({ createUser })]);
  }
  const lastChange = (s: RecordingSession): string | undefined => s.statements.filter((x) => x.startsWith('ALTER USER')).at(-1);

  it('8.0.14+: the old password is retained as the secondary one, with REPLACE <current>', async () => {
    const own = ownMysql(sha2User);
    await mysqlEngine.setOwnPassword(own, MYSQL80, change({ currentPassword: CUR }));
    expect(lastChange(own)).toBe(`ALTER USER USER() IDENTIFIED BY '${NEW}' REPLACE '${CUR}' RETAIN CURRENT PASSWORD`);
  });

  it('without APPLICATION_PASSWORD_ADMIN: the native hash form, then the plain one', async () => {
    const own = ownMysql(nativeOptional, [
      { match: /RETAIN CURRENT PASSWORD/, error: driverError('ER_SPECIFIC_ACCESS_DENIED_ERROR', 1227, 'x') },
    ]);
    await mysqlEngine.setOwnPassword(own, MYSQL80, change({ currentPassword: CUR }));
    expect(own.statements.filter((x) => x.startsWith('ALTER USER'))).toEqual([
      `ALTER USER USER() IDENTIFIED BY '${NEW}' REPLACE '${CUR}' RETAIN CURRENT PASSWORD`,
      `ALTER USER CURRENT_USER() IDENTIFIED WITH mysql_native_password AS '${NEW_HASH}'`,
    ]);
  });

  it('PASSWORD REQUIRE CURRENT: no form without REPLACE is offered', async () => {
    const own = ownMysql(nativeRequired, [
      { match: /RETAIN CURRENT PASSWORD/, error: driverError('ER_SPECIFIC_ACCESS_DENIED_ERROR', 1227, 'x') },
    ]);
    await mysqlEngine.setOwnPassword(own, MYSQL80, change({ currentPassword: CUR }));
    expect(own.statements.filter((x) => x.startsWith('ALTER USER'))).toEqual([
      `ALTER USER USER() IDENTIFIED BY '${NEW}' REPLACE '${CUR}' RETAIN CURRENT PASSWORD`,
      `ALTER USER USER() IDENTIFIED BY '${NEW}' REPLACE '${CUR}'`,
    ]);
  });

  it('putting the previous password back retains nothing and discards the secondary password', async () => {
    const own = ownMysql(sha2User);
    await mysqlEngine.setOwnPassword(own, MYSQL80, change({ password: CUR, currentPassword: NEW, restoring: true }));
    expect(own.statements.filter((x) => x.startsWith('ALTER USER'))).toEqual([
      `ALTER USER USER() IDENTIFIED BY '${CUR}' REPLACE '${NEW}'`,
      'ALTER USER USER() DISCARD OLD PASSWORD',
    ]);
  });

  it.each([
    ['8.0.12', `ALTER USER USER() IDENTIFIED BY '${NEW}'`],
    ['8.0.13', `ALTER USER USER() IDENTIFIED BY '${NEW}' REPLACE '${CUR}'`],
  ])('MySQL %s: no RETAIN before 8.0.14, no REPLACE before 8.0.13', async (version, expected) => {
    const own = ownMysql(sha2User);
    await mysqlEngine.setOwnPassword(own, parseMysqlServerInfo(version), change({ currentPassword: CUR }));
    expect(lastChange(own)).toBe(expected);
  });

  it('MariaDB has no dual passwords: never RETAIN, never DISCARD', async () => {
    const own = recordingSession(ownRules());
    await mysqlEngine.setOwnPassword(own, MARIADB, change({ currentPassword: CUR, restoring: true }));
    expect(own.statements.filter((x) => /^(SET PASSWORD|ALTER USER)/.test(x)).join('\n')).not.toMatch(/RETAIN|DISCARD|REPLACE/);
  });

  it('the master sets the other host parts with RETAIN too (caching_sha2_password)', async () => {
    const j = journal();
    const own = j.session('own', ownRules({ createUser: sha2User, hosts: [{ host: '%' }, { host: '10.0.%' }] }));
    const master = j.session('master', [
      { match: /default_password_lifetime/, rows: [{ lifetime: 0, now: 1 }] },
      {
        match: /FROM mysql\.user WHERE User IN/,
        rows: ['%', '10.0.%'].map((host) => ({
          user: 'app',
          host,
          plugin: 'caching_sha2_password',
          authHex: '2441',
          sslType: '',
          expired: 'N',
          locked: 'N',
        })),
      },
    ]);
    await mysqlEngine.setOwnPassword(own, MYSQL80, change({ currentPassword: CUR, master: async () => master }));
    expect(changes(j.log)).toEqual([
      `master: ALTER USER 'app'@'10.0.%' IDENTIFIED WITH caching_sha2_password BY '${NEW}' RETAIN CURRENT PASSWORD`,
      `own: ALTER USER USER() IDENTIFIED BY '${NEW}' REPLACE '${CUR}' RETAIN CURRENT PASSWORD`,
    ]);
  });
});

describe('refused before any change: a read-only server, no room for the proof', () => {
  it.each([
    ['MariaDB read_only', MARIADB, { read_only: 'ON' }, /\(read_only ON/],
    [
      'MySQL 8 super_read_only',
      MYSQL80,
      { read_only: '1', super_read_only: '1', innodb_read_only: '0' },
      /\(read_only, super_read_only ON/,
    ],
    [
      'Aurora MySQL reader (innodb_read_only)',
      MYSQL80,
      { read_only: '0', super_read_only: '0', innodb_read_only: '1' },
      /\(innodb_read_only ON/,
    ],
  ])('%s: the user sends no change, the master is not asked', async (_name, server, row, message) => {
    const j = journal();
    const own = j.session('own', [{ match: /@@GLOBAL\.read_only/, rows: [row] }, ...ownRules()]);
    let masterAsked = false;
    const err = await mysqlEngine
      .setOwnPassword(own, server, change({ master: async () => ((masterAsked = true), j.session('master')) }))
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DATABASE' });
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).toMatch(/Nothing was changed/);
    expect(changes(j.log)).toEqual([]);
    expect(masterAsked).toBe(false);
    if (server === MYSQL80) expect(j.log.some((l) => l.includes('@@GLOBAL.super_read_only'))).toBe(true);
  });

  it('healing as the master on a read-only server: no change', async () => {
    const j = journal();
    const master = j.session('master', [{ match: /@@GLOBAL\.read_only/, rows: [{ read_only: '1' }] }, ...masterRules([{ host: '%' }])]);
    await expect(mysqlEngine.setPasswordAsMaster(master, MARIADB, 'app', NEW)).rejects.toThrow(/read-only/);
    expect(changes(j.log)).toEqual([]);
  });

  it.each([
    [
      'the account MAX_USER_CONNECTIONS',
      "CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*0123' WITH MAX_USER_CONNECTIONS 2",
      0,
      2,
      /MAX_USER_CONNECTIONS 2/,
    ],
    ['the global max_user_connections', "CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*0123'", 3, 3, /max_user_connections 3/],
  ])('%s reached by the sessions open: connection-limit, no change', async (_name, createUser, global, sessions, message) => {
    const j = journal();
    const own = j.session('own', [{ match: /max_user_connections AS global/, rows: [{ global, sessions }] }, ...ownRules({ createUser })]);
    const err = await mysqlEngine.setOwnPassword(own, MARIADB, change()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AUTH_FAILED', reason: 'connection-limit' });
    expect((err as Error).message).toMatch(message);
    expect(changes(j.log)).toEqual([]);
  });

  it('room for one more session: changed', async () => {
    const j = journal();
    const own = j.session('own', [
      { match: /max_user_connections AS global/, rows: [{ global: 0, sessions: 1 }] },
      ...ownRules({ createUser: "CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*0123' WITH MAX_USER_CONNECTIONS 2" }),
    ]);
    await mysqlEngine.setOwnPassword(own, MARIADB, change());
    expect(changes(j.log)).toEqual([`own: SET PASSWORD = '${NEW_HASH}'`]);
  });
});
