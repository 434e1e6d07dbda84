/**
 * The statements syncAlternateUser sends per server flavour, against a recording fake session: only
 * MariaDB 10.11 runs live here, so MariaDB before 10.4, MySQL 5.7/8.0/8.4 and Aurora MySQL 2/3 are
 * covered at this level (catalog reads, option clauses, grant plans, order, password last).
 */
import { mysqlEngine } from '../../shared/engines/mysql';
import { parseMysqlServerInfo } from '../../shared/engines/mysql-server-info';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import type { AlternateUserChange, Row, ServerInfo } from '../../shared/rotation/database-engine';
import { driverError, recordingSession, type FakeRule } from '../support/mysql-fake-session';

const PASSWORD = "N3w-Pa$$w0rd'with\\quote";
const HASH = mysqlNativePasswordHash(PASSWORD);
const OLD_HASH = '*0123456789ABCDEF0123456789ABCDEF01234567';

const SERVERS: Record<string, ServerInfo> = {
  'MariaDB 10.3': parseMysqlServerInfo('10.3.39-MariaDB', 'mariadb.org binary distribution'),
  'MariaDB 10.11': parseMysqlServerInfo('10.11.19-MariaDB-0+deb12u1', 'Debian 12'),
  'MariaDB 11.4': parseMysqlServerInfo('11.4.2-MariaDB', 'mariadb.org binary distribution'),
  'MySQL 5.7': parseMysqlServerInfo('5.7.44-log', 'MySQL Community Server (GPL)'),
  'Aurora MySQL 2': parseMysqlServerInfo('5.7.12', 'Source distribution', '2.11.2'),
  'MySQL 8.0': parseMysqlServerInfo('8.0.36', 'MySQL Community Server - GPL'),
  'MySQL 8.4': parseMysqlServerInfo('8.4.0', 'MySQL Community Server - GPL'),
  'Aurora MySQL 3': parseMysqlServerInfo('8.0.28', 'Source distribution', '3.04.0'),
};

/**
 * A fake server: the catalogs of `app` answer from `source`; `app_clone` has `clone` before the sync
 * and, once written to, the source's rights (the grantee does not matter to the reader).
 */
function fakeServer(
  source: { options: FakeRule['rows']; grants: Record<string, string[]> },
  clone: { options?: Row[]; grants?: string[] } = {},
  extra: FakeRule[] = [],
): FakeRule[] {
  const rules: FakeRule[] = [...extra];
  rules.push({ match: /(global_priv|mysql\.user) WHERE User = 'app' /, rows: source.options });
  rules.push({ match: /(global_priv|mysql\.user) WHERE User = 'app_clone' /, rows: clone.options ?? [] });
  for (const [host, rows] of Object.entries(source.grants)) {
    const h = host.replace(/[.%]/g, (c) => `\\${c}`);
    rules.push({ match: new RegExp(`^SHOW GRANTS FOR 'app'@'${h}'$`), rows: rows.map((g) => ({ g })) });
    rules.push({ match: new RegExp(`^SHOW GRANTS FOR 'app_clone'@'${h}'$`), rows: (clone.grants ?? []).map((g) => ({ g })), times: 1 });
    rules.push({ match: new RegExp(`^SHOW GRANTS FOR 'app_clone'@'${h}'$`), rows: rows.map((g) => ({ g })) });
  }
  return rules;
}

const change = (warnings: string[] = []): AlternateUserChange => ({
  currentUsername: 'app',
  alternateUsername: 'app_clone',
  password: PASSWORD,
  warn: (m) => warnings.push(m),
  // An existing clone stands for one a rotation of this secret handed out before (AWSPREVIOUS).
  previouslyHeld: async () => true,
});

const writes = (statements: readonly string[]): string[] => statements.filter((s) => !/^(SELECT|SHOW)\b/.test(s));

