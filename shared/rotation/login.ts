/**
 * Logging in to the database for a rotation step: the TLS mode (the secret's `ssl`, else the function's
 * DB_TLS_MODE), the `prefer` fallback to plaintext with a warning (after a TLS failure, or, as libpq
 * does, a PostgreSQL 28000 over TLS: a `hostnossl` line admits only plaintext), the connect timeout shortened to the
 * Lambda's remaining time, and typed failures.
 *
 * Every session handed out is bounded by the step's deadline: a login or a statement still unanswered
 * when the Lambda's time runs out fails with a TimeoutError naming it and the network path to check,
 * and the session is dropped so it does not linger into the container's next invocation.
 */
import { allowsPlaintextFallback, resolveTlsMode, type TlsMode } from '../connection-options';
import type { DatabaseSecret } from '../database-secret';
import { AuthenticationError, TimeoutError, TlsError, ToolkitError } from '../errors';
import { classifyConnectError } from '../engines/driver-errors';
import type { LoginRole, Row, SqlSession } from './database-engine';
import type { StepContext } from './step-context';

/**
 * Where to look when the database does not answer. A statement can also wait on a lock (another
 * session altering the same role), which the network hint alone would hide.
 */
export const DATABASE_NETWORK_HINT =
  "check the network path from the function to the database (the database's security group must allow the function's, and the subnets must route to it), or a lock the statement waits on";

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
    if (!allowsPlaintextFallback(mode)) throw err;
    if (!(err instanceof TlsError) && !isRefusedForItsTls(ctx, err)) throw err;
    const refusedOverTls = err instanceof AuthenticationError;
    ctx.logger.log({
      level: 'warn',
      message: refusedOverTls
        ? `The server refused the login over TLS (${err.causeSummary?.code ?? 'refused'}: it admits this login only without TLS, e.g. a hostnossl pg_hba.conf line) and DB_TLS_MODE is prefer: retrying without TLS, as the engine's own client does (the connection is not encrypted)`
        : 'TLS failed and DB_TLS_MODE is prefer: retrying without TLS (the connection is not encrypted)',
      secretArn: ctx.secretArn,
      step: ctx.step,
      engine: ctx.engine.family,
      errorCode: err.code,
      ...(err.causeSummary !== undefined ? { cause: err.causeSummary } : {}),
      username: secret.username,
      host: secret.host,
    });
    return connectOnce(ctx, secret, role, 'disable', options);
  }
}

/** A refusal the engine says plaintext may pass (see `DatabaseEngine.refusedForItsTls`). */
function isRefusedForItsTls(ctx: StepContext, err: unknown): err is AuthenticationError {
  return err instanceof AuthenticationError && ctx.engine.refusedForItsTls?.(err) === true;
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
  const where = `${secret.host}:${secret.port}`;
  const context = { secretId: ctx.secretArn, step: ctx.step };
  // The connector is told the time left; a custom one may not honour it, so the deadline stands behind.
  const opening = ctx.connector({
    family: ctx.engine.family,
    secret,
    role,
    tlsMode,
    connectTimeoutMs,
    ...(options.database !== undefined ? { database: options.database } : {}),
    ...(ctx.settings.caBundlePath !== undefined ? { caBundlePath: ctx.settings.caBundlePath } : {}),
    secretId: ctx.secretArn,
    step: ctx.step,
  });
  let session: SqlSession;
  let expired = false;
  try {
    session = await ctx.deadline.bound(
      () => opening,
      () => {
        expired = true;
        return new TimeoutError(
          `Logging in as the ${role} user to ${where}: no answer within the Lambda time left; ${DATABASE_NETWORK_HINT}`,
          context,
        );
      },
    );
  } catch (err) {
    if (expired) {
      // A login that completes after the deadline is closed at once, not left open in the container.
      opening.then(
        (late) => late.close().catch(() => undefined),
        () => undefined,
      );
      throw err;
    }
    if (err instanceof TimeoutError) {
      // The connector's own connect timeout: the same advice, and the driver's cause kept.
      throw new TimeoutError(
        `Logging in as the ${role} user to ${where} timed out after ${connectTimeoutMs} ms; ${DATABASE_NETWORK_HINT}`,
        {
          ...context,
          cause: err.causeSummary ?? err,
        },
      );
    }
    // A custom connector may throw raw driver errors: classify them here, once.
    throw err instanceof ToolkitError
      ? err
      : classifyConnectError(err, { family: ctx.engine.family, role, secretId: ctx.secretArn, step: ctx.step, tls: tlsMode !== 'disable' });
  }
  return boundedSession(ctx, session, `the ${role} user on ${where}`);
}

/**
 * `session` with each statement raced against the step's deadline. A statement still running at the
 * deadline fails with a TimeoutError naming its first keyword (never its text, which may hold a
 * password) and closes the session: the drivers drop the socket of a connection with a statement in
 * flight. `close` waits at most until the deadline.
 */
function boundedSession(ctx: StepContext, session: SqlSession, who: string): SqlSession {
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= session.close().catch(() => undefined));
  return {
    ...(session.login !== undefined ? { login: session.login } : {}),
    query(sql: string, params?: readonly unknown[]): Promise<readonly Row[]> {
      return ctx.deadline.bound(
        () => session.query(sql, params),
        () => {
          void close();
          return new TimeoutError(`${statementName(sql)} as ${who}: no answer within the Lambda time left; ${DATABASE_NETWORK_HINT}`, {
            secretId: ctx.secretArn,
            step: ctx.step,
          });
        },
      );
    },
    close: () => ctx.deadline.waitAtMost(close()),
  };
}

/** "A SELECT statement", from the statement's first word only. */
function statementName(sql: string): string {
  const keyword = /^\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase();
  return keyword !== undefined ? `A ${keyword} statement` : 'A statement';
}
