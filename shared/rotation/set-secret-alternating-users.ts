/**
 * setSecret, alternating users: the master creates or updates the alternate user (`name` <-> `name_clone`)
 * and makes it the same account as the current user; then a fresh login proves the pending password
 * before the step returns. AWSCURRENT must log in before anything changes (the templates' confused-deputy
 * check: only a valid credential is rotated onward). A secret naming a pre-created pair
 * (`alternateusername`) gets only the other user's password set (see precreated-pair.ts).
 *
 * Refused before any login or change: a master secret whose user is the current user or the alternate (the
 * rotation would change the master's password behind the master secret), as in single-user rotation. The
 * engines refuse a master on a standby or read-only server, a disabled alternate and a proving login that
 * would not fit under the alternate's connection limit before their first change.
 *
 * Unlike the templates, AWSPENDING is not tried first: in a normal rotation that login is always refused
 * (the alternate still has its old password), and a refused login counts against failed-login limits. A
 * retry instead runs the sync again, which is idempotent and ends in the same state.
 */
import { SecretValidationError, StageMismatchError } from '../errors';
import { alternateUsername } from './alternate-username';
import { attemptLogin } from './login';
import { assertNotMasterUser } from './master-secret';
import { masterSessionFor } from './master-session';
import { assertPendingFromCurrent } from './pending-drift';
import { assertPairSwapped, pairedUsername, setPairedUserPassword } from './precreated-pair';
import { explainRefusal, refusalFailure } from './refusal';
import { AWSCURRENT, AWSPENDING, readDatabaseSecret, readPreviousSecret } from './secret-versions';
import type { StepContext, StepResult } from './step-context';

export async function setSecretAlternatingUsers(ctx: StepContext): Promise<StepResult> {
  const readCtx = { client: ctx.client, step: ctx.step };
  const family = ctx.engine.family;
  const context = { secretId: ctx.secretArn, step: ctx.step };
  const current = await readDatabaseSecret(readCtx, ctx.secretArn, { stage: AWSCURRENT }, family);
  const pending = await readDatabaseSecret(readCtx, ctx.secretArn, { stage: AWSPENDING, versionId: ctx.event.token }, family);

  const paired = pairedUsername(current, context) !== undefined;
  if (paired) {
    assertPairSwapped(current, pending, context);
  } else if (pending.username !== alternateUsername(current.username)) {
    throw new StageMismatchError(
      `Attempting to modify user ${pending.username} other than the current user's alternate ${alternateUsername(current.username)}`,
      context,
    );
  }
  if (pending.host !== current.host) {
    throw new StageMismatchError(
      `Attempting to modify the user on host ${pending.host} other than the current host ${current.host}`,
      context,
    );
  }
  assertPendingFromCurrent(ctx, current, pending);

  const master = masterSessionFor(ctx, current);
  if (master === undefined) {
    throw new SecretValidationError(
      'Alternating-users rotation needs a master secret',
      [{ path: 'masterarn', problem: 'is missing' }],
      context,
    );
  }
  try {
    // Before any login: the master's own user would have its password changed behind the master secret.
    // The master is read once here and reused by its session: no request of its own.
    assertNotMasterUser(ctx, current, (await master.secret()).username, [pending.username]);
    const currentLogin = await attemptLogin(ctx, current, 'current');
    if ('refusal' in currentLogin) {
      const diagnosis = await explainRefusal(ctx, master, current, currentLogin.refusal);
      throw refusalFailure(ctx, 'the current secret', diagnosis, 'it is not rotated onward and nothing was changed');
    }
    await currentLogin.session.close();
    const session = await master.open();
    const server = await master.server();
    const problem = ctx.engine.usernameProblem(pending.username, current.engine, server);
    if (problem !== undefined) {
      throw new SecretValidationError('Cannot create the alternate user', [{ path: 'username', problem }], context);
    }
    if (paired) {
      await setPairedUserPassword(ctx, session, server, pending);
    } else {
      ctx.deadline.check('update the alternate user');
      await ctx.engine.syncAlternateUser(session, server, {
        currentUsername: current.username,
        alternateUsername: pending.username,
        password: pending.password,
        previouslyHeld: once(async () => {
          const previous = await readPreviousSecret(readCtx, ctx.secretArn, family);
          return previous !== undefined && previous.username === pending.username && previous.host === current.host;
        }),
        warn: (message) =>
          ctx.logger.log({
            level: 'warn',
            message,
            secretArn: ctx.secretArn,
            step: ctx.step,
            engine: family,
            username: pending.username,
            host: pending.host,
          }),
      });
    }
    const proof = await attemptLogin(ctx, pending, 'pending');
    if ('refusal' in proof) {
      const diagnosis = await explainRefusal(ctx, master, pending, proof.refusal);
      throw refusalFailure(ctx, "the alternate user's new password", diagnosis, 'AWSCURRENT is unchanged; the retry runs the sync again');
    }
    await proof.session.close();
  } finally {
    await master.close();
  }
  return 'success';
}

/** `ask`, run at most once: later calls get the first call's answer. */
function once<T>(ask: () => Promise<T>): () => Promise<T> {
  let answer: Promise<T> | undefined;
  return () => (answer ??= ask());
}
