/**
 * The toolkit's typed errors. Every error the toolkit raises is a `ToolkitError` with a stable `code`,
 * and the secret id / rotation step where known. Messages name the secret and the step, never a value:
 * a cause is kept only as its class and code (driver errors such as mysql2's carry the SQL text, which
 * can hold a password, so the raw error object is never attached).
 */

export type ErrorCode =
  | 'CONFIG'
  | 'EVENT_INVALID'
  | 'SECRET_INVALID'
  | 'NOT_FOUND'
  | 'ACCESS_DENIED'
  | 'THROTTLED'
  | 'TRANSIENT'
  | 'INVALID_REQUEST'
  | 'ROTATION_DISABLED'
  | 'STAGE_MISMATCH'
  | 'AUTH_FAILED'
  | 'NETWORK'
  | 'TIMEOUT'
  | 'TLS'
  | 'DATABASE';

/** Where an error happened; every field optional, none of them a secret value. */
export interface ErrorContext {
  /** The secret's name or ARN. */
  readonly secretId?: string;
  /** The rotation step, when raised inside a rotation. */
  readonly step?: string;
  /** The underlying error: only its class name and code are kept. */
  readonly cause?: unknown;
}

/** The class name and code of an underlying error, safe to log. */
export interface CauseSummary {
  readonly name: string;
  readonly code?: string;
}

/**
 * The base of every error the toolkit throws. Each has a stable `code` to branch on (messages may be
 * reworded), and names the secret and the rotation step when it knows them; no message, `toJSON()` or
 * `causeSummary` ever holds a password, a secret value or a connection string. The cause keeps only its
 * class name and code.
 *
 * @example
 * try {
 *   await cache.getSecret('prod/app/db');
 * } catch (err) {
 *   if (err instanceof ToolkitError && err.code === 'NOT_FOUND') return fallback();
 *   throw err;
 * }
 */
export class ToolkitError extends Error {
  readonly code: ErrorCode;
  readonly secretId?: string;
  readonly step?: string;
  readonly causeSummary?: CauseSummary;

  constructor(code: ErrorCode, message: string, context: ErrorContext = {}) {
    super(withContext(message, context));
    // Subclasses also set their name as a literal: class names do not survive minification.
    this.name = new.target.name;
    this.code = code;
    if (context.secretId !== undefined) this.secretId = context.secretId;
    if (context.step !== undefined) this.step = context.step;
    if (context.cause !== undefined) this.causeSummary = summarizeCause(context.cause);
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      secretId: this.secretId,
      step: this.step,
      cause: this.causeSummary,
    };
  }
}

/** Code `CONFIG`: a bad option or environment variable, raised when the handler or object is built. */
export class ConfigError extends ToolkitError {
  override readonly name: string = 'ConfigError';
  constructor(message: string, context?: ErrorContext) {
    super('CONFIG', message, context);
  }
}

/** Code `EVENT_INVALID`: a rotation event without a usable SecretId, ClientRequestToken or Step. */
export class EventValidationError extends ToolkitError {
  override readonly name: string = 'EventValidationError';
  constructor(message: string, context?: ErrorContext) {
    super('EVENT_INVALID', message, context);
  }
}

/** One problem found in a secret's value: the path of the field and what is wrong, never the value. */
export interface ValidationIssue {
  readonly path: string;
  readonly problem: string;
}

/**
 * Code `SECRET_INVALID`: a secret value that is not a usable database secret. `issues` lists every
 * problem at once, by field path, never with the value.
 */
export class SecretValidationError extends ToolkitError {
  override readonly name: string = 'SecretValidationError';
  readonly issues: readonly ValidationIssue[];

  constructor(message: string, issues: readonly ValidationIssue[] = [], context?: ErrorContext) {
    const detail = issues.length ? `: ${issues.map((i) => `${i.path || '(root)'} ${i.problem}`).join('; ')}` : '';
    super('SECRET_INVALID', `${message}${detail}`, context);
    this.issues = issues;
  }
}

/** Code `NOT_FOUND`: Secrets Manager has no such secret, or no version with the asked label. */
export class SecretNotFoundError extends ToolkitError {
  override readonly name: string = 'SecretNotFoundError';
  constructor(message: string, context?: ErrorContext) {
    super('NOT_FOUND', message, context);
  }
}

