/**
 * Logging in to the database for a rotation step: the TLS mode (the secret's `ssl`, else the function's
 * DB_TLS_MODE), the `prefer` fallback to plaintext with a warning, the connect timeout shortened to the
 * Lambda's remaining time, and typed failures.
 */
import { allowsPlaintextFallback, resolveTlsMode, type TlsMode } from '../connection-options';
import type { DatabaseSecret } from '../database-secret';
import { AuthenticationError, TlsError, ToolkitError } from '../errors';
import { classifyConnectError } from '../engines/driver-errors';
import type { LoginRole, SqlSession } from './engine-strategy';
import type { StepContext } from './step-context';

export interface LoginOptions {
  /** The database to open instead of the secret's (the master opens the child's). */
  readonly database?: string;
  /** Take the `ssl` setting of this secret instead (previous uses current's, as in the templates). */
  readonly sslFrom?: DatabaseSecret;
}

/** Opens a login or throws a typed error (AuthenticationError, NetworkError, TimeoutError, TlsError…). */
export async function login(ctx: StepContext, secret: DatabaseSecret, role: LoginRole, options: LoginOptions = {}): Promise<SqlSession> {
  const ssl = options.sslFrom !== undefined ? options.sslFrom.ssl : secret.ssl;
  const mode = resolveTlsMode(ssl, ctx.settings.tlsMode);
  try {
    return await connectOnce(ctx, secret, role, mode, options);
  } catch (err) {
    if (!(err instanceof TlsError) || !allowsPlaintextFallback(mode)) throw err;
    ctx.logger.log({
      level: 'warn',
      message: 'TLS failed and DB_TLS_MODE is prefer: retrying without TLS (the connection is not encrypted)',
      secretArn: ctx.secretArn,
      step: ctx.step,
      engine: ctx.strategy.family,
      errorCode: err.code,
      ...(err.causeSummary !== undefined ? { cause: err.causeSummary } : {}),
      username: secret.username,
      host: secret.host,
    });
    return connectOnce(ctx, secret, role, 'disable', options);
  }
}

/** A login's outcome: the session, or the server's refusal of the credentials. */
export type LoginAttempt = { readonly session: SqlSession } | { readonly refusal: AuthenticationError };

/** Like `login`, but a refusal of the credentials is returned, not thrown; other failures still throw. */
export async function attemptLogin(
  ctx: StepContext,
  secret: DatabaseSecret,
  role: LoginRole,
  options: LoginOptions = {},
): Promise<LoginAttempt> {
  try {
    return { session: await login(ctx, secret, role, options) };
  } catch (err) {
    if (err instanceof AuthenticationError) return { refusal: err };
    throw err;
  }
}

/** Like `login`, but undefined when the server refused the credentials; other failures still throw. */
export async function tryLogin(
  ctx: StepContext,
  secret: DatabaseSecret,
  role: LoginRole,
  options: LoginOptions = {},
): Promise<SqlSession | undefined> {
  const attempt = await attemptLogin(ctx, secret, role, options);
  return 'session' in attempt ? attempt.session : undefined;
}

/** Runs `work` on a session and always closes it. */
export async function withSession<T>(session: SqlSession, work: (session: SqlSession) => Promise<T>): Promise<T> {
  try {
    return await work(session);
  } finally {
    await session.close();
  }
}

async function connectOnce(
  ctx: StepContext,
  secret: DatabaseSecret,
  role: LoginRole,
  tlsMode: TlsMode,
  options: LoginOptions,
): Promise<SqlSession> {
  const connectTimeoutMs = ctx.deadline.connectTimeoutMs(ctx.settings.connectTimeoutMs);
  try {
    return await ctx.connector({
      family: ctx.strategy.family,
      secret,
      role,
      tlsMode,
      connectTimeoutMs,
      ...(options.database !== undefined ? { database: options.database } : {}),
      ...(ctx.settings.caBundlePath !== undefined ? { caBundlePath: ctx.settings.caBundlePath } : {}),
      secretId: ctx.secretArn,
      step: ctx.step,
    });
  } catch (err) {
    // A custom connector may throw raw driver errors: classify them here, once.
    throw err instanceof ToolkitError
      ? err
      : classifyConnectError(err, { family: ctx.strategy.family, role, secretId: ctx.secretArn, step: ctx.step });
  }
}
