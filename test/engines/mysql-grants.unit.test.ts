/**
 * Reading SHOW GRANTS rows (MySQL 5.7, 8.x and MariaDB shapes) into comparable rights, and the plan that
 * makes one account's rights equal another's: missing rights granted, extra ones revoked.
 */
import {
  objectName,
  parseGrantRows,
  planGrantSync,
  privilegeColumn,
  privilegeList,
  rightKey,
  staleDefaultRoles,
} from '../../shared/engines/mysql-grants';
import { tokenize, unquote } from '../../shared/engines/mysql-statement-tokens';
import { parseMysqlServerInfo } from '../../shared/engines/mysql-server-info';

const MARIADB = parseMysqlServerInfo('10.11.9-MariaDB');
const MYSQL8 = parseMysqlServerInfo('8.0.36');
const TO = "'new'@'h'";

/** The grants of an account `app`, one SHOW GRANTS row per argument. */
const rows = (...r: string[]): ReturnType<typeof parseGrantRows> => parseGrantRows(r);
const plan = (source: string[], target: string[], server = MARIADB): string[] =>
  planGrantSync(parseGrantRows(source), parseGrantRows(target), TO, server).map((s) => s.sql);

describe('parseGrantRows', () => {
  it('reads privileges per object, one key per column, and WITH GRANT OPTION among resource limits', () => {
    const g = rows(
      "GRANT RELOAD, BINLOG MONITOR ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*ABC' REQUIRE SSL WITH GRANT OPTION MAX_QUERIES_PER_HOUR 10",
      'GRANT SELECT, SELECT (`a`), INSERT, UPDATE (`a`, `b`) ON `db`.`t` TO `app`@`%`',
      'GRANT CREATE TEMPORARY TABLES, LOCK TABLES ON `db`.* TO `app`@`%`',
      'GRANT EXECUTE ON PROCEDURE `db`.`p` TO `app`@`%` WITH GRANT OPTION',
    );
    expect(g.objects.get('*.*')).toEqual({
      object: '*.*',
      kind: 'global',
      privileges: new Set(['RELOAD', 'BINLOG MONITOR']),
      grantOption: true,
    });
    expect([...g.objects.get('`db`.`t`')!.privileges]).toEqual(['SELECT', 'SELECT (`a`)', 'INSERT', 'UPDATE (`a`)', 'UPDATE (`b`)']);
    expect(g.objects.get('`db`.*')).toMatchObject({ kind: 'database', grantOption: false });
    expect(g.objects.get('PROCEDURE `db`.`p`')).toMatchObject({ kind: 'routine', grantOption: true });
  });

  it('reads USAGE as no privilege, and MySQL 8 dynamic privileges printed on their own row', () => {
    const g = rows(
      'GRANT USAGE ON *.* TO `app`@`%`',
      'GRANT SELECT ON *.* TO `app`@`%`',
      'GRANT BACKUP_ADMIN,AUDIT_ADMIN ON *.* TO `app`@`%`',
    );
    expect([...g.objects.get('*.*')!.privileges].sort()).toEqual(['AUDIT_ADMIN', 'BACKUP_ADMIN', 'SELECT']);
  });

  it('reads role grants (MariaDB and MySQL 8 forms), proxies, default roles and partial revokes', () => {
    const g = rows(
      'GRANT `r1` TO `app`@`%` WITH ADMIN OPTION',
      'GRANT `r2`@`%`,`r3`@`%` TO `app`@`%`',
      "GRANT PROXY ON 'other'@'%' TO 'app'@'%' WITH GRANT OPTION",
      'SET DEFAULT ROLE `r1` FOR `app`@`%`',
      'REVOKE INSERT, UPDATE ON `mysql`.* FROM `app`@`%`',
    );
    expect(g.roles).toEqual(
      new Map([
        ['`r1`', true],
        ['`r2`@`%`', false],
        ['`r3`@`%`', false],
      ]),
    );
    expect(g.proxies).toEqual(new Map([["'other'@'%'", true]]));
    expect(g.defaultRoles).toEqual(['`r1`']);
    expect(g.partialRevokes).toEqual(new Map([['`mysql`.*', new Set(['INSERT', 'UPDATE'])]]));
  });

  it('finds the grantee by the lexer: names holding TO, ON, WITH and quotes', () => {
    const g = rows("GRANT SELECT ON `a TO b`.`with ON x` TO 'o\\'brien TO x'@'%' WITH GRANT OPTION");
    expect(g.objects.get('`a TO b`.`with ON x`')).toMatchObject({ kind: 'table', grantOption: true });
  });

  it.each([
    '',
    'CREATE USER `a`@`%`',
    'GRANT SELECT ON *.*',
    'GRANT SELECT ON *.* TO',
    'GRANT ON *.* TO `a`@`%`',
    'REVOKE SELECT FROM `a`@`%`',
  ])('refuses a row it cannot read: %j', (row) => {
    expect(() => rows(row)).toThrow(/cannot read/);
  });
});

