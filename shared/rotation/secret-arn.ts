/**
 * What a Secrets Manager ARN says about where the secret lives. A rotation function's client talks to
 * one region's endpoint, so a `masterarn` naming a secret of another region can never be read by it:
 * Secrets Manager answers as if the secret did not exist, and the operator, who can see the secret,
 * is left guessing. Secrets replicated to other regions have one ARN per region.
 */
import { SecretValidationError, type ErrorContext } from '../errors';

/** `arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`, region captured. */
const SECRET_ARN = /^arn:[a-z0-9-]+:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$/;

/**
 * The region of a Secrets Manager secret ARN, or undefined when `id` is a name or not such an ARN.
 * @example
 *   secretArnRegion('arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf'); // 'eu-west-1'
 */
export function secretArnRegion(id: string): string | undefined {
  return SECRET_ARN.exec(id)?.[1];
}

/**
 * Refuses a master secret ARN of another region than the rotated secret's (both must be ARNs for the
 * check to apply; a name is looked up in the function's own region anyway).
 *
 * @param masterArn the current secret's `masterarn`.
 * @param secretArn the rotated secret's ARN, as DescribeSecret returned it.
 * @throws SecretValidationError (SECRET_INVALID) naming both regions and the `masterarn` field.
 */
export function assertMasterInSecretRegion(masterArn: string, secretArn: string, context: ErrorContext): void {
  const masterRegion = secretArnRegion(masterArn);
  const secretRegion = secretArnRegion(secretArn);
  if (masterRegion === undefined || secretRegion === undefined || masterRegion === secretRegion) return;
  throw new SecretValidationError(
    `The master secret is in ${masterRegion}, but this function reads Secrets Manager in ${secretRegion}, the rotated secret's region`,
    [
      {
        path: 'masterarn',
        problem: `names a secret in region ${masterRegion}; use the ARN of a master secret (or its replica) in ${secretRegion}`,
      },
    ],
    context,
  );
}
