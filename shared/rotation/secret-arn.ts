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

/**
 * What a secret id may hold: a name's characters (ASCII letters, digits, `/_+=.@-`), the `!` of the
 * names other services give the secrets they manage (`rds!db-…`, `events!connection/…`), and an ARN's `:`.
 */
const SECRET_ID_CHARACTER = /[A-Za-z0-9/_+=.@!:-]/;

/**
 * Why `masterArn` cannot name any secret, or undefined when it can: whitespace around it (a value pasted
 * with its newline), or a character no secret name or ARN holds. Secrets Manager would answer such an id
 * with a bare InvalidParameterException or "not found", naming neither the field nor the cause. The
 * problem quotes at most one printable character, never the value.
 */
export function masterArnProblem(masterArn: string): string | undefined {
  if (masterArn.trim() !== masterArn) return 'must not start or end with whitespace (a space or newline around the ARN)';
  for (const c of masterArn) {
    if (SECRET_ID_CHARACTER.test(c)) continue;
    const shown = /^[\x21-\x7e]$/.test(c) ? `"${c}"` : 'whitespace, a control or a non-ASCII character';
    return `must be a secret ARN or name (it contains ${shown}, which no secret name holds)`;
  }
  return undefined;
}

/**
 * Refuses a `masterarn` that can name no secret (`masterArnProblem`) or names one in another region
 * than the rotated secret (`assertMasterInSecretRegion`), before it is read.
 * @throws SecretValidationError (SECRET_INVALID) naming the `masterarn` field, never its value.
 */
export function assertUsableMasterArn(masterArn: string, secretArn: string, context: ErrorContext): void {
  const problem = masterArnProblem(masterArn);
  if (problem !== undefined) {
    throw new SecretValidationError("The current secret's masterarn names no secret", [{ path: 'masterarn', problem }], context);
  }
  assertMasterInSecretRegion(masterArn, secretArn, context);
}
