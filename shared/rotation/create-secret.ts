/**
 * createSecret: store the next version under AWSPENDING with the token as its version id. An existing
 * pending value is kept (a retry must not mint a second password); only a missing one is generated,
 * under the function's password policy overridden by the secret's `dbrotation:` tags.
 */
import { MAX_SECRET_BYTES, serializeSecretFields, type DatabaseSecret } from '../database-secret';
import { SecretNotFoundError, SecretValidationError, fromSecretsManagerError } from '../errors';
import { alternateUsername } from './alternate-username';
import { generatePassword } from './generate-password';
import { withTopLevelValues } from './json-top-level';
import { secretPasswordPolicy } from './password-policy-tags';
import { ALTERNATE_USERNAME_KEY, pairedUsername } from './precreated-pair';
import { AWSCURRENT, AWSPENDING, readDatabaseSecret, readDatabaseSecretVersion } from './secret-versions';
import type { StepContext, StepResult } from './step-context';

export async function createSecret(ctx: StepContext): Promise<StepResult> {
  const readCtx = { client: ctx.client, step: ctx.step };
  const family = ctx.engine.family;
  // From the gate's DescribeSecret: no request, and a bad tag fails here, before anything is written.
  const policy = secretPasswordPolicy(ctx.description.Tags, ctx.settings.passwordPolicy, family, {
    secretId: ctx.secretArn,
    step: ctx.step,
  });
  const { secret: current, secretString: currentText } = await readDatabaseSecretVersion(
    readCtx,
    ctx.secretArn,
    { stage: AWSCURRENT },
    family,
  );
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
      [
        {
          path: ALTERNATE_USERNAME_KEY,
          problem: 'is set but this function rotates a single user; remove the key or rotate with alternating users',
        },
      ],
      context,
    );
  }
  const username = alternating ? (paired ?? alternateUsername(current.username)) : current.username;
  const problem = ctx.engine.usernameProblem(username, current.engine);
  if (problem !== undefined) {
    throw new SecretValidationError('Cannot name the alternate user', [{ path: 'username', problem }], context);
  }
  const password = generatePassword(policy);
  // A pair swaps: the next version's other user is the one current now.
  const swapped: Record<string, string> = paired !== undefined ? { [ALTERNATE_USERNAME_KEY]: current.username } : {};
  const secretString = withinSecretSizeLimit(nextVersionString(current, username, password, swapped, currentText), context);
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

/**
 * A copy of the current value, every extra key kept, with the new username and password (and `extra`
 * keys, e.g. a pre-created pair's swapped `alternateusername`, set over the copy).
 *
 * @param currentText the text `current` was parsed from, when known: the copy is then that text with
 *   only those keys' values replaced, byte for byte otherwise (numbers JavaScript cannot hold exactly,
 *   such as integers past 2^53, stay as written). Without it the fields are serialized again.
 */
export function nextVersionString(
  current: DatabaseSecret,
  username: string,
  password: string,
  extra: Readonly<Record<string, string>> = {},
  currentText?: string,
): string {
  if (currentText !== undefined) return withTopLevelValues(currentText, { ...extra, username, password });
  // No prototype: a `__proto__` key of the secret stays a plain key, as `parseDatabaseSecret` keeps it.
  const fields = Object.create(null) as Record<string, unknown>;
  for (const key of Object.getOwnPropertyNames(current.fields)) fields[key] = current.fields[key];
  for (const key of Object.keys(extra)) fields[key] = extra[key];
  fields.username = username;
  fields.password = password;
  return serializeSecretFields(fields);
}
