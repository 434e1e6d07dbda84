/**
 * setSecret, single user: the user changes its own password, and the new one must log in before the
 * step returns.
 *
 * AWSCURRENT logs in first: in a normal rotation no login is refused, so accounts under failed-login
 * limits (MariaDB max_password_errors, MySQL FAILED_LOGIN_ATTEMPTS) are never counted against by the
 * rotation itself. Only when AWSCURRENT is refused is AWSPENDING tried (a retry after the change finds
 * it in place and does nothing), then AWSPREVIOUS with current's `ssl`, as in the templates; neither when
 * AWSCURRENT's refusal says no password could get in (a connection limit, a database it may not open, a lock,
 * an expiry): they would only be failed logins counted against the application's account.
 *
 * Never a lockout:
 * - the change is proven by a fresh login with the new password; when that is refused, the user's
 *   still-open session puts the old password back and the step fails with the diagnosis; when the proof
 *   or its diagnosis fails otherwise (the master's own login refused, a lost connection), the old
 *   password is put back too before the error is thrown;
 * - a refusal of every credential is diagnosed as the master before anything changes, and only proven
 *   drift (a wrong password on an account that is otherwise fine) is healed by the master; every other
 *   cause fails with its `reason` and changes nothing;
 * - a crash between the change and the proof leaves the new password in place under AWSPENDING: the
 *   retry's AWSPENDING login finds it; so does a put-back the server refuses, and the error says so;
 * - a secret whose user is its masterarn's own user is refused before anything: its rotation would
 *   change the master's password behind the master secret.
 */
import type { DatabaseSecret } from '../database-secret';
import { PartialChangeError, StageMismatchError, ToolkitError } from '../errors';
import type { RefusalDiagnosis, SqlSession } from './database-engine';
import { attemptLogin, tryLogin, withSession } from './login';
import { assertNotMastersOwnUser } from './master-secret';
import { masterSessionFor, type MasterSession } from './master-session';
import { warnPendingFromCurrent } from './pending-drift';
import { diagnosedWhateverThePassword, explainRefusal, refusalFailure, refusedWhateverThePassword } from './refusal';
import { AWSCURRENT, AWSPENDING, readDatabaseSecret, readPreviousSecret } from './secret-versions';
import type { StepContext, StepResult } from './step-context';

/**
 * Sets the pending password on the secret's user (see the module comment).
 * @returns `skipped` when the pending password logs in already, else `success`.
 * @throws StageMismatchError before anything when AWSPENDING and AWSCURRENT name different users or hosts
 *   (any other key of AWSCURRENT changed after createSecret copied it is only warned about: pending-drift.ts)
 * @throws SecretValidationError before anything when the user is its master's own
 * @throws AuthenticationError (with `reason`) when no login works and the refusal is not proven drift,
 *   or a proof is refused (the change put back, or the error says where the new password stays)
 */
export async function setSecretSingleUser(ctx: StepContext): Promise<StepResult> {
  const readCtx = { client: ctx.client, step: ctx.step };
  const family = ctx.engine.family;
  const current = await readDatabaseSecret(readCtx, ctx.secretArn, { stage: AWSCURRENT }, family);
  const pending = await readDatabaseSecret(readCtx, ctx.secretArn, { stage: AWSPENDING, versionId: ctx.event.token }, family);
  assertSameAccount(ctx, pending, current, 'current');
  // Roles are server-wide: a master the child's database refuses diagnoses and heals from its own.
  const master = masterSessionFor(ctx, current, { anyDatabase: true });
  try {
    await assertNotMastersOwnUser(ctx, current);
    const own = await attemptLogin(ctx, current, 'current');
    if ('session' in own) {
      await changeAndProve(ctx, own.session, current, current, pending, master);
      return 'success';
    }
    // With a master, the refusal is diagnosed before another password is tried: each is a failed login
    // where the catalogs may show none could succeed (an unmet TLS requirement, the stored password being
    // the current one). A diagnosis that fails here is made again below, after the tries, as before.
    const early =
      master !== undefined && !refusedWhateverThePassword(own.refusal)
        ? await explainRefusal(ctx, master, current, own.refusal).catch(() => undefined)
        : undefined;
    if (!refusedWhateverThePassword(own.refusal) && (early === undefined || !diagnosedWhateverThePassword(early))) {
      const already = await tryLogin(ctx, pending, 'pending');
      if (already !== undefined) {
        await already.close();
        return 'skipped';
      }
      const previous = await readPreviousSecret(readCtx, ctx.secretArn, family);
      if (previous !== undefined && sameAccount(pending, previous)) {
        const session = await tryLogin(ctx, previous, 'previous', { sslFrom: current });
        if (session !== undefined) {
          await changeAndProve(ctx, session, previous, current, pending, master);
          return 'success';
        }
      }
    }
    const diagnosis = early ?? (await explainRefusal(ctx, master, current, own.refusal));
    if (master === undefined || diagnosis.reason !== 'wrong-password') {
      throw refusalFailure(ctx, 'the current secret (and the pending and previous ones)', diagnosis, 'nothing was changed');
    }
    await healAsMaster(ctx, master, current, pending);
    return 'success';
  } finally {
    await master?.close();
  }
}