describe('planGrantSync', () => {
  const base = ['GRANT USAGE ON *.* TO `app`@`%`'];

  it('plans nothing when the rights are equal (the grantee and the password hash do not count)', () => {
    expect(
      plan(
        ["GRANT SELECT ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*AAA'", 'GRANT SELECT ON `d`.* TO `app`@`%`'],
        ["GRANT SELECT ON *.* TO `app_clone`@`%` IDENTIFIED BY PASSWORD '*BBB'", 'GRANT SELECT ON `d`.* TO `app_clone`@`%`'],
      ),
    ).toEqual([]);
  });

  it('revokes a right the source no longer has (a revoke sticks) and grants a missing one', () => {
    expect(plan([...base, 'GRANT SELECT, INSERT ON `d`.* TO `app`@`%`'], [...base, 'GRANT SELECT, DELETE ON `d`.* TO `c`@`%`'])).toEqual([
      `REVOKE DELETE ON \`d\`.* FROM ${TO}`,
      `GRANT INSERT ON \`d\`.* TO ${TO}`,
    ]);
  });

  it('revokes every right on an object the source has none on, and grants a whole missing object', () => {
    expect(plan([...base, 'GRANT SELECT ON `d`.`t` TO `app`@`%`'], [...base, 'GRANT SELECT, UPDATE (`a`) ON `d`.`u` TO `c`@`%`'])).toEqual([
      `REVOKE SELECT, UPDATE (\`a\`) ON \`d\`.\`u\` FROM ${TO}`,
      `GRANT SELECT ON \`d\`.\`t\` TO ${TO}`,
    ]);
  });

  it('handles column privileges one column at a time', () => {
    const out = planGrantSync(
      rows('GRANT SELECT (`a`, `b`), UPDATE (`a`) ON `d`.`t` TO `app`@`%`'),
      rows('GRANT SELECT (`a`), UPDATE (`z`) ON `d`.`t` TO `c`@`%`'),
      TO,
      MARIADB,
    );
    expect(out.map((s) => s.sql)).toEqual([
      `REVOKE UPDATE (\`z\`) ON \`d\`.\`t\` FROM ${TO}`,
      `GRANT SELECT (\`b\`), UPDATE (\`a\`) ON \`d\`.\`t\` TO ${TO}`,
    ]);
    // A dropped column refuses the whole list: each privilege can be tried on its own.
    expect(out[1]!.parts.map((p) => p.sql)).toEqual([
      `GRANT SELECT (\`b\`) ON \`d\`.\`t\` TO ${TO}`,
      `GRANT UPDATE (\`a\`) ON \`d\`.\`t\` TO ${TO}`,
    ]);
    expect(out[1]!.adds).toEqual([rightKey('`d`.`t`', 'SELECT (`b`)'), rightKey('`d`.`t`', 'UPDATE (`a`)')]);
  });

  it('ALL PRIVILEGES: granted over single privileges, and revoked first when the source holds less', () => {
    expect(plan(['GRANT ALL PRIVILEGES ON `d`.* TO `app`@`%`'], ['GRANT SELECT ON `d`.* TO `c`@`%`'])).toEqual([
      `GRANT ALL PRIVILEGES ON \`d\`.* TO ${TO}`,
    ]);
    expect(plan(['GRANT SELECT ON `d`.* TO `app`@`%`'], ['GRANT ALL PRIVILEGES ON `d`.* TO `c`@`%`'])).toEqual([
      `REVOKE ALL PRIVILEGES ON \`d\`.* FROM ${TO}`,
      `GRANT SELECT ON \`d\`.* TO ${TO}`,
    ]);
  });

  it('WITH GRANT OPTION: added where the source holds it, revoked where it does not', () => {
    expect(plan(['GRANT SELECT ON `d`.* TO `app`@`%` WITH GRANT OPTION'], ['GRANT SELECT ON `d`.* TO `c`@`%`'])).toEqual([
      `GRANT USAGE ON \`d\`.* TO ${TO} WITH GRANT OPTION`,
    ]);
    expect(
      plan(['GRANT EXECUTE ON PROCEDURE `d`.`p` TO `app`@`%` WITH GRANT OPTION'], ['GRANT EXECUTE ON PROCEDURE `d`.`p` TO `c`@`%`']),
    ).toEqual([`GRANT EXECUTE ON PROCEDURE \`d\`.\`p\` TO ${TO} WITH GRANT OPTION`]);
    expect(plan(['GRANT SELECT ON `d`.`t` TO `app`@`%`'], ['GRANT SELECT ON `d`.`t` TO `c`@`%` WITH GRANT OPTION'])).toEqual([
      `REVOKE GRANT OPTION ON \`d\`.\`t\` FROM ${TO}`,
    ]);
  });

  it('roles and their ADMIN OPTION, in each flavour', () => {
    expect(plan(['GRANT `r1` TO `app`@`%`', 'GRANT `r2` TO `app`@`%` WITH ADMIN OPTION'], ['GRANT `r3` TO `c`@`%`'])).toEqual([
      `REVOKE \`r3\` FROM ${TO}`,
      `GRANT \`r1\` TO ${TO}`,
      `GRANT \`r2\` TO ${TO} WITH ADMIN OPTION`,
    ]);
    expect(plan(['GRANT `r` TO `app`@`%`'], ['GRANT `r` TO `c`@`%` WITH ADMIN OPTION'])).toEqual([
      `REVOKE ADMIN OPTION FOR \`r\` FROM ${TO}`,
    ]);
    expect(plan(['GRANT `r`@`%` TO `app`@`%`'], ['GRANT `r`@`%` TO `c`@`%` WITH ADMIN OPTION'], MYSQL8)).toEqual([
      `REVOKE \`r\`@\`%\` FROM ${TO}`,
      `GRANT \`r\`@\`%\` TO ${TO}`,
    ]);
  });

  it('proxy grants and their GRANT OPTION', () => {
    expect(plan(["GRANT PROXY ON 'a'@'%' TO `app`@`%`"], ["GRANT PROXY ON 'b'@'%' TO `c`@`%`"])).toEqual([
      `REVOKE PROXY ON 'b'@'%' FROM ${TO}`,
      `GRANT PROXY ON 'a'@'%' TO ${TO}`,
    ]);
    expect(plan(["GRANT PROXY ON 'a'@'%' TO `app`@`%`"], ["GRANT PROXY ON 'a'@'%' TO `c`@`%` WITH GRANT OPTION"])).toEqual([
      `REVOKE PROXY ON 'a'@'%' FROM ${TO}`,
      `GRANT PROXY ON 'a'@'%' TO ${TO}`,
    ]);
  });

  it('default roles: set after the role grants, NONE when the source has none, MySQL 8 lists', () => {
    expect(plan(['GRANT `r` TO `app`@`%`', 'SET DEFAULT ROLE `r` FOR `app`@`%`'], [])).toEqual([
      `GRANT \`r\` TO ${TO}`,
      `SET DEFAULT ROLE \`r\` FOR ${TO}`,
    ]);
    expect(plan(['GRANT `r` TO `app`@`%`'], ['GRANT `r` TO `c`@`%`', 'SET DEFAULT ROLE `r` FOR `c`@`%`'])).toEqual([
      `SET DEFAULT ROLE NONE FOR ${TO}`,
    ]);
    const source = parseGrantRows([], ["'r1'@'%'", "'r2'@'%'"]);
    expect(planGrantSync(source, parseGrantRows([]), TO, MYSQL8).map((s) => s.sql)).toEqual([
      `SET DEFAULT ROLE 'r1'@'%', 'r2'@'%' TO ${TO}`,
    ]);
    expect(planGrantSync(parseGrantRows([]), source, TO, MYSQL8).map((s) => s.sql)).toEqual([`SET DEFAULT ROLE NONE TO ${TO}`]);
  });

  it('MariaDB default roles no longer granted (kept by MariaDB after a revoke or DROP ROLE) are neither copied nor removed', () => {
    const stale = ['SET DEFAULT ROLE `gone` FOR `app`@`%`'];
    expect(staleDefaultRoles(rows(...stale), MARIADB)).toEqual(['`gone`']);
    expect(plan(stale, [])).toEqual([]);
    expect(plan([], ['SET DEFAULT ROLE `gone` FOR `c`@`%`'])).toEqual([]);
    // A live default role on the target is still cleared, and a live one on the source still set.
    expect(plan(stale, ['GRANT `r` TO `c`@`%`', 'SET DEFAULT ROLE `r` FOR `c`@`%`'])).toEqual([
      `REVOKE \`r\` FROM ${TO}`,
      `SET DEFAULT ROLE NONE FOR ${TO}`,
    ]);
    expect(plan(['GRANT `r` TO `app`@`%`', 'SET DEFAULT ROLE `r` FOR `app`@`%`'], ['SET DEFAULT ROLE `gone` FOR `c`@`%`'])).toEqual([
      `GRANT \`r\` TO ${TO}`,
      `SET DEFAULT ROLE \`r\` FOR ${TO}`,
    ]);
    // MySQL drops a default role with its grant: its default roles are never stale.
    expect(staleDefaultRoles(parseGrantRows([], ["'r1'@'%'"]), MYSQL8)).toEqual([]);
  });

  it('MySQL 8 dynamic privileges keep their own GRANT OPTION (SHOW GRANTS splits them into rows by it)', () => {
    const source = [
      'GRANT SELECT, PROCESS ON *.* TO `app`@`%` WITH GRANT OPTION',
      'GRANT BACKUP_ADMIN ON *.* TO `app`@`%` WITH GRANT OPTION',
      'GRANT AUDIT_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `app`@`%`',
    ];
    const read = rows(...source).objects.get('*.*')!;
    expect(read.grantableDynamic).toEqual(new Set(['BACKUP_ADMIN']));
    expect(read.grantOption).toBe(true);
    // A new account: each dynamic privilege with its own option, the static ones with theirs.
    expect(plan(source, [], MYSQL8)).toEqual([
      `GRANT AUDIT_ADMIN, SYSTEM_VARIABLES_ADMIN ON *.* TO ${TO}`,
      `GRANT BACKUP_ADMIN ON *.* TO ${TO} WITH GRANT OPTION`,
      `GRANT SELECT, PROCESS ON *.* TO ${TO} WITH GRANT OPTION`,
    ]);
    // A target holding one with the option it should not have: revoked and granted again without it;
    // one lacking the option it should have: granted again with it.
    const target = [
      'GRANT SELECT, PROCESS ON *.* TO `c`@`%` WITH GRANT OPTION',
      'GRANT AUDIT_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `c`@`%` WITH GRANT OPTION',
      'GRANT BACKUP_ADMIN ON *.* TO `c`@`%`',
    ];
    expect(plan(source, target, MYSQL8)).toEqual([
      `REVOKE AUDIT_ADMIN ON *.* FROM ${TO}`,
      `REVOKE SYSTEM_VARIABLES_ADMIN ON *.* FROM ${TO}`,
      `GRANT AUDIT_ADMIN, SYSTEM_VARIABLES_ADMIN ON *.* TO ${TO}`,
      `GRANT BACKUP_ADMIN ON *.* TO ${TO} WITH GRANT OPTION`,
    ]);
    expect(
      plan(
        source,
        source.map((r) => r.replace('`app`', '`c`')),
        MYSQL8,
      ),
    ).toEqual([]);
    // The static option alone (the USAGE row) is the object's; a dynamic row's option is not.
    const onlyDynamic = rows('GRANT USAGE ON *.* TO `app`@`%`', 'GRANT BACKUP_ADMIN ON *.* TO `app`@`%` WITH GRANT OPTION');
    expect(onlyDynamic.objects.get('*.*')!.grantOption).toBe(false);
    // MariaDB's privileges (spaces, never a bare underscored word) are never dynamic.
    expect(rows('GRANT READ_ONLY ADMIN, BINLOG MONITOR ON *.* TO `app`@`%`').objects.get('*.*')!.grantableDynamic).toBeUndefined();
  });

  it('MySQL 8 partial revokes: added after the global grant, lifted by a grant at their level', () => {
    expect(
      plan(
        ['GRANT SELECT, INSERT ON *.* TO `app`@`%`', 'REVOKE INSERT ON `mysql`.* FROM `app`@`%`'],
        ['GRANT SELECT ON *.* TO `c`@`%`', 'REVOKE SELECT ON `sys`.* FROM `c`@`%`'],
        MYSQL8,
      ),
    ).toEqual([`GRANT INSERT ON *.* TO ${TO}`, `REVOKE INSERT ON \`mysql\`.* FROM ${TO}`, `GRANT SELECT ON \`sys\`.* TO ${TO}`]);
  });

  it('never puts the password hash of the global row into a statement or summary', () => {
    const out = planGrantSync(
      rows("GRANT RELOAD ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*SECRETHASH' WITH GRANT OPTION"),
      rows(),
      TO,
      MARIADB,
    );
    expect(out.map((s) => s.summary)).toEqual(['GRANT RELOAD ON *.* WITH GRANT OPTION']);
    expect(JSON.stringify(out)).not.toContain('SECRETHASH');
  });
});

