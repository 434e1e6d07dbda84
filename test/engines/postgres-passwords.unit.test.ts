/**
 * The PostgreSQL password change on recorded sessions: the statements a read-only role, a role whose
 * sessions switch role, RDS's restricted password commands, a role at its connection limit and a
 * password that changes under SASLprep get, and what is refused before any change.
 */
import { AuthenticationError, DatabaseError, SecretValidationError } from '../../shared/errors';
import { setOwnPostgresPassword, setPostgresPasswordAsMaster } from '../../shared/engines/postgres-passwords';
import { postgresEngine } from '../../shared/engines/postgres';
import {
  SERVER_INFO_SQL,
  passwordTransactionSql,
  restorePasswordSql,
  setPasswordAsMasterSql,
  storesMd5,
} from '../../shared/engines/postgres-sql';
import type { Row, ServerInfo, SqlSession } from '../../shared/rotation/database-engine';

const server: ServerInfo = { flavor: 'postgres', aurora: false, major: 15, minor: 0, patch: 0, version: '15.0' };
const password = 'New-Password-42';

interface Recorded extends SqlSession {
  readonly sql: string[];
}

/** Answers the server-info read with `facts`, the role's password_encryption read with `roleEncryption`; `fail` throws for matching statements. */
function session(facts: Row, options: { roleEncryption?: string; fail?: (sql: string) => Error | undefined } = {}): Recorded {
  const sql: string[] = [];
  return {
    sql,
    async query(text) {
      sql.push(text);
      const failure = options.fail?.(text);
      if (failure !== undefined) throw failure;
      if (text === SERVER_INFO_SQL)
        return [{ version_num: '150000', version: '15.0', aurora: false, password_encryption: 'scram-sha-256', ...facts }];
      if (text.includes('pg_db_role_setting')) return [{ password_encryption: options.roleEncryption ?? 'scram-sha-256' }];
      return [];
    },
    async close() {},
  };
}

async function prepared(facts: Row, options?: Parameters<typeof session>[1]): Promise<Recorded> {
  const s = session(facts, options);
  await postgresEngine.serverInfo(s);
  return s;
}

const changes = (s: Recorded): string[] => s.sql.filter((q) => q !== SERVER_INFO_SQL);
const insufficientPrivilege = (): Error =>
  new DatabaseError('PostgreSQL as the current user: a statement was refused (error 42501)', { cause: { name: 'error', code: '42501' } });

describe('statements', () => {
  it('the master sets the password only: no LOGIN, no VALID UNTIL', () => {
    expect(setPasswordAsMasterSql('app', 'h')).toBe(`ALTER ROLE "app" WITH PASSWORD 'h'`);
  });

  it('puts a stored verifier back as it was, or NULL', () => {
    expect(restorePasswordSql('a"b', 'SCRAM-SHA-256$4096:x')).toBe(`ALTER ROLE "a""b" WITH PASSWORD 'SCRAM-SHA-256$4096:x'`);
    expect(restorePasswordSql('app', null)).toBe('ALTER ROLE "app" WITH PASSWORD NULL');
  });

  it('opens a READ WRITE transaction, as the login role when the session switched role', () => {
    expect(passwordTransactionSql(false)).toBe('BEGIN READ WRITE');
    expect(passwordTransactionSql(true)).toBe('BEGIN READ WRITE; SET LOCAL ROLE NONE');
  });

  it.each([
    ['md5', true],
    ['MD5 ', true],
    ['on', true],
    ['scram-sha-256', false],
    ['off', false],
  ])('password_encryption %j stores md5: %s', (value, md5) => {
    expect(storesMd5(value)).toBe(md5);
  });
});

