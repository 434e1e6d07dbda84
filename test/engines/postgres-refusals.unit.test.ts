/**
 * PostgreSQL refusals without a server: what a login SQLSTATE alone may say, which pg_hba line a login
 * meets, and the diagnosis's rules on catalog rows a fake master session returns (the live cells are in
 * test/accounts/).
 */
import { isAuthenticationFailure } from '../../shared/auth-errors';
import { classifyConnectError } from '../../shared/engines/driver-errors';
import { postgresMd5Hash, scramSha256Verifier } from '../../shared/engines/password-hashes';
import { hbaVerdict, type HbaLogin, type HbaRule } from '../../shared/engines/postgres-hba';
import { diagnosePostgresRefusal, postgresRefusalReasonFromCode, savePostgresPassword } from '../../shared/engines/postgres-refusals';
import { AuthenticationError } from '../../shared/errors';
import type { Row, ServerInfo, SqlSession } from '../../shared/rotation/database-engine';

const server: ServerInfo = { flavor: 'postgres', aurora: false, major: 15, minor: 0, patch: 0, version: '15.0' };
const ctx = { family: 'postgres' as const, role: 'current' as const, secretId: 'arn:s', step: 'setSecret' };
const driverError = (code: string) => Object.assign(new Error('password authentication failed for user "app" hunter2'), { code });

describe('the SQLSTATE alone', () => {
  it.each([
    ['28P01', 'undetermined', /28P01: a wrong password, an expired role \(VALID UNTIL\), a missing role/],
    ['28000', 'undetermined', /28000: no pg_hba\.conf line admits this address.*NOLOGIN/],
    ['53300', 'connection-limit', /53300: the role's or the database's CONNECTION LIMIT/],
  ])('%s is an AuthenticationError with reason %s naming what it can stand for', (code, reason, message) => {
    const typed = classifyConnectError(driverError(code), ctx);
    expect(typed).toBeInstanceOf(AuthenticationError);
    expect((typed as AuthenticationError).reason).toBe(reason);
    expect(typed.message).toMatch(message);
    expect(typed.message).not.toContain('hunter2');
    expect(postgresRefusalReasonFromCode(code)).toBe(reason);
  });

  it('a connection-limit refusal is no stale credential for withSecret', () => {
    expect(isAuthenticationFailure(classifyConnectError(driverError('53300'), ctx))).toBe(false);
    expect(isAuthenticationFailure(classifyConnectError(driverError('28P01'), ctx))).toBe(true);
    expect(isAuthenticationFailure(driverError('53300'))).toBe(false);
  });

  it('never says wrong-password: 28P01 is also an expired or missing role', () => {
    for (const code of ['28P01', '28000', '53300', undefined]) expect(postgresRefusalReasonFromCode(code)).not.toBe('wrong-password');
  });
});