/** Code `ACCESS_DENIED`: the caller's IAM role (or the secret's KMS key policy) does not allow the call. */
export class AccessDeniedError extends ToolkitError {
  override readonly name: string = 'AccessDeniedError';
  constructor(message: string, context?: ErrorContext) {
    super('ACCESS_DENIED', message, context);
  }
}

/** Code `THROTTLED`: Secrets Manager throttled the call after the SDK's own retries. Retryable. */
export class ThrottledError extends ToolkitError {
  override readonly name: string = 'ThrottledError';
  constructor(message: string, context?: ErrorContext) {
    super('THROTTLED', message, context);
  }
}

/** A failure worth retrying: 5xx, an interrupted request. */
export class TransientError extends ToolkitError {
  override readonly name: string = 'TransientError';
  constructor(message: string, context?: ErrorContext) {
    super('TRANSIENT', message, context);
  }
}

/** Secrets Manager refused the request itself (InvalidRequest/InvalidParameter/ResourceExists…). */
export class InvalidRequestError extends ToolkitError {
  override readonly name: string = 'InvalidRequestError';
  constructor(message: string, context?: ErrorContext) {
    super('INVALID_REQUEST', message, context);
  }
}

/** Code `ROTATION_DISABLED`: the secret's rotation is not enabled, so the step refuses to run. */
export class RotationDisabledError extends ToolkitError {
  override readonly name: string = 'RotationDisabledError';
  constructor(message: string, context?: ErrorContext) {
    super('ROTATION_DISABLED', message, context);
  }
}

/** The staging labels are not what the step needs (token unknown, not AWSPENDING, label elsewhere). */
export class StageMismatchError extends ToolkitError {
  override readonly name: string = 'StageMismatchError';
  constructor(message: string, context?: ErrorContext) {
    super('STAGE_MISMATCH', message, context);
  }
}

/**
 * Why a database refused a login, as far as it could be told. Stable values, logged beside the error
 * code as `reason`:
 * - `wrong-password`: the password does not match (drift); the only cause a master ever repairs;
 * - `host-not-allowed`: pg_hba has no entry for this address, or no MySQL `user@host` account matches it;
 * - `login-disabled`: NOLOGIN, ACCOUNT LOCK;
 * - `expired`: VALID UNTIL in the past, an expired MySQL/MariaDB password;
 * - `client-certificate-required`: REQUIRE X509 / SUBJECT / ISSUER, which the function cannot present;
 * - `unsupported-auth-plugin`: an authentication plugin that takes no password, or that the driver lacks;
 * - `blocked-after-failed-logins`: MariaDB max_password_errors, MySQL FAILED_LOGIN_ATTEMPTS;
 * - `role-missing`: no such role or user;
 * - `connection-limit`: the login was refused for too many connections (PostgreSQL CONNECTION LIMIT of the
 *   role or database, max_connections): the credentials were right, a fresh login cannot be had now;
 * - `database-not-allowed`: the credentials were right but the secret's database cannot be opened by
 *   this account (PostgreSQL: it does not exist, the role lacks CONNECT on it, or it accepts no
 *   connections): not a password matter, so nothing about the password is changed;
 * - `undetermined`: the refusal could not be explained (no master to read the catalogs, or the
 *   catalogs show nothing wrong); the message names the causes that could not be told apart.
 */
export type RefusalReason =
  | 'wrong-password'
  | 'host-not-allowed'
  | 'login-disabled'
  | 'expired'
  | 'client-certificate-required'
  | 'unsupported-auth-plugin'
  | 'blocked-after-failed-logins'
  | 'role-missing'
  | 'connection-limit'
  | 'database-not-allowed'
  | 'undetermined';

/**
 * Every `reason` a step's failure line can carry: why a login was refused (`AUTH_FAILED`), or
 * `master-cannot-grant` (a `DATABASE` failure: the master may not give the alternate user a right the
 * current one holds, `MysqlGrantRefusedError`), or `not-a-clone` (a `DATABASE` failure: the alternate user
 * exists and is not a copy of the current one, `AlternateUserNotACloneError`), so one alarm on the field
 * sees them all.
 */
export type FailureReason = RefusalReason | 'master-cannot-grant' | 'not-a-clone';