describe('the role changes its own password', () => {
  it('in one statement on an ordinary session', async () => {
    const s = await prepared({ read_only: false, role_switched: false });
    await setOwnPostgresPassword(s, server, { username: 'app', password });
    expect(changes(s)).toEqual([expect.stringMatching(/^ALTER ROLE "app" WITH PASSWORD 'SCRAM-SHA-256\$4096:/)]);
    expect(s.sql.join('\n')).not.toContain(password);
  });

  it('in a READ WRITE transaction when the session is read-only (default_transaction_read_only)', async () => {
    const s = await prepared({ read_only: true, role_switched: false });
    await setOwnPostgresPassword(s, server, { username: 'app', password });
    expect(changes(s)).toEqual(['BEGIN READ WRITE', expect.stringMatching(/^ALTER ROLE "app" WITH PASSWORD /), 'COMMIT']);
  });

  it('as the login role when its sessions SET role to another', async () => {
    const s = await prepared({ read_only: false, role_switched: true });
    await setOwnPostgresPassword(s, server, { username: 'app', password });
    expect(changes(s)[0]).toBe('BEGIN READ WRITE; SET LOCAL ROLE NONE');
  });

  it('rolls the transaction back when the change fails', async () => {
    const s = await prepared({ read_only: true }, { fail: (q) => (q.startsWith('ALTER ROLE') ? new DatabaseError('refused') : undefined) });
    await expect(setOwnPostgresPassword(s, server, { username: 'app', password })).rejects.toBeInstanceOf(DatabaseError);
    expect(changes(s)).toEqual(['BEGIN READ WRITE', expect.stringMatching(/^ALTER ROLE/), 'ROLLBACK']);
  });

  it('keeps md5 when password_encryption is md5', async () => {
    const s = await prepared({ password_encryption: 'md5' });
    await setOwnPostgresPassword(s, server, { username: 'app', password });
    expect(changes(s)).toEqual([expect.stringMatching(/^ALTER ROLE "app" WITH PASSWORD 'md5[0-9a-f]{32}'$/)]);
  });
});

describe('refused before any change', () => {
  it.each([
    ['a no-break space', 'pass\u00a0word-123'],
    ['a soft hyphen', 'pass\u00adword-123'],
    ['a full-width letter', 'ｐassword-123'],
    ['a ligature', 'ﬁle-password-123'],
    ['a decomposed accent', 'cafe\u0301-password'],
  ])('a new password with %s (it changes under SASLprep)', async (_what, unstable) => {
    const s = await prepared({});
    const err = await setOwnPostgresPassword(s, server, { username: 'app', password: unstable }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SecretValidationError);
    expect(String((err as Error).message)).toMatch(/SASLprep/);
    expect(String((err as Error).message)).not.toContain(unstable);
    expect(changes(s)).toEqual([]);
    const master = await prepared({ superuser: true });
    await expect(setPostgresPasswordAsMaster(master, server, 'app', unstable)).rejects.toBeInstanceOf(SecretValidationError);
    expect(changes(master)).toEqual([]);
  });

  it('accepts non-ASCII that SASLprep leaves alone', async () => {
    const s = await prepared({});
    await setOwnPostgresPassword(s, server, { username: 'app', password: 'Grüße-密码-пароль' });
    expect(changes(s)).toHaveLength(1);
  });

  it("puts back the session's own password even when it changes under SASLprep (it just logged in)", async () => {
    const s = await prepared({});
    await setOwnPostgresPassword(s, server, { username: 'app', password });
    await setOwnPostgresPassword(s, server, { username: 'app', password: 'old\u00a0password' });
    expect(changes(s)).toHaveLength(2);
  });

  it.each([
    [{ role_connection_limit: 2, role_sessions: 2 }, /CONNECTION LIMIT 2 with 2 sessions/],
    [{ role_connection_limit: 1, role_sessions: 1 }, /CONNECTION LIMIT 1 with 1 sessions/],
    [{ role_connection_limit: -1, database_connection_limit: 3, database_sessions: 3 }, /database has CONNECTION LIMIT 3/],
  ])('no room for the proving login: %j', async (facts, message) => {
    const s = await prepared(facts);
    const err = await setOwnPostgresPassword(s, server, { username: 'app', password }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).reason).toBe('connection-limit');
    expect(String((err as Error).message)).toMatch(message);
    expect(changes(s)).toEqual([]);
  });

  it('room for one more login, or a superuser (exempt): changes', async () => {
    for (const facts of [
      { role_connection_limit: 3, role_sessions: 2 },
      { superuser: true, role_connection_limit: 1, role_sessions: 1 },
    ]) {
      const s = await prepared(facts);
      await setOwnPostgresPassword(s, server, { username: 'app', password });
      expect(changes(s)).toHaveLength(1);
    }
  });
});

describe('RDS rds.restrict_password_commands', () => {
  const restricted = { restrict_password_commands: 'on' };
  const refuseOwnChange = (q: string): Error | undefined => (q.startsWith('ALTER ROLE') ? insufficientPrivilege() : undefined);

  it('the master changes the password when the secret names one, in the role password_encryption', async () => {
    const s = await prepared(restricted, { fail: refuseOwnChange });
    const master = await prepared({ superuser: true }, { roleEncryption: 'md5' });
    let opened = 0;
    await setOwnPostgresPassword(s, server, {
      username: 'app',
      password,
      master: async () => {
        opened++;
        return master;
      },
    });
    expect(opened).toBe(1);
    expect(changes(master)).toEqual([
      expect.stringContaining('pg_db_role_setting'),
      expect.stringMatching(/^ALTER ROLE "app" WITH PASSWORD 'md5[0-9a-f]{32}'$/),
    ]);
  });

  it('without a master: a DatabaseError naming the setting', async () => {
    const s = await prepared(restricted, { fail: refuseOwnChange });
    const err = await setOwnPostgresPassword(s, server, { username: 'app', password }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DatabaseError);
    expect(String((err as Error).message)).toMatch(/rds\.restrict_password_commands/);
  });

  it('a 42501 without the setting is not taken for it: the error stands and no master is asked', async () => {
    const s = await prepared({}, { fail: refuseOwnChange });
    const master = jest.fn();
    await expect(setOwnPostgresPassword(s, server, { username: 'app', password, master })).rejects.toThrow(/42501/);
    expect(master).not.toHaveBeenCalled();
  });
});