describe('pg_hba: the line a login meets', () => {
  const login: HbaLogin = { username: 'app', database: 'appdb', ssl: false, memberOf: new Set(['apps']) };
  const rule = (line: number, fields: Partial<HbaRule>): HbaRule => ({
    line,
    type: 'host',
    databases: ['all'],
    users: ['all'],
    method: 'scram-sha-256',
    options: [],
    error: null,
    addressMatches: true,
    ...fields,
  });

  it.each<[string, HbaRule[], string]>([
    ['no line', [rule(1, { addressMatches: false })], 'no-entry'],
    ['local lines never match TCP', [rule(1, { type: 'local' })], 'no-entry'],
    ['hostssl needs TLS', [rule(1, { type: 'hostssl', method: 'cert' }), rule(2, {})], 'line 2'],
    ['hostnossl matches without TLS', [rule(1, { type: 'hostnossl', method: 'reject' })], 'line 1'],
    ['hostgssenc never matches', [rule(1, { type: 'hostgssenc' })], 'no-entry'],
    ['the first match wins', [rule(1, { method: 'reject' }), rule(2, {})], 'line 1'],
    ['a named database', [rule(1, { databases: ['other'] }), rule(2, { databases: ['appdb'], method: 'md5' })], 'line 2'],
    ['sameuser', [rule(1, { databases: ['sameuser'] })], 'no-entry'],
    ['samerole (a member of the role named like the database)', [rule(1, { databases: ['samerole'] })], 'no-entry'],
    ['replication lines are not for logins', [rule(1, { databases: ['replication'] })], 'no-entry'],
    ['a named user', [rule(1, { users: ['bob'] }), rule(2, { users: ['bob', 'app'] })], 'line 2'],
    ['+group', [rule(1, { users: ['+admins'] }), rule(2, { users: ['+apps'], method: 'ldap' })], 'line 2'],
    ['an address that cannot be told (host name) before a match', [rule(1, { addressMatches: null }), rule(2, {})], 'unknown'],
    ['a regular expression before a match', [rule(1, { users: ['/^a'] }), rule(2, {})], 'unknown'],
    ['an address that cannot be told after a match is irrelevant', [rule(1, {}), rule(2, { addressMatches: null })], 'line 1'],
    ['a file with an error is not trusted', [rule(1, {}), rule(2, { error: 'invalid authentication method' })], 'unknown'],
  ])('%s', (_what, rules, expected) => {
    const verdict = hbaVerdict(rules, login);
    expect(verdict.kind === 'line' ? `line ${verdict.rule.line}` : verdict.kind).toBe(expected);
  });

  // pg_hba_file_rules shows `"all"` (the role named all) as `all`, `"+apps"` (the role named +apps) as `+apps`.
  it.each<[string, HbaRule[], Partial<HbaLogin>, string]>([
    [
      '"all" may be the role named all, which exists',
      [rule(1, { users: ['all'], method: 'reject' })],
      { existingRoles: new Set(['all']) },
      'unknown',
    ],
    ['all is the keyword when no role is named all', [rule(1, { users: ['all'], method: 'reject' })], {}, 'line 1'],
    [
      'all matches the role named all either way',
      [rule(1, { users: ['all'] })],
      { username: 'all', existingRoles: new Set(['all']) },
      'line 1',
    ],
    [
      '"+apps" may be the role named +apps, which exists',
      [rule(1, { users: ['+apps'] })],
      { existingRoles: new Set(['+apps']) },
      'unknown',
    ],
    [
      '+admins names no group of this role, nor this role, either way',
      [rule(1, { users: ['+admins'] }), rule(2, {})],
      { existingRoles: new Set(['+admins']) },
      'line 2',
    ],
    [
      'the role named +apps meets "+apps"',
      [rule(1, { users: ['+apps'] })],
      { username: '+apps', memberOf: new Set(), existingRoles: new Set(['+apps']) },
      'unknown',
    ],
    [
      '"sameuser" may be the database named sameuser',
      [rule(1, { databases: ['sameuser'] })],
      { database: 'sameuser', existingDatabases: new Set(['sameuser']) },
      'unknown',
    ],
    [
      '"replication" may be the database named replication',
      [rule(1, { databases: ['replication'] })],
      { database: 'replication', existingDatabases: new Set(['replication']) },
      'unknown',
    ],
    [
      '"all" may be the database named all, which exists',
      [rule(1, { databases: ['all'] })],
      { existingDatabases: new Set(['all']) },
      'unknown',
    ],
  ])('%s', (_what, rules, facts, expected) => {
    const verdict = hbaVerdict(rules, { ...login, ...facts });
    expect(verdict.kind === 'line' ? `line ${verdict.rule.line}` : verdict.kind).toBe(expected);
  });

  it('hostssl matches a TLS login; samerole matches a member', () => {
    expect(hbaVerdict([rule(1, { type: 'hostssl' })], { ...login, ssl: true }).kind).toBe('line');
    expect(hbaVerdict([rule(1, { databases: ['samerole'] })], { ...login, memberOf: new Set(['appdb']) }).kind).toBe('line');
  });
});

/** A master session answering the diagnosis's reads from `role` (ROLE_STATE), `stored` (pg_authid) and `hba` rows. */
function masterSession(role: Row, stored?: { rolpassword: string | null }, hba: Row[] = []): SqlSession & { sql: string[] } {
  const sql: string[] = [];
  return {
    sql,
    async query(text) {
      sql.push(text);
      if (text.includes('LEFT JOIN pg_catalog.pg_roles r')) return [role];
      if (text.includes('FROM pg_catalog.pg_authid')) return stored === undefined ? [] : [stored];
      if (text.includes('pg_hba_file_rules')) return hba;
      if (text.includes("has_table_privilege('pg_catalog.pg_authid'")) return [{ readable: role.can_read_authid === true }];
      return [];
    },
    async close() {},
  };
}

const fine: Row = {
  role_exists: true,
  can_login: true,
  superuser: false,
  expired: false,
  role_connection_limit: -1,
  database_connection_limit: -1,
  role_sessions: 0,
  database_sessions: 1,
  iam: false,
  database: 'postgres',
  client_address: '10.0.0.7',
  ssl: false,
  can_read_authid: true,
  can_read_hba: false,
};
const refusal = (code: string) => new AuthenticationError('refused', { cause: { name: 'error', code } });