/** Each reason in words, for messages. */
export const REFUSAL_REASON_TEXT: Readonly<Record<RefusalReason, string>> = {
  'wrong-password': 'the password does not match',
  'host-not-allowed': 'the account may not log in from this address',
  'login-disabled': 'the account may not log in (NOLOGIN or ACCOUNT LOCK)',
  expired: 'the account or its password has expired',
  'client-certificate-required': 'the account requires a client certificate',
  'unsupported-auth-plugin': 'the account authenticates with a method that takes no password this toolkit can use',
  'blocked-after-failed-logins': 'the account is blocked after too many failed logins',
  'role-missing': 'no such user or role exists',
  'connection-limit': 'the account or the server has no connection left for another login',
  'database-not-allowed': "the account may not open the secret's database (missing, no CONNECT privilege, or closed to connections)",
  undetermined: 'the cause could not be determined',
};

/** Where an authentication failure happened, and why when that is known. */
export interface AuthenticationErrorContext extends ErrorContext {
  /** @default 'undetermined' */
  readonly reason?: RefusalReason;
  /**
   * What the connector could tell beyond the reason (e.g. the authentication plugin the server asked
   * for): names only, never a value. Used as the diagnosis when no master can read the catalogs.
   */
  readonly detail?: string;
  /**
   * Whether the refused login ran over TLS, when the connector knows: which pg_hba.conf line it met
   * (`hostssl`, `hostnossl`) depends on it, and the master's own session may differ.
   */
  readonly tls?: boolean;
}

/** The database refused the credentials; `reason` says why, when it could be told. */
export class AuthenticationError extends ToolkitError {
  override readonly name: string = 'AuthenticationError';
  readonly reason: RefusalReason;
  readonly detail?: string;
  /** Whether the refused login ran over TLS; undefined when not known. */
  readonly tls?: boolean;
  constructor(message: string, context: AuthenticationErrorContext = {}) {
    super('AUTH_FAILED', message, context);
    this.reason = context.reason ?? 'undetermined';
    if (context.detail !== undefined) this.detail = context.detail;
    if (context.tls !== undefined) this.tls = context.tls;
  }

  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), reason: this.reason };
  }
}

/** Code `NETWORK`: a server (database or Secrets Manager) could not be reached: refused, unresolved, reset. */
export class NetworkError extends ToolkitError {
  override readonly name: string = 'NetworkError';
  constructor(message: string, context?: ErrorContext) {
    super('NETWORK', message, context);
  }
}

/** Code `TIMEOUT`: a call did not finish in its time bound (connect timeout, fetch timeout, the Lambda's deadline). */
export class TimeoutError extends ToolkitError {
  override readonly name: string = 'TimeoutError';
  constructor(message: string, context?: ErrorContext) {
    super('TIMEOUT', message, context);
  }
}

/** Code `TLS`: the TLS handshake failed or the server's certificate could not be verified. */
export class TlsError extends ToolkitError {
  override readonly name: string = 'TlsError';
  constructor(message: string, context?: ErrorContext) {
    super('TLS', message, context);
  }
}

/** The database accepted the login but refused a statement (privileges, constraints, limits). */
export class DatabaseError extends ToolkitError {
  override readonly name: string = 'DatabaseError';
  constructor(message: string, context?: ErrorContext) {
    super('DATABASE', message, context);
  }
}

/**
 * Code `DATABASE`: a password statement failed after the statements before it had changed some of the
 * user's accounts (MySQL sets one host entry per statement). The only password failure after which the
 * caller puts the stored passwords back: any other error of a password change was raised before the
 * first statement ran, and a put-back then would write for nothing (on a read-only replica, a write of
 * its own).
 */
export class PartialChangeError extends DatabaseError {
  override readonly name: string = 'PartialChangeError';
}

/** True for any error the toolkit threw (any `ToolkitError` subclass). */
export function isToolkitError(err: unknown): err is ToolkitError {
  return err instanceof ToolkitError;
}

