/**
 * A pre-created pair of users (aws-samples/aws-secrets-manager-rotation-lambdas #44): teams that create
 * both users of alternating-users rotation themselves, with grants kept by their own tooling, and that
 * forbid the rotation any CREATE USER, GRANT or membership change.
 *
 * The secret opts in with one extra key, `alternateusername`, naming the other user of the pair:
 *
 *   { "engine": "postgres", "host": "…", "username": "app_blue", "alternateusername": "app_green",
 *     "password": "…", "masterarn": "arn:aws:secretsmanager:…" }
 *
 * Each rotation's next version swaps the two names (`username` becomes the other user, and
 * `alternateusername` the one that was current), so the key always names the user NOT in use, and the
 * master only sets that user's password (`DatabaseEngine.setPasswordAsMaster`): nothing else about
 * either account is touched. Before that, the master's catalogs must show the other user exists, may log
 * in, and is not the master itself; otherwise the step fails with a typed error and changes nothing.
 */
import type { DatabaseSecret } from '../database-secret';
import { AuthenticationError, SecretValidationError, StageMismatchError, type ErrorContext } from '../errors';
import type { ServerInfo, SqlSession } from './database-engine';
import { pairedUserFacts } from './paired-user-facts';
import type { StepContext } from './step-context';

/** The secret key naming the other user of a pre-created pair. */
export const ALTERNATE_USERNAME_KEY = 'alternateusername';

/**
 * The other user of the pair the secret names, or undefined when the secret has no `alternateusername`
 * (the `_clone` naming of AWS's templates applies then).
 *
 * @throws SecretValidationError when the key is not a non-empty string or names the secret's own user.
 */
export function pairedUsername(secret: DatabaseSecret, context: ErrorContext): string | undefined {
  if (!Object.prototype.hasOwnProperty.call(secret.fields, ALTERNATE_USERNAME_KEY)) return undefined;
  const value = secret.fields[ALTERNATE_USERNAME_KEY];
  const problem =
    typeof value !== 'string' || value.trim() === ''
      ? 'must be the non-empty name of the other user of the pair'
      : value === secret.username
        ? 'names the same user as username; a pair needs two users'
        : undefined;
  if (problem !== undefined) {
    throw new SecretValidationError('The pre-created pair of users is misnamed', [{ path: ALTERNATE_USERNAME_KEY, problem }], context);
  }
  return value as string;
}

/**
 * setSecret's guard for a pair: the pending version names the current user's other user, and names the
 * current user as its own other user (the swap createSecret writes).
 */
export function assertPairSwapped(current: DatabaseSecret, pending: DatabaseSecret, context: ErrorContext): void {
  const other = pairedUsername(current, context);
  const back = pairedUsername(pending, context);
  if (pending.username !== other || back !== current.username) {
    throw new StageMismatchError(
      `The pending secret does not swap the pre-created pair: expected user ${String(other)} with ${ALTERNATE_USERNAME_KEY} ${current.username}, ` +
        `found user ${pending.username} with ${ALTERNATE_USERNAME_KEY} ${String(back)}`,
      context,
    );
  }
}

/**
 * As the master, sets the pending user's password and nothing else, after checking from the catalogs
 * that the user exists, may log in and is not the master.
 *
 * @throws AuthenticationError `role-missing` when the other user does not exist, `login-disabled` when
 *   it may not log in; SecretValidationError when it is the master's own account. Nothing was changed.
 */
export async function setPairedUserPassword(
  ctx: StepContext,
  session: SqlSession,
  server: ServerInfo,
  pending: DatabaseSecret,
): Promise<void> {
  const context = { secretId: ctx.secretArn, step: ctx.step };
  const facts = await pairedUserFacts(session, ctx.engine.family, pending.username);
  const unchanged = `the pre-created pair mode (${ALTERNATE_USERNAME_KEY}) never creates or alters users beyond their password; nothing was changed`;
  if (!facts.exists) {
    throw new AuthenticationError(`The other user of the pair, ${pending.username}, does not exist: create it first; ${unchanged}`, {
      ...context,
      reason: 'role-missing',
    });
  }
  if (facts.isMaster) {
    throw new SecretValidationError(
      'The pre-created pair names the master as its other user',
      [
        {
          path: ALTERNATE_USERNAME_KEY,
          problem: `is the master's own account ${pending.username}; its password is never rotated by a user's secret`,
        },
      ],
      context,
    );
  }
  if (!facts.canLogin) {
    throw new AuthenticationError(`The other user of the pair, ${pending.username}, may not log in (NOLOGIN); ${unchanged}`, {
      ...context,
      reason: 'login-disabled',
    });
  }
  ctx.deadline.check('set the password of the other user of the pair');
  await ctx.engine.setPasswordAsMaster(session, server, pending.username, pending.password);
}
