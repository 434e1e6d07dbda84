/**
 * The SQL the MySQL engine sends, per server flavour, against a recording fake session: only MariaDB
 * 10.11 runs here, so MySQL 5.7/8.0/8.4 and Aurora MySQL 2/3 are covered at this level.
 */
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import { mysqlEngine } from '../../shared/engines/mysql';
import { parseMysqlServerInfo } from '../../shared/engines/mysql-server-info';
import { accountName, pluginFromCreateUser, requireClause } from '../../shared/engines/mysql-sql';
import type { ServerInfo } from '../../shared/rotation/database-engine';
import { driverError, recordingSession, type FakeRule } from '../support/mysql-fake-session';

const PASSWORD = "N3w-Pa$$w0rd'with\\quote";
const HASH = mysqlNativePasswordHash(PASSWORD);

const SERVERS: Record<string, ServerInfo> = {
  'MariaDB 10.11': parseMysqlServerInfo('10.11.19-MariaDB-0+deb12u1', 'Debian 12'),
  'MariaDB 11.4': parseMysqlServerInfo('11.4.2-MariaDB', 'mariadb.org binary distribution'),
  'MySQL 5.7': parseMysqlServerInfo('5.7.44-log', 'MySQL Community Server (GPL)'),
  'MySQL 8.0': parseMysqlServerInfo('8.0.36', 'MySQL Community Server - GPL'),
  'MySQL 8.4': parseMysqlServerInfo('8.4.0', 'MySQL Community Server - GPL'),
  'Aurora MySQL 2': parseMysqlServerInfo('5.7.12', 'Source distribution', '2.11.2'),
  'Aurora MySQL 3': parseMysqlServerInfo('8.0.28', 'Source distribution', '3.04.0'),
};
const MARIADB = ['MariaDB 10.11', 'MariaDB 11.4'];
const MYSQL_NATIVE = ['MySQL 5.7', 'Aurora MySQL 2'];
const MYSQL_SHA2 = ['MySQL 8.0', 'MySQL 8.4', 'Aurora MySQL 3'];

function server(name: string): ServerInfo {
  return SERVERS[name]!;
}

function createUserRow(plugin: string): FakeRule {
  const text =
    plugin === 'mariadb-native'
      ? "CREATE USER `app`@`%` IDENTIFIED BY PASSWORD '*0123456789ABCDEF0123456789ABCDEF01234567'"
      : `CREATE USER \`app\`@\`%\` IDENTIFIED WITH '${plugin}' AS '<hash>' REQUIRE NONE`;
  return { match: /^SHOW CREATE USER CURRENT_USER\(\)$/, rows: [{ 'CREATE USER for app@%': text }] };
}

describe('server flavour and version, from what the server reports', () => {
  it.each([
    ['10.11.19-MariaDB-0+deb12u1', 'Debian 12', undefined, 'mariadb', false, [10, 11, 19]],
    ['5.5.5-10.3.39-MariaDB', '', undefined, 'mariadb', false, [10, 3, 39]],
    ['11.4.2-MariaDB', 'mariadb.org binary distribution', undefined, 'mariadb', false, [11, 4, 2]],
    ['5.7.44-log', 'MySQL Community Server (GPL)', undefined, 'mysql', false, [5, 7, 44]],
    ['8.4.0', 'MySQL Community Server - GPL', undefined, 'mysql', false, [8, 4, 0]],
    ['5.7.12', 'Source distribution', '2.11.2', 'mysql', true, [5, 7, 12]],
    ['8.0.mysql_aurora.3.05.2', 'Source distribution', undefined, 'mysql', true, [8, 0, 0]],
  ])('%s (%s, aurora_version %s)', (version, comment, aurora, flavor, isAurora, numbers) => {
    const info = parseMysqlServerInfo(version, comment, aurora);
    expect(info).toMatchObject({ flavor, aurora: isAurora, version });
    expect([info.major, info.minor, info.patch]).toEqual(numbers);
  });

  it('asks for aurora_version only on MySQL, with a query that cannot fail where it does not exist', async () => {
    const session = recordingSession([
      { match: /VERSION\(\)/, rows: [{ version: '8.0.28', comment: 'Source distribution' }] },
      { match: /aurora/, rows: [{ Variable_name: 'aurora_version', Value: '3.04.0' }] },
    ]);
    await expect(mysqlEngine.serverInfo(session)).resolves.toMatchObject({ flavor: 'mysql', aurora: true, major: 8 });
    expect(session.statements[1]).toMatch(/^SHOW GLOBAL VARIABLES LIKE/);

    const maria = recordingSession([{ match: /VERSION\(\)/, rows: [{ version: '10.11.19-MariaDB', comment: 'x' }] }]);
    await expect(mysqlEngine.serverInfo(maria)).resolves.toMatchObject({ flavor: 'mariadb', aurora: false });
    expect(maria.statements).toHaveLength(1);
  });

  it('refuses a version string it cannot read', () => {
    expect(() => parseMysqlServerInfo('unknown')).toThrow(/cannot read/);
  });
});