/**
 * The user's own session (logged in with `known`, a password that works) sets the pending password;
 * a fresh login proves it. When the proof is refused, the same session puts `known` back. A pending
 * version that would undo a change made to `current` since createSecret is refused first (only where
 * a change is about to be made: a retry whose pending password already logs in must still finish, or
 * AWSCURRENT would be left with a password that no longer works).
 */
async function changeAndProve(
  ctx: StepContext,
  session: SqlSession,
  known: DatabaseSecret,
  current: DatabaseSecret,
  pending: DatabaseSecret,
  master: MasterSession | undefined,
): Promise<void> {
  await withSession(session, async (s) => {
    warnPendingFromCurrent(ctx, current, pending);
    const server = await ctx.engine.serverInfo(s);
    const change = (password: string, currentPassword: string, restoring: boolean) => ({
      username: pending.username,
      password,
      currentPassword,
      restoring,
      ...(master !== undefined ? { master: master.open } : {}),
    });
    ctx.deadline.check('change the password');
    await ctx.engine.setOwnPassword(s, server, change(pending.password, known.password, false));
    await proveOrPutBack(ctx, master, pending, known, {
      what: 'the new password',
      putBack: () => ctx.engine.setOwnPassword(s, server, change(known.password, pending.password, true)),
      outcome: 'the previous password was put back',
    });
  });
}

/** How a change that its proof does not confirm is undone, and what the failure then says. */
interface Undo {
  /** Names the changed credential in the failure ("the new password"). */
  readonly what: string;
  /** Puts the old password back; undefined when it cannot be. */
  readonly putBack: (() => Promise<void>) | undefined;
  /** What the failure says about the undo ("the previous password was put back"). */
  readonly outcome: string;
}

/**
 * The fresh login with `pending` that proves a change, or the change undone: a refused proof is
 * diagnosed while the new password is still in place (so the catalogs explain its refusal), then put
 * back; a proof that fails otherwise (network, TLS, time), or a diagnosis that fails (the master's own
 * login refused, unreachable), is put back too before its error is thrown, as far as it can be: a put-back
 * that fails leaves the new password, which AWSPENDING holds, for the retry to find.
 */
async function proveOrPutBack(
  ctx: StepContext,
  master: MasterSession | undefined,
  pending: DatabaseSecret,
  sslFrom: DatabaseSecret,
  undo: Undo,
): Promise<void> {
  let diagnosis: RefusalDiagnosis;
  try {
    const proof = await attemptLogin(ctx, pending, 'pending', { sslFrom });
    if ('session' in proof) {
      await proof.session.close();
      return;
    }
    diagnosis = await explainRefusal(ctx, master, pending, proof.refusal);
  } catch (err) {
    // The proof or its diagnosis failed otherwise: its own error is thrown, after the change is undone.
    if (undo.putBack !== undefined) {
      ctx.logger.log({
        level: 'warn',
        message: `Could not prove ${undo.what} (${failureText(err)}): ${await putBack(ctx, undo)}`,
        secretArn: ctx.secretArn,
        step: ctx.step,
        engine: ctx.engine.family,
        username: pending.username,
        host: pending.host,
      });
    }
    throw err;
  }
  throw refusalFailure(ctx, undo.what, diagnosis, await putBack(ctx, undo));
}

/**
 * Runs the undo's put-back, and says what became of the change: `undo.outcome` when it was put back
 * (or there is nothing to run), else that the new password stays. A put-back can be refused where the
 * change was not (MariaDB password_reuse_check under strict validation refuses the old password; a
 * connection lost): the error must then say so and where the password is, never "put back". AWSPENDING
 * holds it, so the next attempt's pending login finds it.
 */
