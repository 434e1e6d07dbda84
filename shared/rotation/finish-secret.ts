/**
 * finishSecret: move AWSCURRENT to the token; Secrets Manager moves AWSPREVIOUS to the old current. One
 * write, as in AWS's templates: AWSPENDING stays on the finished version, which the service treats as a
 * finished rotation (only AWSPENDING on a version other than AWSCURRENT means "in progress"), so
 * removing it would cost a second write per rotation for nothing. The labels come from the gate's
 * DescribeSecret of this invocation (`ctx.description`), not a second request: a retry is a new
 * invocation with a new gate, so re-running the step still starts from the labels as they are.
 */
import { fromSecretsManagerError } from '../errors';
import { AWSCURRENT, versionWithStage } from './secret-versions';
import type { StepContext, StepResult } from './step-context';

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
    throw fromSecretsManagerError(err, 'UpdateSecretVersionStage(AWSCURRENT)', context);
  }
  return 'success';
}