describe('objectName and privilegeColumn', () => {
  it.each([
    ['`d`.`t`', { schema: 'd', name: 't' }],
    ['`d``x`.`a.b`', { schema: 'd`x', name: 'a.b' }],
    ['PROCEDURE `d`.`p`', { routineType: 'PROCEDURE', schema: 'd', name: 'p' }],
    ['PACKAGE BODY `d`.`p`', { routineType: 'PACKAGE BODY', schema: 'd', name: 'p' }],
    ['d.t', { schema: 'd', name: 't' }],
    ['*.*', undefined],
    ['`d`.*', undefined],
  ])('%s', (object, expected) => {
    expect(objectName(object)).toEqual(expected);
  });

  it('reads the column of a column privilege', () => {
    expect(privilegeColumn('UPDATE (`a``b`)')).toBe('a`b');
    expect(privilegeColumn('SELECT')).toBeUndefined();
  });

  it('a revoke on a table carries the object and privileges, so stale ones can be left in place', () => {
    const [revoke] = planGrantSync(rows(), rows('GRANT SELECT, UPDATE (`a`) ON `d`.`t` TO `c`@`%`'), TO, MARIADB);
    expect(revoke!.revokes).toEqual({ object: '`d`.`t`', kind: 'table', privileges: ['SELECT', 'UPDATE (`a`)'] });
  });
});

describe('privilegeList', () => {
  it('groups the columns of one privilege', () => {
    expect(privilegeList(['SELECT', 'UPDATE (`a`)', 'INSERT (`x`)', 'UPDATE (`b`)'])).toBe('SELECT, UPDATE (`a`, `b`), INSERT (`x`)');
  });
});

describe('the statement lexer', () => {
  it('keeps quoted text whole and tracks parentheses', () => {
    const tokens = tokenize("GRANT SELECT (`a)`) ON x TO 'u''s'@'%'");
    expect(tokens.map((t) => t.text)).toEqual(['GRANT', 'SELECT', '(', '`a)`', ')', 'ON', 'x', 'TO', "'u''s'", '@', "'%'"]);
    expect(tokens[3]!.depth).toBe(1);
    expect(tokens[7]!.depth).toBe(0);
  });

  it('unquotes identifiers and strings as the server reads them', () => {
    expect(unquote('`a``b`')).toBe('a`b');
    expect(unquote("'it''s'")).toBe("it's");
    expect(unquote("'a\\'b\\\\c'")).toBe("a'b\\c");
    expect(unquote('bare')).toBe('bare');
  });
});
