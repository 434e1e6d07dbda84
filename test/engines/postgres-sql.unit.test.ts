/** The statements the PostgreSQL engine sends, per server version (only 15 runs here). */
import {
  createRoleSql,
  defaultRoleSql,
  grantMembershipSql,
  passwordHash,
  postgresServerInfo,
  postgresUsernameProblem,
  setPasswordSql,
} from '../../shared/engines/postgres-sql';
import { postgresEngine } from '../../shared/engines/postgres';
import type { Row, ServerInfo, SqlSession } from '../../shared/rotation/database-engine';

const server = (major: number, aurora = false): ServerInfo => ({
  flavor: 'postgres',
  aurora,
  major,
  minor: 0,
  patch: 0,
  version: `${major}.0`,
});

/** Records statements; answers the engine's reads with `answers`. */
function recordingSession(answers: Record<string, Row[]>): SqlSession & { sql: string[] } {
  const sql: string[] = [];
  return {
    sql,
    async query(text) {
      sql.push(text);
      const key = Object.keys(answers).find((k) => text.includes(k));
      return key ? answers[key]! : [];
    },
    async close() {},
  };
}

describe('server version', () => {
  it.each([
    ['120017', 12, 17, 0],
    ['130013', 13, 13, 0],
    ['140010', 14, 10, 0],
    ['150004', 15, 4, 0],
    ['160002', 16, 2, 0],
    ['170000', 17, 0, 0],
    ['90624', 9, 6, 24],
  ])('%s → %i.%i.%i', (num, major, minor, patch) => {
    expect(postgresServerInfo(num, 'x', false)).toMatchObject({ flavor: 'postgres', major, minor, patch });
  });
});

describe('membership grant', () => {
  it.each([12, 13, 14, 15])('PostgreSQL %i: plain GRANT (membership implies SET and INHERIT)', (major) => {
    expect(grantMembershipSql('app', 'app_clone', server(major))).toBe('GRANT "app" TO "app_clone"');
  });
  it.each([16, 17])('PostgreSQL %i: INHERIT and SET asked for explicitly', (major) => {
    expect(grantMembershipSql('app', 'app_clone', server(major))).toBe('GRANT "app" TO "app_clone" WITH INHERIT TRUE, SET TRUE');
  });
  it('Aurora PostgreSQL follows its engine version', () => {
    expect(grantMembershipSql('app', 'app_clone', server(16, true))).toBe(grantMembershipSql('app', 'app_clone', server(16)));
  });
});

describe('passwords never in the SQL', () => {
  const password = 'Plain-Text-Password-42';
  it('sends a SCRAM verifier by default and md5 when password_encryption is md5', () => {
    expect(passwordHash(password, 'app', 'scram-sha-256')).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(passwordHash(password, 'app', 'md5')).toMatch(/^md5[0-9a-f]{32}$/);
  });
  it('quotes identifiers exactly (quotes, spaces, capitals, unicode)', () => {
    const name = 'My "Odd" Üser';
    expect(setPasswordSql(name, 'SCRAM-SHA-256$x')).toBe(`ALTER ROLE "My ""Odd"" Üser" WITH PASSWORD 'SCRAM-SHA-256$x'`);
    expect(createRoleSql("o'brien", 'h')).toBe(`CREATE ROLE "o'brien" WITH LOGIN PASSWORD 'h'`);
    expect(defaultRoleSql('a_clone', "o'brien")).toBe(`ALTER ROLE "a_clone" SET role = 'o''brien'`);
  });

  // The alternate user's statements per version are tested in test/accounts/postgres-alternate-sql.test.ts.

  it('rolls back when a statement fails', async () => {
    const session = recordingSession({ password_encryption: [{ password_encryption: 'scram-sha-256' }] });
    const failing: SqlSession = {
      query: async (text, params) => {
        if (text.startsWith('GRANT')) throw new Error('denied');
        return session.query(text, params);
      },
      close: async () => {},
    };
    await expect(
      postgresEngine.syncAlternateUser(failing, server(15), { currentUsername: 'app', alternateUsername: 'app_clone', password }),
    ).rejects.toThrow();
    expect(session.sql).toContain('ROLLBACK');
    expect(session.sql).not.toContain('COMMIT');
  });
});

describe('username limits', () => {
  it('counts bytes, not characters: 63 bytes fit, 64 do not', () => {
    expect(postgresUsernameProblem('a'.repeat(63))).toBeUndefined();
    expect(postgresUsernameProblem('a'.repeat(64))).toMatch(/64 bytes/);
    expect(postgresUsernameProblem('é'.repeat(32))).toMatch(/64 bytes/);
    expect(postgresUsernameProblem('')).toBeDefined();
  });
});
