/**
 * finishSecret: move AWSCURRENT to the token (Secrets Manager moves AWSPREVIOUS to the old current), then
 * take AWSPENDING off the token, so no "rotation in progress" is left behind. AWS allows either end state;
 * the explicit removal is our documented choice.
 */
import { UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { fromSecretsManagerError } from '../errors';
import { AWSCURRENT, AWSPENDING, describeSecret, versionWithStage } from './secret-versions';
import type { StepContext, StepResult } from './step-context';

export async function finishSecret(ctx: StepContext): Promise<StepResult> {
  const context = { secretId: ctx.secretArn, step: ctx.step };
  const description = await describeSecret({ client: ctx.client, step: ctx.step }, ctx.secretArn);
  const stages = description.VersionIdsToStages ?? {};
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
