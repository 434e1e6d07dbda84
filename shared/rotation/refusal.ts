/**
 * Explaining a refused login before anything is changed because of it. With a master, the engine reads
 * the server's catalogs; without one, only the refusal's code speaks, and the message says which causes
 * it cannot tell apart.
 */
import type { DatabaseSecret } from '../database-secret';
import { AuthenticationError, REFUSAL_REASON_TEXT, type RefusalReason } from '../errors';
import type { RefusalDiagnosis } from './database-engine';
import { masterDatabase } from './master-secret';
import type { MasterSession } from './master-session';
import type { StepContext } from './step-context';

/** What the code of a refusal cannot tell apart when no master can read the catalogs. */
export const UNTOLD_WITHOUT_MASTER =
  'without a masterarn the toolkit cannot tell a wrong password from an expired, disabled or missing account, ' +
  'an address the account may not log in from, or a required client certificate';

/**
 * Refusals that no other password of the secret can overcome, told by their code: the password checked
 * out (a connection limit, a database the user may not open, an expired password, MariaDB's lock) or the
 * account takes no login at all (locked, blocked after failed logins). Another password tried after one of
 * these is only a failed login, which MariaDB max_password_errors and MySQL FAILED_LOGIN_ATTEMPTS count
 * against the account: the application's own login would then be blocked.
 */
const PASSWORD_INDEPENDENT: ReadonlySet<RefusalReason> = new Set<RefusalReason>([
  'connection-limit',
  'database-not-allowed',
  'expired',
  'login-disabled',
  'blocked-after-failed-logins',
]);

/** True when `refusal` says no other password could log in where this one was refused (see PASSWORD_INDEPENDENT). */
export function refusedWhateverThePassword(refusal: AuthenticationError): boolean {
  return PASSWORD_INDEPENDENT.has(refusal.reason);
}

/**
 * Diagnosed causes no other password of the secret can overcome: those of PASSWORD_INDEPENDENT, and what
 * only the catalogs tell (an address no account of the user matches, an anonymous account picked first, a
 * missing user, a client certificate or a method the driver cannot answer), or a diagnosis saying so
 * (`noOtherPasswordLogsIn`).
 */
const DIAGNOSED_PASSWORD_INDEPENDENT: ReadonlySet<RefusalReason> = new Set<RefusalReason>([
  ...PASSWORD_INDEPENDENT,
  'host-not-allowed',
  'role-missing',
  'client-certificate-required',
  'unsupported-auth-plugin',
]);

/**
 * True when the master's diagnosis of a refusal shows that no other password could log in there: trying
 * one would only be a failed login that MariaDB max_password_errors and MySQL FAILED_LOGIN_ATTEMPTS count
 * against the account, blocking the applications that log in where the function cannot (over TLS, from
 * their own address).
 */
export function diagnosedWhateverThePassword(diagnosis: RefusalDiagnosis): boolean {
  return diagnosis.noOtherPasswordLogsIn === true || DIAGNOSED_PASSWORD_INDEPENDENT.has(diagnosis.reason);
}

/**
 * Why `secret`'s login was refused: the engine's diagnosis as the master when there is one, else what
 * the refusal's code alone says. A `database-not-allowed` refusal is told by its code alone, master or
 * not: the master opens the same database, which may not exist. Reads only.
 */
export async function explainRefusal(
  ctx: StepContext,
  master: MasterSession | undefined,
  secret: DatabaseSecret,
  refusal: AuthenticationError,
): Promise<RefusalDiagnosis> {
  if (refusal.reason === 'database-not-allowed') {
    return { reason: refusal.reason, detail: refusal.detail ?? 'told by the error code: the password checked out' };
  }
  if (master === undefined) {
    return {
      reason: refusal.reason,
      detail:
        refusal.reason === 'undetermined' && refusal.detail === undefined
          ? UNTOLD_WITHOUT_MASTER
          : `${refusal.detail !== undefined ? `${refusal.detail}; ` : ''}told by the error code; no masterarn to read the catalogs`,
    };
  }
  const session = await master.open();
  const server = await master.server();
  const database = masterDatabase(secret);
  return ctx.engine.diagnoseRefusal(session, server, {
    username: secret.username,
    password: secret.password,
    error: refusal,
    ...(database !== undefined ? { database } : {}),
  });
}

/**
 * The step's failure for a diagnosed refusal: `what` names the credential ("the current secret"),
 * `outcome` what the step did about it ("nothing was changed").
 */
export function refusalFailure(ctx: StepContext, what: string, diagnosis: RefusalDiagnosis, outcome: string): AuthenticationError {
  return new AuthenticationError(
    `The login with ${what} is refused: ${REFUSAL_REASON_TEXT[diagnosis.reason]} (${diagnosis.detail}); ${outcome}`,
    {
      secretId: ctx.secretArn,
      step: ctx.step,
      reason: diagnosis.reason,
    },
  );
}