describe('user-name limits', () => {
  const name = (n: number): string => 'u'.repeat(n);
  it('uses the secret engine before login: MariaDB 128 (the most any version allows), MySQL and Aurora 32', () => {
    expect(mysqlEngine.usernameProblem(name(128), 'mariadb')).toBeUndefined();
    expect(mysqlEngine.usernameProblem(name(129), 'mariadb')).toMatch(/129 characters.*at most 128/);
    expect(mysqlEngine.usernameProblem(name(32), 'mysql')).toBeUndefined();
    expect(mysqlEngine.usernameProblem(name(33), 'aurora-mysql')).toMatch(/at most 32/);
  });

  it('uses the server after login, whatever the secret says', () => {
    expect(mysqlEngine.usernameProblem(name(40), 'mysql', server('MariaDB 10.11'))).toBeUndefined();
    expect(mysqlEngine.usernameProblem(name(33), 'mariadb', server('MySQL 8.0'))).toMatch(/MySQL 8\.0\.36 allows at most 32/);
    expect(mysqlEngine.usernameProblem(name(17), 'mysql', parseMysqlServerInfo('5.6.51'))).toMatch(/at most 16/);
    // MariaDB's mysql.global_priv holds User char(128) from 10.6, char(80) before.
    expect(mysqlEngine.usernameProblem(name(128), 'mariadb', parseMysqlServerInfo('10.11.19-MariaDB'))).toBeUndefined();
    expect(mysqlEngine.usernameProblem(name(129), 'mariadb', parseMysqlServerInfo('10.11.19-MariaDB'))).toMatch(/at most 128/);
    expect(mysqlEngine.usernameProblem(name(81), 'mariadb', parseMysqlServerInfo('10.5.27-MariaDB'))).toMatch(/81 characters.*at most 80/);
  });

  it('counts characters, not bytes, and rejects names MySQL cannot store', () => {
    expect(mysqlEngine.usernameProblem('é'.repeat(32), 'mysql')).toBeUndefined();
    expect(mysqlEngine.usernameProblem('app😀', 'mysql')).toMatch(/cannot store/);
    expect(mysqlEngine.usernameProblem('', 'mysql')).toMatch(/empty/);
  });
});