/** The class name and code of any thrown value, without its message (messages may quote SQL or values). */
export function summarizeCause(err: unknown): CauseSummary {
  if (err instanceof ToolkitError) return { name: err.name, code: err.code };
  if (err !== null && typeof err === 'object') {
    const e = err as { name?: unknown; code?: unknown; errno?: unknown; constructor?: { name?: unknown } };
    const name =
      typeof e.name === 'string' && e.name !== 'Error' ? e.name : typeof e.constructor?.name === 'string' ? e.constructor.name : 'Error';
    const rawCode = typeof e.code === 'string' || typeof e.code === 'number' ? e.code : e.errno;
    return rawCode === undefined || rawCode === null ? { name } : { name, code: String(rawCode) };
  }
  return { name: typeof err };
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'TimeoutError', 'RequestTimeout']);

/**
 * Whether a failure says its service was never reached, by its name and code only (never its text):
 * `timeout` (ETIMEDOUT, a TimeoutError…), `network` (refused, unresolved, reset, unreachable), else
 * undefined. For every SDK client's failures: Secrets Manager's (`fromSecretsManagerError`) and the RDS API's.
 */
export function unreachableKind(err: unknown): 'timeout' | 'network' | undefined {
  const { name, code } = summarizeCause(err);
  if (name === 'TimeoutError' || (code !== undefined && TIMEOUT_CODES.has(code))) return 'timeout';
  return code !== undefined && NETWORK_CODES.has(code) ? 'network' : undefined;
}

/**
 * The `code` of the AbortError a rotation's Secrets Manager calls are cut off with when the Lambda's
 * time runs out (see `boundedSecretsClient`); `fromSecretsManagerError` turns it into a TimeoutError.
 */
export const LAMBDA_DEADLINE_CODE = 'LAMBDA_DEADLINE';

/**
 * Where to look when Secrets Manager does not answer. A function in a VPC reaches it only through an
 * interface VPC endpoint or a NAT gateway, and a security group or network ACL that drops HTTPS makes
 * the request hang rather than fail.
 */
export const SECRETS_MANAGER_NETWORK_HINT =
  'check the network path to Secrets Manager (in a VPC: an interface VPC endpoint for secretsmanager or a NAT gateway, and security groups and network ACLs allowing HTTPS on 443)';

/**
 * Where to look when the RDS API does not answer: like Secrets Manager, it needs an interface VPC
 * endpoint or a NAT gateway from a function in a VPC.
 */
export const RDS_NETWORK_HINT =
  'check the network path from the function to the RDS API (in a VPC: an interface VPC endpoint for rds or a NAT gateway, and security groups and network ACLs allowing HTTPS on 443)';

/**
 * What to do when the SDK's credential provider chain finds no credentials: the places it looks, for
 * the rotation Lambdas and for readers on ECS, EC2 or a laptop alike.
 */
export const NO_CREDENTIALS_HINT =
  'no AWS credentials could be loaded; give the code an IAM role (a Lambda execution role, an ECS task role, an instance profile, a web identity) or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE) in its environment';

/**
 * Maps an error thrown by the Secrets Manager SDK client (or a network failure under it) to a typed
 * error. The SDK's own message is dropped: Secrets Manager messages carry no values, but a proxy's or a
 * third-party endpoint's might.
 */
