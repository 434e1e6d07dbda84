/**
 * AWSCURRENT changed after createSecret copied it: a PutSecretValue in the middle of the rotation (a
 * pipeline moving the port, adding a key, fixing the dbname). The pending version still holds the copy of
 * the value before that change, and finishSecret would make it AWSCURRENT, silently undoing the change
 * (AWS's templates do). Apart from the credentials (and a pre-created pair's swapped other user), the
 * pending version is always the current one's copy, so any other difference means this.
 *
 * Alternating users refuse it before any change: the password changed is the idle user's, which no
 * application uses. Single user only warns, naming the keys: its change may already be partly made when
 * the step is retried (MySQL sets one host entry per statement, the function's own entry last, so a crash
 * can leave the applications' entry on the pending password while AWSCURRENT's still logs in here), and a
 * refusal then would keep those applications locked out on every retry. Losing a key is repaired by
 * putting it again; a lockout is not.
 */
import { isDeepStrictEqual } from 'node:util';
import type { DatabaseSecret } from '../database-secret';
import { StageMismatchError } from '../errors';
import { ALTERNATE_USERNAME_KEY } from './precreated-pair';
import type { StepContext } from './step-context';

/** Keys the next version sets anew: they may differ from AWSCURRENT's. */
const SET_BY_CREATE_SECRET: ReadonlySet<string> = new Set(['username', 'password', ALTERNATE_USERNAME_KEY]);

/**
 * The keys, other than the credentials, whose values differ between `current` and `pending` (present in
 * one only, or with another value), sorted.
 */
export function keysChangedSinceCreate(current: DatabaseSecret, pending: DatabaseSecret): string[] {
  const keys = new Set([...Object.getOwnPropertyNames(current.fields), ...Object.getOwnPropertyNames(pending.fields)]);
  return [...keys]
    .filter((key) => !SET_BY_CREATE_SECRET.has(key))
    .filter((key) => {
      const inCurrent = Object.prototype.hasOwnProperty.call(current.fields, key);
      const inPending = Object.prototype.hasOwnProperty.call(pending.fields, key);
      return inCurrent !== inPending || !isDeepStrictEqual(current.fields[key], pending.fields[key]);
    })
    .sort();
}

/**
 * Alternating users: refuses a pending version that would undo a change made to AWSCURRENT since
 * createSecret.
 * @throws StageMismatchError naming the changed keys and what to do, before any change
 */
export function assertPendingFromCurrent(ctx: StepContext, current: DatabaseSecret, pending: DatabaseSecret): void {
  const changed = keysChangedSinceCreate(current, pending);
  if (changed.length === 0) return;
  throw new StageMismatchError(
    `AWSCURRENT was changed after this rotation's createSecret copied it (${changed.join(', ')}): finishing would undo that change, so nothing was changed; remove AWSPENDING from version ${ctx.event.token} (or run rotation:repair) and rotate again`,
    { secretId: ctx.secretArn, step: ctx.step },
  );
}

/**
 * Single user: a warning, naming the keys (never their values), when the pending version would undo a
 * change made to AWSCURRENT since createSecret; the rotation goes on (see the file's comment for why).
 */
export function warnPendingFromCurrent(ctx: StepContext, current: DatabaseSecret, pending: DatabaseSecret): void {
  const changed = keysChangedSinceCreate(current, pending);
  if (changed.length === 0) return;
  ctx.logger.log({
    level: 'warn',
    message: `AWSCURRENT was changed after this rotation's createSecret copied it (${changed.join(', ')}): the rotation goes on, and finishSecret makes the pending version, without that change, AWSCURRENT; put the change again once the rotation is done`,
    secretArn: ctx.secretArn,
    step: ctx.step,
    engine: ctx.engine.family,
  });
}
