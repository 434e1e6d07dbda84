/** New passwords come from Secrets Manager's GetRandomPassword, as in the AWS templates. */
import { GetRandomPasswordCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { TransientError, fromSecretsManagerError, type ErrorContext } from '../errors';
import type { ResolvedPasswordPolicy } from './password-policy';

export async function generatePassword(
  client: SecretsManagerClient,
  policy: ResolvedPasswordPolicy,
  context: ErrorContext,
): Promise<string> {
  let password: string | undefined;
  try {
    const out = await client.send(
      new GetRandomPasswordCommand({
        PasswordLength: policy.length,
        ExcludeCharacters: policy.excludeCharacters,
        ExcludeNumbers: policy.excludeNumbers,
        ExcludePunctuation: policy.excludePunctuation,
        ExcludeUppercase: policy.excludeUppercase,
        ExcludeLowercase: policy.excludeLowercase,
        RequireEachIncludedType: policy.requireEachIncludedType,
      }),
    );
    password = out.RandomPassword;
  } catch (err) {
    throw fromSecretsManagerError(err, 'GetRandomPassword', context);
  }
  if (!password) throw new TransientError('GetRandomPassword returned no password', context);
  return password;
}