async function putBack(ctx: StepContext, undo: Undo): Promise<string> {
  if (undo.putBack === undefined) return undo.outcome;
  try {
    await undo.putBack();
    return undo.outcome;
  } catch (err) {
    ctx.logger.log({
      level: 'error',
      message: 'The previous password could not be put back: the new password stays in place under AWSPENDING',
      secretArn: ctx.secretArn,
      step: ctx.step,
      engine: ctx.engine.family,
      ...(err instanceof ToolkitError
        ? { errorCode: err.code, ...(err.causeSummary !== undefined ? { cause: err.causeSummary } : {}) }
        : {}),
    });
    return `the previous password could not be put back (${failureText(err)}), so the new one stays in place and AWSPENDING holds it, where the next attempt finds it`;
  }
}

/** A failure in words for a message: its code and its cause's code, never its text (which may quote a statement). */
function failureText(err: unknown): string {
  if (!(err instanceof ToolkitError)) return err instanceof Error ? err.name : 'an unexpected error';
  return `${err.code}${err.causeSummary?.code !== undefined ? ` ${err.causeSummary.code}` : ''}`;
}

/**
 * Proven drift: the master sets the pending password and a fresh login proves it. When the proof is
 * refused, the stored verifiers read before the change are put back (when the master could read them).
 */
async function healAsMaster(ctx: StepContext, master: MasterSession, current: DatabaseSecret, pending: DatabaseSecret): Promise<void> {
  warnPendingFromCurrent(ctx, current, pending);
  ctx.logger.log({
    level: 'warn',
    message: 'The current password no longer matches the account (drift proven from the catalogs): the master sets the pending password',
    secretArn: ctx.secretArn,
    step: ctx.step,
    engine: ctx.engine.family,
    username: pending.username,
    host: pending.host,
    reason: 'wrong-password',
  });
  const session = await master.open();
  const server = await master.server();
  const restore = await ctx.engine.savePassword(session, server, pending.username);
  ctx.deadline.check('set the password as the master');
  try {
    await ctx.engine.setPasswordAsMaster(session, server, pending.username, pending.password, current.password);
  } catch (err) {
    // Some host entries may be set already (MySQL sets one statement per entry): the stored ones go back
    // before the error is thrown, or an application on an entry already set would be locked out. A
    // refusal before the first statement (a read-only server, an entry that cannot be set) needs none.
    if (restore !== undefined && err instanceof PartialChangeError) {
      const outcome = await putBack(ctx, { what: 'the password the master set', putBack: () => restore(session), outcome: 'put back' });
      ctx.logger.log({
        level: 'warn',
        message: `Setting the password as the master failed (${failureText(err)}): the stored password was ${outcome === 'put back' ? 'put back' : 'not put back'}`,
        secretArn: ctx.secretArn,
        step: ctx.step,
        engine: ctx.engine.family,
        username: pending.username,
        host: pending.host,
      });
    }
    throw err;
  }
  await proveOrPutBack(ctx, master, pending, current, {
    what: 'the password the master set',
    putBack: restore !== undefined ? () => restore(session) : undefined,
    outcome:
      restore !== undefined
        ? 'the stored password was put back'
        : 'the master cannot read the stored password, so it could not be put back',
  });
}

/**
 * Whether `other` stands for the same account as `pending` (user name and host). An AWSPREVIOUS of another
 * account holds no old password of this one: the secret was moved to another host by a PutSecretValue,
 * or rotated with alternating users before, so AWSPREVIOUS names the other user. It is passed over, and
 * the refusal of the current secret is explained as for a secret without AWSPREVIOUS; logging in with it
 * would change another account's password, and failing on it would hide the real cause.
 */
function sameAccount(pending: DatabaseSecret, other: DatabaseSecret): boolean {
  return pending.username === other.username && pending.host === other.host;
}

function assertSameAccount(ctx: StepContext, pending: DatabaseSecret, other: DatabaseSecret, label: 'current'): void {
  const context = { secretId: ctx.secretArn, step: ctx.step };
  if (pending.username !== other.username) {
    throw new StageMismatchError(`Attempting to modify user ${pending.username} other than the ${label} user ${other.username}`, context);
  }
  if (pending.host !== other.host) {
    throw new StageMismatchError(
      `Attempting to modify the user on host ${pending.host} other than the ${label} host ${other.host}`,
      context,
    );
  }
}
