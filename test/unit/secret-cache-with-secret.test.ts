import { Client } from 'pg';
import { createConnection } from 'mysql2/promise';
import { SecretCache } from '../../shared/secret-cache';
import { isAuthenticationFailure, isMysqlAuthFailure, isPostgresAuthFailure } from '../../shared/auth-errors';
import { AuthenticationError, DatabaseError, ThrottledError } from '../../shared/errors';
import { FakeSecretsClient, ManualClock, sdkError } from '../support/secret-cache-fakes';

const OLD = 'old-Passw0rd-value-1';
const NEW = 'new-Passw0rd-value-2';
const ID = 'app/db';

/** A database that accepts exactly one password, failing others as pg does (SQLSTATE 28P01). */
function database(accepted: () => string) {
  const logins: string[] = [];
  const query = async (secret: unknown): Promise<string> => {
    const password = (secret as { password: string }).password;
    logins.push(password);
    if (password !== accepted()) throw Object.assign(new Error('password authentication failed for user "app"'), { code: '28P01' });
    return 'rows';
  };
  return { logins, query };
}

function setup() {
  const client = new FakeSecretsClient();
  const clock = new ManualClock();
  const cache = new SecretCache({ client: client.asClient(), clock: clock.now, random: () => 0.5 });
  return { client, clock, cache };
}

describe('SecretCache.withSecret', () => {
  it('runs fn once with the cached value when it works', async () => {
    const { client, cache } = setup();
    client.put(ID, { password: OLD });
    const db = database(() => OLD);
    await expect(cache.withSecret(ID, db.query)).resolves.toBe('rows');
    await expect(cache.withSecret(ID, db.query)).resolves.toBe('rows');
    expect(client.count()).toBe(1);
  });

  it('after an authentication failure force-refreshes AWSCURRENT and retries with the new value', async () => {
    const { client, cache } = setup();
    client.put(ID, { password: OLD });
    await cache.getSecret(ID);
    client.put(ID, { password: NEW }); // rotated, cache still holds OLD
    const db = database(() => NEW);
    await expect(cache.withSecret(ID, db.query)).resolves.toBe('rows');
    expect(db.logins).toEqual([OLD, NEW]);
    expect(client.calls.map((c) => c.input.VersionStage ?? 'AWSCURRENT')).toEqual(['AWSCURRENT', 'AWSCURRENT']);
  });

  it('never calls fn with a value the caller says was refused: it goes straight to the refresh', async () => {
    const { client, cache } = setup();
    client.put(ID, { password: OLD });
    const refused = await cache.getSecret(ID);
    client.put(ID, { password: NEW });
    const db = database(() => NEW);
    await expect(cache.withSecret(ID, db.query, { refused: [refused] })).resolves.toBe('rows');
    expect(db.logins).toEqual([NEW]);
  });

  it('skips refused values at every stage and names the secret when nothing is left', async () => {
    const { client, cache } = setup();
    client.put(ID, { password: OLD });
    client.put(ID, { password: NEW }, 'AWSPENDING');
    const db = database(() => 'something-else-entirely');
    const err = await cache.withSecret(ID, db.query, { refused: [{ password: OLD }, { password: NEW }] }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).secretId).toBe(ID);
    expect(db.logins).toEqual([]);
  });

  it('between setSecret and finishSecret uses AWSPENDING, where the new password lives', async () => {
    const { client, cache } = setup();
    client.put(ID, { password: OLD });
    client.put(ID, { password: NEW }, 'AWSPENDING');
    const db = database(() => NEW); // the database already has the new password
    await expect(cache.withSecret(ID, db.query)).resolves.toBe('rows');
    expect(db.logins).toEqual([OLD, NEW]); // the unchanged AWSCURRENT is not tried twice
    expect(client.calls.map((c) => c.input.VersionStage ?? 'AWSCURRENT')).toEqual(['AWSCURRENT', 'AWSCURRENT', 'AWSPENDING']);
  });

  it('gives up with an AuthenticationError naming the secret, never the password, when nothing works', async () => {
    const { client, cache } = setup();
    client.put(ID, { password: OLD });
    const db = database(() => 'something-else-entirely');
    const err = await cache.withSecret(ID, db.query).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as AuthenticationError).secretId).toBe(ID);
    expect((err as AuthenticationError).causeSummary).toEqual({ name: 'Error', code: '28P01' });
    expect(`${String(err)} ${JSON.stringify(err)}`).not.toContain(OLD);
    expect(db.logins).toEqual([OLD]); // AWSPENDING NotFound is tolerated, AWSCURRENT unchanged
  });

  it('tolerates an AccessDenied on AWSPENDING (policies limited to AWSCURRENT)', async () => {
    const { client, cache } = setup();
    client.put(ID, { password: OLD });
    const db = database(() => NEW);
    await cache.getSecret(ID);
    client.failures.push(sdkError('ThrottlingException'), sdkError('AccessDeniedException'));
    await expect(cache.withSecret(ID, db.query)).rejects.toBeInstanceOf(AuthenticationError);
  });

  it('lets errors that are not authentication failures through untouched, without refreshing', async () => {
    const { client, cache } = setup();
    client.put(ID, { password: OLD });
    const boom = new DatabaseError('relation does not exist');
    await expect(cache.withSecret(ID, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(client.count()).toBe(1);
  });

  it('propagates a Secrets Manager failure of the refresh when no stale value may be served', async () => {
    const { client, cache } = setup();
    client.put(ID, { password: OLD });
    client.failures.push(sdkError('ThrottlingException'));
    await expect(cache.withSecret(ID, () => 'unused')).rejects.toBeInstanceOf(ThrottledError);
  });

  it('accepts a custom classifier', async () => {
    const { client, cache } = setup();
    client.put(ID, 'token-v1');
    await cache.getSecret(ID);
    client.put(ID, 'token-v2');
    const fn = jest.fn(async (value: unknown) => {
      if (value !== 'token-v2') throw Object.assign(new Error('unauthorized'), { status: 401 });
      return 'ok';
    });
    await expect(cache.withSecret(ID, fn, { isAuthError: (e) => (e as { status?: number }).status === 401 })).resolves.toBe('ok');
    expect(fn).toHaveBeenCalledTimes(2);
  });
});