export function fromSecretsManagerError(err: unknown, action: string, context: ErrorContext = {}): ToolkitError {
  if (err instanceof ToolkitError) return err;
  const ctx: ErrorContext = { ...context, cause: err };
  const e = (err ?? {}) as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name ?? '';
  const code = e.code ?? '';
  const status = e.$metadata?.httpStatusCode;
  switch (name) {
    case 'ResourceNotFoundException':
      return new SecretNotFoundError(`${action}: secret or version not found`, ctx);
    case 'AccessDeniedException':
    case 'AccessDenied':
    case 'UnrecognizedClientException':
    case 'InvalidSignatureException':
    case 'ExpiredTokenException':
      return new AccessDeniedError(`${action}: access denied (${name})`, ctx);
    case 'DecryptionFailure':
      return new AccessDeniedError(`${action}: the secret's KMS key could not decrypt it (DecryptionFailure)`, ctx);
    // Every throttling name the SDK's retry strategy (and the signed client) retries: a throttled
    // request answered with a 400 must not read as a refused one once the retries are spent.
    case 'ThrottlingException':
    case 'TooManyRequestsException':
    case 'RequestLimitExceeded':
    case 'Throttling':
    case 'ThrottledException':
    case 'RequestThrottled':
    case 'RequestThrottledException':
    case 'SlowDown':
    case 'PriorRequestNotComplete':
      return new ThrottledError(`${action}: throttled by Secrets Manager (${name})`, ctx);
    case 'InvalidRequestException':
    case 'InvalidParameterException':
    case 'ResourceExistsException':
    case 'MalformedPolicyDocumentException':
    case 'PreconditionNotMetException':
    case 'LimitExceededException': // a quota (e.g. too many versions), not throttling: retrying does not help
      return new InvalidRequestError(`${action}: refused by Secrets Manager (${name})`, ctx);
    case 'EncryptionFailure':
      // A write under a KMS key that is disabled, pending deletion or not usable by the caller: an
      // operator must act on the key, so it is not retryable; saying "refused" alone hid the key.
      return new InvalidRequestError(
        `${action}: the secret's KMS key could not encrypt the value (EncryptionFailure); check that the key is enabled, not pending deletion, and that its policy lets the function use it (kms:GenerateDataKey)`,
        ctx,
      );
    case 'InternalServiceError':
    case 'InternalFailure':
    case 'ServiceUnavailable':
      return new TransientError(`${action}: Secrets Manager failed (${name})`, ctx);
    case 'CredentialsProviderError':
    case 'TokenProviderError':
      // Raised before any request: no credentials from the provider chain (or an expired SSO token).
      // Retryable on purpose: the chain also fails this way when the instance or container credential
      // endpoint is briefly unreachable, and a reader must keep serving its cached value through that,
      // as through any other outage. The message says where credentials come from, for the case where
      // there are none at all.
      return new TransientError(`${action}: ${NO_CREDENTIALS_HINT} (${name})`, ctx);
    case 'SyntaxError':
      // A 2xx answer that is not JSON: a proxy's or captive portal's page, or an endpoint that is not
      // Secrets Manager. The parser's message is dropped: it quotes the answer, which may hold a value.
      return new TransientError(
        `${action}: the answer was not Secrets Manager's JSON (SyntaxError); check that the endpoint is Secrets Manager and that no proxy answers in its place`,
        ctx,
      );
    case 'TimeoutError':
    case 'RequestTimeout':
    case 'RequestTimeoutException':
      return new TimeoutError(`${action}: request to Secrets Manager timed out; ${SECRETS_MANAGER_NETWORK_HINT}`, ctx);
    case 'AbortError':
      // The SDK's answer to an aborted request: ours at the Lambda's deadline, or a caller's own limit.
      return new TimeoutError(
        code === LAMBDA_DEADLINE_CODE
          ? `${action}: no answer from Secrets Manager within the Lambda time left; ${SECRETS_MANAGER_NETWORK_HINT}, or raise the function's timeout`
          : `${action}: the request to Secrets Manager was cut off before an answer came; ${SECRETS_MANAGER_NETWORK_HINT}`,
        ctx,
      );
  }
  const unreachable = unreachableKind(err);
  if (unreachable === 'timeout') {
    return new TimeoutError(`${action}: request to Secrets Manager timed out; ${SECRETS_MANAGER_NETWORK_HINT}`, ctx);
  }
  if (unreachable === 'network') {
    return new NetworkError(`${action}: cannot reach Secrets Manager (${code}); ${SECRETS_MANAGER_NETWORK_HINT}`, ctx);
  }
  if (status !== undefined && status >= 500) return new TransientError(`${action}: Secrets Manager returned ${status}`, ctx);
  if (status === 429) return new ThrottledError(`${action}: throttled by Secrets Manager`, ctx);
  if (status !== undefined && status >= 400) {
    return new InvalidRequestError(`${action}: refused by Secrets Manager (${name || status})`, ctx);
  }
  return new TransientError(`${action}: unexpected failure (${name || code || 'unknown'})`, ctx);
}

/** True for errors worth retrying or serving a stale value through: throttling, 5xx, network, timeouts. */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof ToolkitError)) return false;
  return err.code === 'THROTTLED' || err.code === 'TRANSIENT' || err.code === 'NETWORK' || err.code === 'TIMEOUT';
}

function withContext(message: string, context: ErrorContext): string {
  const where = [
    context.secretId !== undefined ? `secret ${context.secretId}` : undefined,
    context.step !== undefined ? `step ${context.step}` : undefined,
  ].filter((s): s is string => s !== undefined);
  return where.length ? `${message} [${where.join(', ')}]` : message;
}
