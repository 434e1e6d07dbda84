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
import { ALTERNATE_USERNAME_KEY, pairedUsername } from './precreated-pair';
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

  const context = { secretId: ctx.secretArn, step: ctx.step };
  const alternating = ctx.settings.strategy === 'alternating-users';
  const paired = pairedUsername(current, context);
  if (paired !== undefined && !alternating) {
    throw new SecretValidationError(
      'The secret names a pre-created pair of users, which only alternating-users rotation uses',
      [{ path: ALTERNATE_USERNAME_KEY, problem: 'is set but this function rotates a single user; remove the key or rotate with alternating users' }],
      context,
    );
  }
  const username = alternating ? (paired ?? alternateUsername(current.username)) : current.username;
  const problem = ctx.strategy.usernameProblem(username, current.engine);
  if (problem !== undefined) {
    throw new SecretValidationError('Cannot name the alternate user', [{ path: 'username', problem }], context);
  }
  const password = generatePassword(policy);
  ctx.deadline.check('store the pending secret');
  try {
    await ctx.client.putSecretValue({
      SecretId: ctx.secretArn,
      ClientRequestToken: ctx.event.token,
      // A pair swaps: the next version's other user is the one current now.
      SecretString: nextVersionString(current, username, password, paired !== undefined ? { [ALTERNATE_USERNAME_KEY]: current.username } : {}),
      VersionStages: [AWSPENDING],
      ...(ctx.event.rotationToken !== undefined ? { RotationToken: ctx.event.rotationToken } : {}),
    });
  } catch (err) {
    throw fromSecretsManagerError(err, 'PutSecretValue(AWSPENDING)', { secretId: ctx.secretArn, step: ctx.step });
  }
  return 'success';
}

/**
 * A copy of the current value, every extra key kept, with the new username and password (and `extra`
 * keys, e.g. a pre-created pair's swapped `alternateusername`, set over the copy).
 */
export function nextVersionString(
  current: DatabaseSecret,
  username: string,
  password: string,
  extra: Readonly<Record<string, string>> = {},
): string {
  // No prototype: a `__proto__` key of the secret stays a plain key, as `parseDatabaseSecret` keeps it.
  const fields = Object.create(null) as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(current.fields)) fields[key] = current.fields[key];
  for (const key of Object.keys(extra)) fields[key] = extra[key];
  fields.username = username;
  fields.password = password;
  return serializeSecretFields(fields);
}
