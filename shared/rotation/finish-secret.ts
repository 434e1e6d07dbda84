/**
 * finishSecret: move AWSCURRENT to the token; Secrets Manager moves AWSPREVIOUS to the old current. One
 * write, as in AWS's templates: AWSPENDING stays on the finished version, which the service treats as a
 * finished rotation (only AWSPENDING on a version other than AWSCURRENT means "in progress"), so
 * removing it would cost a second write per rotation for nothing. The labels come from the gate's
 * DescribeSecret of this invocation (`ctx.description`), not a second request: a retry is a new
 * invocation with a new gate, so re-running the step still starts from the labels as they are. A refused
 * move is checked against fresh labels once: when AWSCURRENT is already on the token (the client's own
 * retry of a move whose answer was lost), the step has succeeded.
 */
import { InvalidRequestError, fromSecretsManagerError } from '../errors';
import { AWSCURRENT, describeSecret, versionWithStage } from './secret-versions';
import type { StepContext, StepResult } from './step-context';

/**
 * Moves AWSCURRENT to the token (see the module comment).
 * @returns `skipped` when AWSCURRENT is on the token already, else `success`.
 * @throws the typed Secrets Manager errors of `fromSecretsManagerError` when the move is refused and
 *   fresh labels do not show it done.
 */
export async function finishSecret(ctx: StepContext): Promise<StepResult> {
  const context = { secretId: ctx.secretArn, step: ctx.step };
  const stages = ctx.description.VersionIdsToStages ?? {};
  const currentVersion = versionWithStage(stages, AWSCURRENT);
  if (currentVersion === ctx.event.token) return 'skipped';
  try {
    ctx.deadline.check('move AWSCURRENT');
    await ctx.client.updateSecretVersionStage({
      SecretId: ctx.secretArn,
      VersionStage: AWSCURRENT,
      MoveToVersionId: ctx.event.token,
      ...(currentVersion !== undefined ? { RemoveFromVersionId: currentVersion } : {}),
    });
  } catch (err) {
    const error = fromSecretsManagerError(err, 'UpdateSecretVersionStage(AWSCURRENT)', context);
    // The client retries a call whose answer was lost (a 5xx or a reset after the move was made); the
    // retry then names a RemoveFromVersionId that no longer holds AWSCURRENT and is refused. The labels
    // say whether the move is in fact done.
    if (error instanceof InvalidRequestError && (await currentIsToken(ctx))) return 'success';
    throw error;
  }
  return 'success';
}

/** Whether AWSCURRENT is on the token now, by a fresh DescribeSecret; false when that cannot be told. */
async function currentIsToken(ctx: StepContext): Promise<boolean> {
  try {
    const now = await describeSecret({ client: ctx.client, step: ctx.step }, ctx.secretArn);
    return versionWithStage(now.VersionIdsToStages, AWSCURRENT) === ctx.event.token;
  } catch {
    return false;
  }
}
