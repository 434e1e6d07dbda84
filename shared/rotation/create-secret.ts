/**
 * createSecret: store the next version under AWSPENDING with the token as its version id. An existing
 * pending value is kept (a retry must not mint a second password); only a missing one is generated.
 */
import { MAX_SECRET_BYTES, serializeSecretFields, type DatabaseSecret } from '../database-secret';
import { SecretNotFoundError, SecretValidationError, fromSecretsManagerError } from '../errors';
import { alternateUsername } from './alternate-username';
import { generatePassword } from './generate-password';
import { AWSCURRENT, AWSPENDING, readDatabaseSecret } from './secret-versions';
import type { StepContext, StepResult } from './step-context';

export async function createSecret(ctx: StepContext): Promise<StepResult> {
  const readCtx = { client: ctx.client, step: ctx.step };
  const family = ctx.strategy.family;
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
  const password = generatePassword(ctx.settings.passwordPolicy);
  const secretString = withinSecretSizeLimit(nextVersionString(current, username, password), { secretId: ctx.secretArn, step: ctx.step });
  ctx.deadline.check('store the pending secret');
  try {
    await ctx.client.putSecretValue({
      SecretId: ctx.secretArn,
      ClientRequestToken: ctx.event.token,
      SecretString: secretString,
      VersionStages: [AWSPENDING],
      ...(ctx.event.rotationToken !== undefined ? { RotationToken: ctx.event.rotationToken } : {}),
    });
  } catch (err) {
    throw fromSecretsManagerError(err, 'PutSecretValue(AWSPENDING)', { secretId: ctx.secretArn, step: ctx.step });
  }
  return 'success';
}

/**
 * `text` when Secrets Manager can store it as a SecretString (at most MAX_SECRET_BYTES, 65 536 bytes of
 * UTF-8). A current value near the limit plus a longer password or username would otherwise be refused
 * by PutSecretValue with an opaque InvalidParameterException.
 *
 * @throws SecretValidationError (SECRET_INVALID) with both sizes, never the value.
 */
export function withinSecretSizeLimit(text: string, context: { readonly secretId?: string; readonly step?: string }): string {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= MAX_SECRET_BYTES) return text;
  throw new SecretValidationError(
    `The next version would be ${bytes} bytes, over Secrets Manager's ${MAX_SECRET_BYTES}-byte SecretString limit; nothing was stored (shorten PASSWORD_LENGTH or drop extra keys from the secret)`,
    [{ path: '', problem: `is ${bytes} bytes as the next version (limit ${MAX_SECRET_BYTES})` }],
    context,
  );
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