describe.each(['MariaDB 10.11', 'MariaDB 11.4'])('%s (mysql.global_priv)', (name) => {
  it('creates, sets every option, makes the rights equal, then sets the password of the whole chain', async () => {
    const priv = {
      access: 0,
      plugin: 'mysql_native_password',
      authentication_string: OLD_HASH,
      auth_or: [{}, { plugin: 'unix_socket' }, { plugin: 'pam', authentication_string: 'app-svc' }],
      ssl_type: 1,
      max_questions: 100,
      max_user_connections: 5,
      max_statement_time: 2.5,
      password_lifetime: 30,
      account_locked: false,
    };
    const session = recordingSession(
      fakeServer({
        options: [{ host: '10.0.%', priv: JSON.stringify(priv) }],
        grants: {
          '10.0.%': [
            `GRANT USAGE ON *.* TO \`app\`@\`10.0.%\` IDENTIFIED VIA mysql_native_password USING '${OLD_HASH}' OR unix_socket REQUIRE SSL`,
            'GRANT SELECT, INSERT ON `shop`.* TO `app`@`10.0.%` WITH GRANT OPTION',
            'GRANT SELECT (`a`), UPDATE (`a`, `b`) ON `shop`.`t` TO `app`@`10.0.%`',
            'GRANT `reporting` TO `app`@`10.0.%` WITH ADMIN OPTION',
            'SET DEFAULT ROLE `reporting` FOR `app`@`10.0.%`',
          ],
        },
      }),
    );
    await mysqlEngine.syncAlternateUser(session, SERVERS[name]!, change());
    const w = writes(session.statements);
    expect(w[0]).toMatch(
      /^CREATE USER IF NOT EXISTS 'app_clone'@'10\.0\.%' IDENTIFIED VIA mysql_native_password USING '\*[0-9A-F]{40}' OR unix_socket OR pam USING 'app-svc' REQUIRE SSL$/,
    );
    expect(w[0]).not.toContain(HASH);
    expect(w.slice(1)).toEqual([
      "ALTER USER 'app_clone'@'10.0.%' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 100 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 5 MAX_STATEMENT_TIME 2.5 PASSWORD EXPIRE INTERVAL 30 DAY ACCOUNT UNLOCK",
      "GRANT SELECT, INSERT ON `shop`.* TO 'app_clone'@'10.0.%' WITH GRANT OPTION",
      "GRANT SELECT (`a`), UPDATE (`a`, `b`) ON `shop`.`t` TO 'app_clone'@'10.0.%'",
      "GRANT `reporting` TO 'app_clone'@'10.0.%' WITH ADMIN OPTION",
      "SET DEFAULT ROLE `reporting` FOR 'app_clone'@'10.0.%'",
      `ALTER USER 'app_clone'@'10.0.%' IDENTIFIED VIA mysql_native_password USING '${HASH}' OR unix_socket OR pam USING 'app-svc'`,
    ]);
    const all = session.statements.join('\n');
    expect(all).not.toContain('N3w-Pa');
    expect(all).not.toContain(OLD_HASH.slice(1));
  });

  it('an existing clone: extra rights revoked, a host entry the original lacks dropped (with a warning), one password statement for every host', async () => {
    const options = (host: string): Row => ({
      host,
      priv: JSON.stringify({ plugin: 'mysql_native_password', authentication_string: OLD_HASH }),
    });
    const warnings: string[] = [];
    const session = recordingSession(
      fakeServer(
        {
          options: [options('%'), options('db.internal')],
          grants: { '%': ['GRANT SELECT ON `a`.* TO `app`@`%`'], 'db.internal': ['GRANT SELECT ON `b`.* TO `app`@`db.internal`'] },
        },
        { options: [options('%'), options('10.9.%')], grants: ['GRANT SELECT, DELETE ON `a`.* TO `app_clone`@`%`'] },
      ),
    );
    await mysqlEngine.syncAlternateUser(session, SERVERS[name]!, change(warnings));
    const w = writes(session.statements);
    expect(w[0]).toBe("DROP USER IF EXISTS 'app_clone'@'10.9.%'");
    expect(w).toContain("REVOKE DELETE ON `a`.* FROM 'app_clone'@'%'");
    // Options the catalog leaves out are written at their defaults, so the clone's own ones go.
    expect(w).toContain(
      "ALTER USER 'app_clone'@'%' REQUIRE NONE WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0 MAX_STATEMENT_TIME 0 PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK",
    );
    expect(w.at(-1)).toBe(
      `ALTER USER 'app_clone'@'%' IDENTIFIED BY PASSWORD '${HASH}', 'app_clone'@'db.internal' IDENTIFIED BY PASSWORD '${HASH}'`,
    );
    expect(w.filter((s) => /IDENTIFIED BY PASSWORD '\*/.test(s) && s.includes(HASH))).toHaveLength(1);
    expect(warnings).toEqual(["Dropped account 'app_clone'@'10.9.%': user 'app' has no account at that host"]);
  });
});

describe('MariaDB 10.3 (mysql.user, no lifetime or lock)', () => {
  it('carries TLS, limits and MAX_STATEMENT_TIME', async () => {
    const session = recordingSession(
      fakeServer({
        options: [
          {
            Host: '%',
            User: 'app',
            plugin: 'mysql_native_password',
            authentication_string: OLD_HASH,
            ssl_type: 'X509',
            ssl_cipher: '',
            x509_issuer: '',
            x509_subject: '',
            max_questions: 0,
            max_updates: 3,
            max_connections: 0,
            max_user_connections: 0,
            max_statement_time: '0.000000',
            password_expired: 'N',
            is_role: 'N',
            default_role: '',
          },
        ],
        grants: { '%': ['GRANT USAGE ON *.* TO `app`@`%`'] },
      }),
    );
    await mysqlEngine.syncAlternateUser(session, SERVERS['MariaDB 10.3']!, change());
    expect(session.statements).toContain("SELECT * FROM mysql.user WHERE User = 'app' ORDER BY Host");
    expect(writes(session.statements)[1]).toBe(
      "ALTER USER 'app_clone'@'%' REQUIRE X509 WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 3 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0 MAX_STATEMENT_TIME 0.000000",
    );
  });
});

describe.each(['MySQL 5.7', 'Aurora MySQL 2'])('%s (mysql.user)', (name) => {
  it('native hash in CREATE and ALTER, lifetime and lock carried, no default roles read', async () => {
    const session = recordingSession(
      fakeServer({
        options: [
          {
            Host: '10.0.%',
            User: 'app',
            plugin: 'mysql_native_password',
            authentication_string: OLD_HASH,
            ssl_type: 'ANY',
            ssl_cipher: '',
            x509_issuer: '',
            x509_subject: '',
            max_questions: 0,
            max_updates: 0,
            max_connections: 0,
            max_user_connections: 0,
            password_lifetime: null,
            account_locked: 'N',
          },
        ],
        grants: { '10.0.%': ["GRANT USAGE ON *.* TO 'app'@'10.0.%'", "GRANT SELECT ON `shop`.* TO 'app'@'10.0.%' WITH GRANT OPTION"] },
      }),
    );
    await mysqlEngine.syncAlternateUser(session, SERVERS[name]!, change());
    const w = writes(session.statements);
    expect(w[0]).toMatch(
      /^CREATE USER IF NOT EXISTS 'app_clone'@'10\.0\.%' IDENTIFIED WITH mysql_native_password AS '\*[0-9A-F]{40}' REQUIRE SSL$/,
    );
    expect(w[1]).toBe(
      "ALTER USER 'app_clone'@'10.0.%' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 0 PASSWORD EXPIRE DEFAULT ACCOUNT UNLOCK",
    );
    expect(w[2]).toBe("GRANT SELECT ON `shop`.* TO 'app_clone'@'10.0.%' WITH GRANT OPTION");
    expect(w.at(-1)).toBe(`ALTER USER 'app_clone'@'10.0.%' IDENTIFIED WITH mysql_native_password AS '${HASH}'`);
    expect(session.statements.some((s) => /default_roles/.test(s))).toBe(false);
  });
});

describe.each(['MySQL 8.0', 'MySQL 8.4', 'Aurora MySQL 3'])('%s (mysql.user, roles, partial revokes)', (name) => {
  it('carries the password policy, role grants, partial revokes and default roles', async () => {
    const session = recordingSession(
      fakeServer(
        {
          options: [
            {
              Host: '%',
              User: 'app',
              plugin: 'caching_sha2_password',
              authentication_string: '$A$005$x',
              ssl_type: 'SPECIFIED',
              ssl_cipher: '',
              x509_issuer: "/CN=it's",
              x509_subject: '/CN=app',
              max_questions: 0,
              max_updates: 0,
              max_connections: 0,
              max_user_connections: 2,
              password_lifetime: 0,
              account_locked: 'N',
              Password_reuse_history: null,
              Password_reuse_time: 5,
              Password_require_current: 'N',
              User_attributes: { Password_locking: { failed_login_attempts: 3, password_lock_time_days: -1 } },
            },
          ],
          grants: {
            '%': [
              'GRANT SELECT, INSERT ON *.* TO `app`@`%`',
              'GRANT BACKUP_ADMIN ON *.* TO `app`@`%` WITH GRANT OPTION',
              'GRANT `r1`@`%`,`r2`@`localhost` TO `app`@`%`',
              'REVOKE INSERT ON `mysql`.* FROM `app`@`%`',
            ],
          },
        },
        {},
        [
          { match: /default_roles WHERE USER = 'app' /, rows: [{ user: 'r1', host: '%' }] },
          { match: /default_roles WHERE USER = 'app_clone' /, rows: [], times: 1 },
          { match: /default_roles WHERE USER = 'app_clone' /, rows: [{ user: 'r1', host: '%' }] },
        ],
      ),
    );
    await mysqlEngine.syncAlternateUser(session, SERVERS[name]!, change());
    const w = writes(session.statements);
    expect(w[0]).toMatch(
      /^CREATE USER IF NOT EXISTS 'app_clone'@'%' IDENTIFIED WITH caching_sha2_password BY 'Aa1-[A-Za-z0-9_-]{32}' REQUIRE SUBJECT '\/CN=app' AND ISSUER '\/CN=it\\'s'$/,
    );
    expect(w[1]).toBe(
      "ALTER USER 'app_clone'@'%' REQUIRE SUBJECT '/CN=app' AND ISSUER '/CN=it\\'s' WITH MAX_QUERIES_PER_HOUR 0 MAX_UPDATES_PER_HOUR 0 MAX_CONNECTIONS_PER_HOUR 0 MAX_USER_CONNECTIONS 2 " +
        'PASSWORD EXPIRE NEVER PASSWORD HISTORY DEFAULT PASSWORD REUSE INTERVAL 5 DAY PASSWORD REQUIRE CURRENT OPTIONAL FAILED_LOGIN_ATTEMPTS 3 PASSWORD_LOCK_TIME UNBOUNDED ACCOUNT UNLOCK',
    );
    expect(w.slice(2, -1)).toEqual([
      "GRANT BACKUP_ADMIN ON *.* TO 'app_clone'@'%' WITH GRANT OPTION",
      "GRANT SELECT, INSERT ON *.* TO 'app_clone'@'%'",
      "REVOKE INSERT ON `mysql`.* FROM 'app_clone'@'%'",
      "GRANT `r1`@`%` TO 'app_clone'@'%'",
      "GRANT `r2`@`localhost` TO 'app_clone'@'%'",
      "SET DEFAULT ROLE 'r1'@'%' TO 'app_clone'@'%'",
    ]);
    // caching_sha2_password has no client-side form: the plaintext is unavoidable (MySQL masks it in its logs).
    expect(w.at(-1)).toBe(`ALTER USER 'app_clone'@'%' IDENTIFIED WITH caching_sha2_password BY 'N3w-Pa$$w0rd\\'with\\\\quote'`);
  });
});

describe('failures', () => {
  const base = (grants: string[], extra: FakeRule[] = []): FakeRule[] =>
    fakeServer(
      {
        options: [{ host: '%', priv: JSON.stringify({ plugin: 'mysql_native_password', authentication_string: OLD_HASH }) }],
        grants: { '%': grants },
      },
      {},
      extra,
    );

  it('a refused grant stops before the password is set and names the grant, not the password', async () => {
    const session = recordingSession(
      base(
        ['GRANT SUPER ON *.* TO `app`@`%`'],
        [{ match: /^GRANT SUPER/, error: driverError('ER_SPECIFIC_ACCESS_DENIED_ERROR', 1227, 'GRANT SUPER') }],
      ),
    );
    const err = (await mysqlEngine.syncAlternateUser(session, SERVERS['MariaDB 10.11']!, change()).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(
      /GRANT SUPER ON \*\.\* was refused \(ER_SPECIFIC_ACCESS_DENIED_ERROR\).*Remedy: GRANT SUPER ON \*\.\* TO the master user WITH GRANT OPTION/,
    );
    expect(err.message).not.toContain('N3w-Pa');
    expect(session.statements.some((x) => x.includes('IDENTIFIED BY PASSWORD') && x.startsWith('ALTER USER'))).toBe(false);
  });

  it('a SHOW GRANTS row it cannot read stops before the password, instead of copying a partial set', async () => {
    const session = recordingSession(base(['WEIRD ROW TO `app`@`%`']));
    await expect(mysqlEngine.syncAlternateUser(session, SERVERS['MariaDB 10.11']!, change())).rejects.toThrow(/cannot read/);
    expect(session.statements.some((x) => x.includes('IDENTIFIED BY PASSWORD') && x.startsWith('ALTER USER'))).toBe(false);
  });

  it('an authentication method that cannot be copied stops before any change', async () => {
    const priv = {
      plugin: 'mysql_native_password',
      authentication_string: OLD_HASH,
      auth_or: [{ plugin: 'auth_socket_custom', authentication_string: 'x' }, {}],
    };
    const session = recordingSession(fakeServer({ options: [{ host: '%', priv: JSON.stringify(priv) }], grants: { '%': [] } }));
    await expect(mysqlEngine.syncAlternateUser(session, SERVERS['MariaDB 10.11']!, change())).rejects.toThrow(/auth_socket_custom method/);
    expect(writes(session.statements)).toEqual([]);
  });

  it('a missing original account fails with its name', async () => {
    const session = recordingSession([]);
    await expect(mysqlEngine.syncAlternateUser(session, SERVERS['MariaDB 10.11']!, change())).rejects.toThrow(/No account of user 'app'/);
  });

  it('network failures keep their class (retryable)', async () => {
    const lost = Object.assign(new Error('Connection lost'), { code: 'PROTOCOL_CONNECTION_LOST' });
    const session = recordingSession(base([], [{ match: /^CREATE USER/, error: lost }]));
    await expect(mysqlEngine.syncAlternateUser(session, SERVERS['MariaDB 10.11']!, change())).rejects.toMatchObject({ code: 'NETWORK' });
  });
});