describe('setOwnPassword (single-user, as the user itself)', () => {
  it.each(MARIADB)('%s: SET PASSWORD with the client-side hash, never the plaintext', async (name) => {
    const session = recordingSession([createUserRow('mariadb-native')]);
    await mysqlEngine.setOwnPassword(session, server(name), { username: 'app', password: PASSWORD });
    const last = session.statements.at(-1)!;
    expect(last).toBe(`SET PASSWORD = '${HASH}'`);
    expect(session.statements.join('\n')).not.toContain(PASSWORD);
    expect(session.statements.join('\n')).not.toMatch(/N3w-Pa/);
  });

  it('MariaDB with ed25519: PASSWORD() (the server has to hash it)', async () => {
    const session = recordingSession([
      { match: /^SHOW CREATE USER/, rows: [{ c: "CREATE USER `app`@`%` IDENTIFIED VIA ed25519 USING 'abc'" }] },
    ]);
    await mysqlEngine.setOwnPassword(session, server('MariaDB 10.11'), { username: 'app', password: 'plain-pw-123' });
    expect(session.statements.at(-1)).toBe("SET PASSWORD = PASSWORD('plain-pw-123')");
  });

  it.each(MYSQL_NATIVE)('%s with mysql_native_password: ALTER USER … AS <hash>', async (name) => {
    const session = recordingSession([createUserRow('mysql_native_password')]);
    await mysqlEngine.setOwnPassword(session, server(name), { username: 'app', password: PASSWORD });
    expect(session.statements.at(-1)).toBe(`ALTER USER CURRENT_USER() IDENTIFIED WITH mysql_native_password AS '${HASH}'`);
    expect(session.statements.join('\n')).not.toContain('N3w-Pa');
  });

  it('MySQL 5.7: falls back to IDENTIFIED BY when the hash form needs a privilege the user lacks', async () => {
    const session = recordingSession([
      createUserRow('mysql_native_password'),
      { match: /IDENTIFIED WITH/, error: driverError('ER_SPECIFIC_ACCESS_DENIED_ERROR', 1227, 'x') },
    ]);
    await mysqlEngine.setOwnPassword(session, server('MySQL 5.7'), { username: 'app', password: 'plain-pw-123' });
    expect(session.statements.slice(-2)).toEqual([
      `ALTER USER CURRENT_USER() IDENTIFIED WITH mysql_native_password AS '${mysqlNativePasswordHash('plain-pw-123')}'`,
      "ALTER USER USER() IDENTIFIED BY 'plain-pw-123'",
    ]);
  });

  it.each(MYSQL_SHA2)(
    '%s with caching_sha2_password: ALTER USER USER() IDENTIFIED BY (no client-side form), the old one retained',
    async (name) => {
      const session = recordingSession([createUserRow('caching_sha2_password')]);
      await mysqlEngine.setOwnPassword(session, server(name), { username: 'app', password: PASSWORD });
      expect(session.statements.at(-1)).toBe(`ALTER USER USER() IDENTIFIED BY 'N3w-Pa$$w0rd\\'with\\\\quote' RETAIN CURRENT PASSWORD`);
    },
  );

  it('MySQL 8 when SHOW CREATE USER is refused: the plain form', async () => {
    const session = recordingSession([{ match: /^SHOW CREATE USER/, error: driverError('ER_TABLEACCESS_DENIED_ERROR', 1142, 'x') }]);
    await mysqlEngine.setOwnPassword(session, server('MySQL 8.0'), { username: 'app', password: 'plain-pw-123' });
    expect(session.statements.at(-1)).toBe("ALTER USER USER() IDENTIFIED BY 'plain-pw-123' RETAIN CURRENT PASSWORD");
  });

  it('refuses accounts whose plugin takes no password (IAM authentication)', async () => {
    const session = recordingSession([createUserRow('AWSAuthenticationPlugin')]);
    await expect(mysqlEngine.setOwnPassword(session, server('MySQL 8.0'), { username: 'app', password: PASSWORD })).rejects.toThrow(
      /awsauthenticationplugin plugin/,
    );
  });

  it('a refusal names the user and the code, never the password or the statement', async () => {
    const session = recordingSession([
      createUserRow('mariadb-native'),
      { match: /^SET PASSWORD/, error: driverError('ER_PASSWORD_NO_MATCH', 1133, `SET PASSWORD = '${HASH}'`) },
    ]);
    const err = await mysqlEngine
      .setOwnPassword(session, server('MariaDB 10.11'), { username: 'app', password: PASSWORD })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'DatabaseError', code: 'DATABASE' });
    const shown = `${(err as Error).message} ${JSON.stringify(err)}`;
    expect(shown).toMatch(/setting the password of user 'app'.*ER_PASSWORD_NO_MATCH/);
    expect(shown).not.toContain(HASH);
    expect(shown).not.toContain('N3w-Pa');
  });

  it('turns off NO_BACKSLASH_ESCAPES with a SET before anything else (an expired session may run a SET)', async () => {
    const session = recordingSession();
    await mysqlEngine.setOwnPassword(session, server('MySQL 8.0'), { username: 'app', password: 'plain-pw-123' });
    expect(session.statements[0]).toMatch(/^SET SESSION sql_mode = .*REPLACE\(.*@@SESSION\.sql_mode, 'NO_BACKSLASH_ESCAPES', ''\)/);
  });

  it.each([
    ['MySQL 5.6', parseMysqlServerInfo('5.6.51')],
    ['MySQL 5.7.5', parseMysqlServerInfo('5.7.5-m15')],
    ['MariaDB 10.1', parseMysqlServerInfo('10.1.48-MariaDB')],
  ])('refuses %s, which lacks the statements the engine relies on', async (_name, info) => {
    const session = recordingSession();
    await expect(mysqlEngine.setOwnPassword(session, info, { username: 'app', password: PASSWORD })).rejects.toThrow(/not supported/);
    expect(session.statements).toEqual([]);
  });
});

