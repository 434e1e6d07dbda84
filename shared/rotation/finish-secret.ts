/**
 * finishSecret: move AWSCURRENT to the token (Secrets Manager moves AWSPREVIOUS to the old current), then
 * take AWSPENDING off the token, so no "rotation in progress" is left behind. AWS allows either end state;
 * the explicit removal is our documented choice. The labels come from the gate's DescribeSecret of this
 * invocation (`ctx.description`), not a second request: a retry is a new invocation with a new gate, so
 * re-running the step still starts from the labels as they are.
 */
import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { fromSecretsManagerError } from '../errors';
import { AWSCURRENT, AWSPENDING, versionWithStage } from './secret-versions';
import type { StepContext, StepResult } from './step-context';

export async function finishSecret(ctx: StepContext): Promise<StepResult> {
  const context = { secretId: ctx.secretArn, step: ctx.step };
  const stages = ctx.description.VersionIdsToStages ?? {};
  const currentVersion = versionWithStage(stages, AWSCURRENT);
  if (currentVersion === ctx.event.token) return 'skipped';
  try {
    ctx.deadline.check('move AWSCURRENT');
    await ctx.client.send(
      new UpdateSecretVersionStageCommand({
        SecretId: ctx.secretArn,
        VersionStage: AWSCURRENT,
        MoveToVersionId: ctx.event.token,
        ...(currentVersion !== undefined ? { RemoveFromVersionId: currentVersion } : {}),
      }),
    );
  } catch (err) {
    throw fromSecretsManagerError(err, 'UpdateSecretVersionStage(AWSCURRENT)', context);
  }
  if (stages[ctx.event.token]?.includes(AWSPENDING)) {
    try {
      await ctx.client.send(
        new UpdateSecretVersionStageCommand({ SecretId: ctx.secretArn, VersionStage: AWSPENDING, RemoveFromVersionId: ctx.event.token }),
      );
    } catch (err) {
      throw fromSecretsManagerError(err, 'UpdateSecretVersionStage(AWSPENDING)', context);
    }
  }
  return 'success';
}
