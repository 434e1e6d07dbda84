/** Driver failures become typed errors by code, with nothing of the driver's message or SQL kept. */
import { isAuthenticationFailure } from '../../shared/auth-errors';
import { classifyConnectError, classifyStatementError } from '../../shared/engines/driver-errors';
import { connectPostgres } from '../../shared/engines/postgres';
import { parseDatabaseSecret } from '../../shared/database-secret';
import { postgresAdminSettings } from '../../local/db-settings';

const ctx = { family: 'postgres' as const, role: 'current' as const, secretId: 'arn:s', step: 'setSecret' };
const err = (fields: Record<string, unknown>, message = 'password "hunter2-secret" in the message') =>
  Object.assign(new Error(message), fields);

describe('classifyConnectError', () => {
  it.each([
    [{ code: '28P01' }, 'AUTH_FAILED'],
    [{ code: '28000' }, 'AUTH_FAILED'],
    [{ errno: 1045, code: 'ER_ACCESS_DENIED_ERROR' }, 'AUTH_FAILED'],
    [{ errno: 1044 }, 'AUTH_FAILED'],
    [{ errno: 1698 }, 'AUTH_FAILED'],
    [{ code: 'ECONNREFUSED' }, 'NETWORK'],
    [{ code: 'EHOSTUNREACH' }, 'NETWORK'],
    [{ code: 'ENOTFOUND' }, 'NETWORK'],
    [{ code: 'ECONNRESET' }, 'NETWORK'],
    [{ code: 'ETIMEDOUT' }, 'TIMEOUT'],
    [{ code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, 'TLS'],
    [{ code: 'ERR_TLS_CERT_ALTNAME_INVALID' }, 'TLS'],
    [{ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 'TLS'],
    [{ code: 'SELF_SIGNED_CERT_IN_CHAIN' }, 'TLS'],
    [{ code: 'HANDSHAKE_NO_SSL_SUPPORT' }, 'TLS'],
    // The password checked out, the database refused the session: a refusal, told by its code alone.
    [{ code: '3D000' }, 'AUTH_FAILED'],
    [{ code: '42501' }, 'AUTH_FAILED'],
    [{ code: '55000' }, 'AUTH_FAILED'],
    [{ code: 'XX000' }, 'DATABASE'],
    [{}, 'DATABASE'],
  ])('%j → %s', (fields, code) => {
    const typed = classifyConnectError(err(fields), ctx);
    expect(typed.code).toBe(code);
    expect(typed.message).not.toContain('hunter2');
    expect(JSON.stringify(typed)).not.toContain('hunter2');
    expect(typed.secretId).toBe('arn:s');
  });

  it.each(['3D000', '42501', '55000'])('%s at login is database-not-allowed, which re-reading the secret would not cure', (code) => {
    const typed = classifyConnectError(err({ code }), ctx);
    expect(typed).toMatchObject({ reason: 'database-not-allowed', detail: expect.stringContaining('the password checked out') });
    expect(isAuthenticationFailure(typed)).toBe(false);
  });

  it("recognises pg's codeless no-SSL error by its exact constant only", () => {
    expect(classifyConnectError(new Error('The server does not support SSL connections'), ctx).code).toBe('TLS');
    expect(classifyConnectError(new Error('Something about SSL connections'), ctx).code).toBe('DATABASE');
  });

  it('drops the SQL mysql2 attaches to statement errors', () => {
    const e = err({ errno: 1396, code: 'ER_CANNOT_USER', sql: "ALTER USER x IDENTIFIED BY 'hunter2-secret'" });
    const typed = classifyStatementError(e, { ...ctx, action: 'set the password' });
    expect(typed.code).toBe('DATABASE');
    expect(JSON.stringify(typed) + typed.message + String(typed.stack)).not.toContain('hunter2');
  });
});

describe('the pg connector against the real server', () => {
  const admin = postgresAdminSettings();
  const secret = (fields: Record<string, unknown>) =>
    parseDatabaseSecret({
      engine: 'postgres',
      host: admin.host,
      port: admin.port,
      username: 'postgres',
      password: 'x-unused-x',
      ...fields,
    });
  const request = (fields: Record<string, unknown>, tlsMode: 'disable' | 'require' = 'disable') => ({
    family: 'postgres' as const,
    role: 'pending' as const,
    secret: secret(fields),
    tlsMode,
    connectTimeoutMs: 2000,
  });

  it('reports a wrong password as AuthenticationError', async () => {
    await expect(connectPostgres(request({ username: 'rt_no_such_user', password: 'wrong-password-1' }))).rejects.toMatchObject({
      code: 'AUTH_FAILED',
    });
  });

  it('reports a closed port as NetworkError', async () => {
    await expect(connectPostgres(request({ port: 1 }))).rejects.toMatchObject({ code: 'NETWORK' });
  });

  it('reports TLS refused by a server without TLS as TlsError', async () => {
    await expect(connectPostgres(request({}, 'require'))).rejects.toMatchObject({ code: 'TLS' });
  });

  it('survives the server killing the session', async () => {
    const session = await connectPostgres(request({}));
    await expect(session.query('SELECT pg_terminate_backend(pg_backend_pid())')).rejects.toMatchObject({ code: expect.any(String) });
    await session.close();
  });
});