describe('the diagnosis as the master', () => {
  const password = 'the-secret-password-1';

  it('proves drift only when the password does not verify and the refusal was a password check', async () => {
    const stored = { rolpassword: scramSha256Verifier('someone-else-set-this') };
    await expect(
      diagnosePostgresRefusal(masterSession(fine, stored), server, { username: 'app', password, error: refusal('28P01') }),
    ).resolves.toMatchObject({
      reason: 'wrong-password',
    });
    const not = await diagnosePostgresRefusal(masterSession(fine, stored), server, { username: 'app', password, error: refusal('28000') });
    expect(not.reason).toBe('undetermined');
  });

  it('a password that verifies is not drift, against SCRAM and md5', async () => {
    for (const rolpassword of [scramSha256Verifier(password), postgresMd5Hash(password, 'app')]) {
      const d = await diagnosePostgresRefusal(masterSession(fine, { rolpassword }), server, {
        username: 'app',
        password,
        error: refusal('28P01'),
      });
      expect(d).toEqual({ reason: 'undetermined', detail: 'the password matches the stored verifier: it has not drifted' });
    }
  });

  it('an RDS IAM role is not healed', async () => {
    const d = await diagnosePostgresRefusal(masterSession({ ...fine, iam: true, can_read_authid: false }), server, {
      username: 'app',
      password,
      error: refusal('28000'),
    });
    expect(d.reason).toBe('unsupported-auth-plugin');
    expect(d.detail).toMatch(/rds_iam/);
  });

  it('by elimination without pg_authid: only for 28P01 on a role that is otherwise fine', async () => {
    const rds = { ...fine, can_read_authid: false };
    const d = await diagnosePostgresRefusal(masterSession(rds), server, { username: 'app', password, error: refusal('28P01') });
    expect(d.reason).toBe('wrong-password');
    expect(d.detail).toMatch(/by elimination/);
    for (const role of [
      { ...rds, expired: true, valid_until: '2001-01-01' },
      { ...rds, can_login: false },
      { ...rds, role_connection_limit: 2, role_sessions: 2 },
    ]) {
      expect(
        (await diagnosePostgresRefusal(masterSession(role), server, { username: 'app', password, error: refusal('28P01') })).reason,
      ).not.toBe('wrong-password');
    }
    expect((await diagnosePostgresRefusal(masterSession(rds), server, { username: 'app', password, error: refusal('28000') })).reason).toBe(
      'undetermined',
    );
  });

  it("places hostssl lines by the refused login's own TLS, not the master's, and names client certificates", async () => {
    const line = (line_number: number, type: string, auth_method: string, options: string[] | null = null): Row => ({
      line_number,
      type,
      database: ['all'],
      user_name: ['all'],
      auth_method,
      options,
      error: null,
      address_matches: true,
    });
    const overTls = { ...fine, ssl: true, can_read_hba: true };
    const plain = new AuthenticationError('refused', { cause: { name: 'error', code: '28000' }, tls: false });
    const sslOnly = await diagnosePostgresRefusal(masterSession(overTls, undefined, [line(1, 'hostssl', 'scram-sha-256')]), server, {
      username: 'app',
      password,
      error: plain,
    });
    expect(sslOnly.reason).toBe('host-not-allowed');
    expect(sslOnly.detail).toMatch(/without TLS \(line 1 admits it over TLS only: set "ssl": true in the secret\)/);
    for (const [rule, named] of [
      [line(1, 'hostssl', 'scram-sha-256', ['clientcert=verify-full']), /clientcert=verify-full/],
      [line(1, 'hostssl', 'cert'), /the cert method/],
    ] as const) {
      const d = await diagnosePostgresRefusal(masterSession(overTls, undefined, [rule]), server, {
        username: 'app',
        password,
        error: refusal('28000'),
      });
      expect(d.reason).toBe('client-certificate-required');
      expect(d.detail).toMatch(named);
    }
  });

  it('53300 with no role or database limit reached names the server', async () => {
    const d = await diagnosePostgresRefusal(masterSession({ ...fine, server_sessions: 97, max_connections: 100 }), server, {
      username: 'app',
      password,
      error: refusal('53300'),
    });
    expect(d.reason).toBe('connection-limit');
    expect(d.detail).toMatch(/max_connections 100/);
  });

  it('the detail never holds the password or the verifier', async () => {
    const rolpassword = scramSha256Verifier('someone-else-set-this');
    const d = await diagnosePostgresRefusal(masterSession({ ...fine, expired: true, valid_until: 'x' }, { rolpassword }), server, {
      username: 'app',
      password,
      error: refusal('28P01'),
    });
    expect(d.detail).not.toContain(password);
    expect(d.detail).not.toContain(rolpassword.split('$')[2]!);
  });

  it('saves the stored password only where pg_authid is readable, and puts it back exactly', async () => {
    expect(await savePostgresPassword(masterSession({ can_read_authid: false }), server, 'app')).toBeUndefined();
    const verifier = scramSha256Verifier('x-1');
    const restore = await savePostgresPassword(masterSession({ can_read_authid: true }, { rolpassword: verifier }), server, 'app');
    const target = masterSession({});
    await restore!(target);
    expect(target.sql).toEqual(['BEGIN READ WRITE', `ALTER ROLE "app" WITH PASSWORD '${verifier}'`, 'COMMIT']);
  });
});