describe('setPasswordAsMaster (single-user self-healing)', () => {
  // MariaDB 10.4+ is read from mysql.global_priv, MySQL from mysql.user (HEX of the stored string).
  const accounts = (plugin: string, user = 'app'): FakeRule => ({
    match: /FROM mysql\.(user|global_priv) WHERE User IN /,
    rows: ['%', '10.0.%'].map((host) => ({
      user,
      host,
      priv: JSON.stringify({ plugin, authentication_string: '*0123456789ABCDEF0123456789ABCDEF01234567' }),
      plugin,
      authHex: Buffer.from('*0123456789ABCDEF0123456789ABCDEF01234567').toString('hex'),
      sslType: '',
      cipher: Buffer.from(''),
      issuer: null,
      subject: null,
    })),
  });

  it.each(MARIADB)("%s: ALTER USER … IDENTIFIED BY PASSWORD <hash> on every host part, the function's own last", async (name) => {
    // The function (10.0.1.5) logs in as 'o\'brien'@'10.0.%': that entry goes last, so a crash before it
    // leaves the pending password refused and the retry heals every entry again.
    const session = recordingSession([
      accounts('mysql_native_password', "o'brien"),
      { match: /^SELECT USER\(\)/, rows: [{ client: 'm@10.0.1.5' }] },
    ]);
    await mysqlEngine.setPasswordAsMaster(session, server(name), "o'brien", PASSWORD);
    expect(session.statements.filter((s) => s.startsWith('ALTER USER'))).toEqual([
      `ALTER USER 'o\\'brien'@'%' IDENTIFIED BY PASSWORD '${HASH}'`,
      `ALTER USER 'o\\'brien'@'10.0.%' IDENTIFIED BY PASSWORD '${HASH}'`,
    ]);
    expect(session.statements.join('\n')).not.toContain('N3w-Pa');
  });

  it('MariaDB 10.3 (roles in mysql.user): a role of the same name, on the empty host, is not set', async () => {
    const session = recordingSession([
      {
        match: /FROM mysql\.user WHERE User IN /,
        rows: ['%', ''].map((host) => ({
          user: 'app',
          host,
          plugin: '',
          auth: '',
          password: '*0123456789ABCDEF0123456789ABCDEF01234567',
          sslType: '',
        })),
      },
      { match: /^SELECT USER\(\)/, rows: [{ client: 'm@10.0.1.5' }] },
    ]);
    await mysqlEngine.setPasswordAsMaster(session, parseMysqlServerInfo('10.3.39-MariaDB'), 'app', PASSWORD);
    expect(session.statements.filter((s) => s.startsWith('ALTER USER') || s.startsWith('SET PASSWORD'))).toHaveLength(1);
    expect(session.statements.join('\n')).not.toMatch(/'app'@''/);
  });

  it.each(MYSQL_NATIVE)('%s: IDENTIFIED WITH mysql_native_password AS <hash>', async (name) => {
    const session = recordingSession([accounts('mysql_native_password')]);
    await mysqlEngine.setPasswordAsMaster(session, server(name), 'app', PASSWORD);
    expect(session.statements).toContain(`ALTER USER 'app'@'%' IDENTIFIED WITH mysql_native_password AS '${HASH}'`);
  });

  it.each(MYSQL_SHA2)('%s: keeps the account on caching_sha2_password', async (name) => {
    const session = recordingSession([accounts('caching_sha2_password')]);
    await mysqlEngine.setPasswordAsMaster(session, server(name), 'app', 'plain-pw-123');
    expect(session.statements).toContain("ALTER USER 'app'@'%' IDENTIFIED WITH caching_sha2_password BY 'plain-pw-123'");
  });

  it('fails clearly when the user has no account', async () => {
    const session = recordingSession();
    await expect(mysqlEngine.setPasswordAsMaster(session, server('MySQL 8.0'), 'ghost', PASSWORD)).rejects.toThrow(
      /No account of user 'ghost' exists/,
    );
    expect(session.statements.some((x) => x.startsWith('ALTER USER'))).toBe(false);
  });
});

