/**
 * createSecret: store the next version under AWSPENDING with the token as its version id. An existing
 * pending value is kept (a retry must not mint a second password); only a missing one is generated,
 * under the function's password policy overridden by the secret's `dbrotation:` tags.
 */
import { serializeSecretFields, type DatabaseSecret } from '../database-secret';
import { SecretNotFoundError, SecretValidationError, fromSecretsManagerError } from '../errors';
import { alternateUsername } from './alternate-username';
import { generatePassword } from './generate-password';
import { secretPasswordPolicy } from './password-policy-tags';
import { AWSCURRENT, AWSPENDING, readDatabaseSecret } from './secret-versions';
import type { StepContext, StepResult } from './step-context';

export async function createSecret(ctx: StepContext): Promise<StepResult> {
  const readCtx = { client: ctx.client, step: ctx.step };
  const family = ctx.strategy.family;
  // From the gate's DescribeSecret: no request, and a bad tag fails here, before anything is written.
  const policy = secretPasswordPolicy(ctx.description.Tags, ctx.settings.passwordPolicy, family, { secretId: ctx.secretArn, step: ctx.step });
  const current = await readDatabaseSecret(readCtx, ctx.secretArn, { stage: AWSCURRENT }, family);
  try {
    await readDatabaseSecret(readCtx, ctx.secretArn, { stage: AWSPENDING, versionId: ctx.event.token }, family);
    return 'skipped';
  } catch (err) {
    if (!(err instanceof SecretNotFoundError)) throw err;
  }

  const username = ctx.settings.strategy === 'alternating-users' ? alternateUsername(current.username) : current.username;
  const problem = ctx.strategy.usernameProblem(username, current.engine);
  if (problem !== undefined) {
    throw new SecretValidationError('Cannot name the alternate user', [{ path: 'username', problem }], {
      secretId: ctx.secretArn,
      step: ctx.step,
    });
  }
  const password = generatePassword(policy);
  ctx.deadline.check('store the pending secret');
  try {
    await ctx.client.putSecretValue({
      SecretId: ctx.secretArn,
      ClientRequestToken: ctx.event.token,
      SecretString: nextVersionString(current, username, password),
      VersionStages: [AWSPENDING],
      ...(ctx.event.rotationToken !== undefined ? { RotationToken: ctx.event.rotationToken } : {}),
    });
  } catch (err) {
    throw fromSecretsManagerError(err, 'PutSecretValue(AWSPENDING)', { secretId: ctx.secretArn, step: ctx.step });
  }
  return 'success';
}

/** A copy of the current value, every extra key kept, with the new username and password. */
export function nextVersionString(current: DatabaseSecret, username: string, password: string): string {
  // No prototype: a `__proto__` key of the secret stays a plain key, as `parseDatabaseSecret` keeps it.
  const fields = Object.create(null) as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(current.fields)) fields[key] = current.fields[key];
  fields.username = username;
  fields.password = password;
  return serializeSecretFields(fields);
}
