/**
 * The MySQL/MariaDB equivalence check itself, on the local MariaDB: two users made alike (apart from
 * name and password) pass; each kind of difference the alternate user must not have is caught.
 */
import type { Connection } from 'mysql2/promise';
import { mysqlNativePasswordHash } from '../../shared/engines/password-hashes';
import { assertMysqlEquivalent, mysqlDifferences, normaliseCreateUser, normaliseGrantRow } from '../support/mysql-equivalence';
import {
  cloneTestName,
  cloneTestPassword,
  connectMysqlAdmin,
  createCloneWorld,
  dropUsers,
  type CloneWorld,
} from '../support/mysql-fixture-accounts';

let admin: Connection;
let world: CloneWorld;
const original = cloneTestName();
const alternate = `${original}_clone`;

beforeAll(async () => {
  admin = await connectMysqlAdmin();
  world = await createCloneWorld(admin);
  await world.createFullAccount(original, cloneTestPassword());
});

afterAll(async () => {
  await world.drop([original, alternate]);
  await admin.end();
});

beforeEach(async () => {
  await dropUsers(admin, [alternate]);
  await world.createFullAccount(alternate, cloneTestPassword());
});

describe('assertMysqlEquivalent', () => {
  it('passes for two users alike but for name and password', async () => {
    await expect(assertMysqlEquivalent(admin, original, alternate)).resolves.toBeUndefined();
  });

  it('fails when the original does not exist', async () => {
    await expect(assertMysqlEquivalent(admin, `${original}_none`, alternate)).rejects.toThrow(/has no account/);
  });

  const acct = (host = '%'): string => `'${alternate}'@'${host}'`;
  const cases: Array<[string, () => string[], RegExp]> = [
    ['a global privilege', () => [`GRANT PROCESS ON *.* TO ${acct()}`], /@% grants/],
    ['a database privilege revoked', () => [`REVOKE INSERT ON \`${world.db}\`.* FROM ${acct()}`], /@% grants/],
    ['a table privilege', () => [`GRANT INSERT ON \`${world.db}\`.t TO ${acct('10.9.%')}`], /@10\.9\.% grants/],
    ['a column privilege', () => [`REVOKE UPDATE (b) ON \`${world.db}\`.t FROM ${acct()}`], /@% grants/],
    ['a routine privilege', () => [`REVOKE EXECUTE ON PROCEDURE \`${world.db}\`.p FROM ${acct()}`], /@% grants/],
    ['a proxy grant', () => [`REVOKE PROXY ON '${world.master.username}'@'%' FROM ${acct()}`], /@% grants/],
    ['a role grant', () => [`REVOKE \`${world.roles[1]}\` FROM ${acct()}`], /@% grants/],
    ['a role ADMIN OPTION', () => [`REVOKE ADMIN OPTION FOR \`${world.roles[0]}\` FROM ${acct()}`], /@% grants/],
    ['the default role', () => [`SET DEFAULT ROLE NONE FOR ${acct()}`], /default_role|SET DEFAULT ROLE/],
    ['WITH GRANT OPTION', () => [`REVOKE GRANT OPTION ON \`${world.db}\`.* FROM ${acct()}`], /@% grants/],
    ['the TLS requirement', () => [`ALTER USER ${acct('10.9.%')} REQUIRE SSL`], /@10\.9\.% (create user|global_priv)/],
    ['a resource limit', () => [`ALTER USER ${acct()} WITH MAX_QUERIES_PER_HOUR 7`], /@% (create user|global_priv)/],
    ['MAX_STATEMENT_TIME', () => [`ALTER USER ${acct()} WITH MAX_STATEMENT_TIME 0`], /@% (create user|global_priv)/],
    ['the password lifetime', () => [`ALTER USER ${acct()} PASSWORD EXPIRE NEVER`], /@% (create user|global_priv)/],
    ['the password lifetime back to the default', () => [`ALTER USER ${acct()} PASSWORD EXPIRE DEFAULT`], /@% (create user|global_priv)/],
    [
      'the authentication chain',
      () => [`ALTER USER ${acct()} IDENTIFIED VIA mysql_native_password USING '${mysqlNativePasswordHash(cloneTestPassword())}'`],
      /@% (create user|global_priv)/,
    ],
    ['the account lock', () => [`ALTER USER ${acct('10.9.%')} ACCOUNT UNLOCK`], /@10\.9\.% (create user|global_priv)/],
    ['an extra host entry', () => [`CREATE USER ${acct('10.8.%')}`], /host entries/],
    ['a missing host entry', () => [`DROP USER ${acct('10.9.%')}`], /host entries/],
  ];

  it.each(cases)('catches %s', async (_what, statements, where) => {
    for (const sql of statements()) await world.masterConnection.query(sql);
    const differences = await mysqlDifferences(admin, original, alternate);
    expect(differences.join('\n')).toMatch(where);
    await expect(assertMysqlEquivalent(admin, original, alternate)).rejects.toThrow(/differ/);
  });

  it('names no password hash in what it reports', async () => {
    await world.masterConnection.query(`ALTER USER ${acct()} WITH MAX_QUERIES_PER_HOUR 7`);
    const [rows] = await admin.query('SELECT authentication_string AS a FROM mysql.user WHERE User IN (?, ?)', [original, alternate]);
    const hashes = (rows as Array<{ a: string }>).map((r) => String(r.a)).filter((h) => h.length > 0);
    expect(hashes.length).toBeGreaterThan(0);
    const text = (await mysqlDifferences(admin, original, alternate)).join('\n');
    for (const h of hashes) expect(text).not.toContain(h);
  });
});

describe('the normalisation', () => {
  it('replaces the grantee and drops the IDENTIFIED part of a grant row, sorting column lists', () => {
    expect(
      normaliseGrantRow(
        "GRANT USAGE ON *.* TO `a``b`@`%` IDENTIFIED BY PASSWORD '*AB' REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 3",
        'a`b',
        '%',
      ),
    ).toBe('GRANT USAGE ON *.* TO <grantee> REQUIRE SSL WITH MAX_QUERIES_PER_HOUR 3');
    expect(normaliseGrantRow('GRANT UPDATE (`b`, `a`) ON `d`.`t` TO `u`@`h`', 'u', 'h')).toBe(
      'GRANT UPDATE (`a`, `b`) ON `d` . `t` TO <grantee>',
    );
  });

  it('replaces the name and password strings of SHOW CREATE USER, keeping non-password USING and the lifetime', () => {
    expect(
      normaliseCreateUser(
        "CREATE USER `u`@`%` IDENTIFIED VIA mysql_native_password USING '*AB' OR pam USING 'svc' REQUIRE SSL PASSWORD EXPIRE INTERVAL 9 DAY",
      ),
    ).toBe(
      "CREATE USER <user> IDENTIFIED VIA mysql_native_password USING <password> OR pam USING 'svc' REQUIRE SSL PASSWORD EXPIRE INTERVAL 9 DAY",
    );
    expect(normaliseCreateUser("CREATE USER 'u'@'%' IDENTIFIED WITH 'caching_sha2_password' AS '$A$005$x' PASSWORD EXPIRE")).toBe(
      "CREATE USER <user> IDENTIFIED WITH 'caching_sha2_password' AS <password>",
    );
  });
});