// syncAlternateUser: test/accounts/mysql-alternate-user-flavours.test.ts (per flavour) and mysql-alternate-user.test.ts (live).

describe('SQL building blocks', () => {
  it('account names survive quotes, backslashes, spaces, capitals and unicode', () => {
    expect(accountName(`O'Brien "x" \\ Ünï`, '%')).toBe(`'O\\'Brien \\"x\\" \\\\ Ünï'@'%'`);
  });

  it.each([
    ["CREATE USER `a`@`%` IDENTIFIED WITH 'caching_sha2_password' AS '$A$005$x' REQUIRE NONE", 'caching_sha2_password'],
    ["CREATE USER 'a'@'%' IDENTIFIED WITH 'mysql_native_password' AS '*AB' REQUIRE NONE", 'mysql_native_password'],
    ["CREATE USER `a`@`%` IDENTIFIED BY PASSWORD '*AB'", 'mysql_native_password'],
    ["CREATE USER `a`@`%` IDENTIFIED VIA ed25519 USING 'x'", 'ed25519'],
    ['CREATE USER `identified`@`%`', undefined],
  ])('plugin of %s', (statement, plugin) => {
    expect(pluginFromCreateUser(statement)).toBe(plugin);
  });

  it('REQUIRE clauses from mysql.user', () => {
    expect(requireClause({ sslType: '', cipher: '', issuer: '', subject: '' })).toBe('REQUIRE NONE');
    expect(requireClause({ sslType: 'ANY', cipher: '', issuer: '', subject: '' })).toBe('REQUIRE SSL');
    expect(requireClause({ sslType: 'X509', cipher: '', issuer: '', subject: '' })).toBe('REQUIRE X509');
    expect(requireClause({ sslType: 'SPECIFIED', cipher: 'AES256-SHA', issuer: '', subject: '' })).toBe("REQUIRE CIPHER 'AES256-SHA'");
  });

  it("is the mysql engine, with the AWS templates' excluded characters", () => {
    expect(mysqlEngine.family).toBe('mysql');
    expect(mysqlEngine.defaultExcludeCharacters).toBe('/@"\'\\');
  });
});