describe('authentication-failure classifiers', () => {
  it('recognise codes, not messages', () => {
    expect(isPostgresAuthFailure({ code: '28P01' })).toBe(true);
    expect(isPostgresAuthFailure({ code: '28000' })).toBe(true);
    expect(isPostgresAuthFailure({ code: '42P01' })).toBe(false);
    expect(isMysqlAuthFailure({ errno: 1045, code: 'ER_ACCESS_DENIED_ERROR' })).toBe(true);
    expect(isMysqlAuthFailure({ errno: 1698 })).toBe(true);
    expect(isMysqlAuthFailure({ errno: 1044 })).toBe(false);
    expect(isAuthenticationFailure(new AuthenticationError('refused'))).toBe(true);
    expect(isAuthenticationFailure(new Error('password authentication failed for user "x"'))).toBe(false);
    expect(isAuthenticationFailure(new Error('Access denied for user'))).toBe(false);
    expect(isAuthenticationFailure(new Error('wrapped', { cause: { code: '28P01' } }))).toBe(true);
    expect(isAuthenticationFailure(null)).toBe(false);
  });

  it('recognise what the real pg and mysql2 drivers throw for a wrong password', async () => {
    const pg = new Client({
      host: '127.0.0.1',
      port: 5432,
      user: 'rt_no_such_role_zz',
      password: 'wrong-password-xyz',
      database: 'postgres',
    });
    const pgError = await pg.connect().catch((e: unknown) => e);
    await pg.end().catch(() => undefined);
    expect(isAuthenticationFailure(pgError)).toBe(true);

    // An existing account with a wrong password (1045), and an account that does not exist (MariaDB: 1698).
    for (const user of ['root', 'rt_no_such_user_zz']) {
      const mysqlError = await createConnection({ host: '127.0.0.1', port: 3306, user, password: 'wrong-password-xyz' })
        .then(async (c) => {
          await c.end();
          return undefined;
        })
        .catch((e: unknown) => e);
      expect(isAuthenticationFailure(mysqlError)).toBe(true);
    }
  });
});
