/**
 * Writing a secret value as a version, shared by CreateSecret, UpdateSecret and PutSecretValue, with
 * the ClientRequestToken idempotency rules: the same token and the same value is a no-op, the same token
 * and another value is ResourceExistsException, and the value-less AWSPENDING version RotateSecret
 * creates is filled by the first write with its token.
 */
import { optBlob, optString, type JsonObject } from './input';
import { hasValue, type SecretRecord, type SecretVersion } from './store';
import { attachStage, pruneDeprecated } from './version-stages';
import { invalidParameter, validation, WireError } from './wire-errors';

/** Secrets Manager's limit on a secret value, in bytes. */
export const MAX_SECRET_VALUE_BYTES = 65_536;

export interface SecretValue {
  readonly secretString?: string;
  readonly secretBinary?: Buffer;
}

/** The SecretString/SecretBinary of a request, if any; both at once is refused. */
export function readSecretValue(input: JsonObject): SecretValue | undefined {
  const secretString = optString(input, 'SecretString');
  const secretBinary = optBlob(input, 'SecretBinary');
  if (secretString !== undefined && Buffer.byteLength(secretString, 'utf8') > MAX_SECRET_VALUE_BYTES) {
    throw validation('secretString', `Member must have length less than or equal to ${MAX_SECRET_VALUE_BYTES}`);
  }
  if (secretBinary !== undefined && secretBinary.length > MAX_SECRET_VALUE_BYTES) {
    throw validation('secretBinary', `Member must have length less than or equal to ${MAX_SECRET_VALUE_BYTES}`);
  }
  if (secretString !== undefined && secretBinary !== undefined) {
    throw invalidParameter("You can't specify both a binary secret value and a string secret value in the same secret.");
  }
  if (secretString === undefined && secretBinary === undefined) return undefined;
  return secretString !== undefined ? { secretString } : { secretBinary: secretBinary! };
}

function sameValue(version: SecretVersion, value: SecretValue): boolean {
  if (value.secretString !== undefined) return version.secretString === value.secretString;
  return version.secretBinary !== undefined && value.secretBinary !== undefined && version.secretBinary.equals(value.secretBinary);
}

export interface WriteResult {
  readonly version: SecretVersion;
  /** False when an earlier identical write with the same token made this call a no-op. */
  readonly changed: boolean;
}

export function writeVersion(
  secret: SecretRecord,
  versionId: string,
  value: SecretValue,
  stages: readonly string[],
  now: Date,
): WriteResult {
  const existing = secret.versions.get(versionId);
  if (existing && hasValue(existing)) {
    if (sameValue(existing, value)) return { version: existing, changed: false };
    throw new WireError(
      'ResourceExistsException',
      `You can't modify an existing version, you can only create a new version. (VersionId ${versionId})`,
    );
  }
  const version: SecretVersion = existing ?? { versionId, createdDate: now, stages: [] };
  if (value.secretString !== undefined) version.secretString = value.secretString;
  else version.secretBinary = value.secretBinary;
  if (!existing) secret.versions.set(versionId, version);
  for (const stage of stages) attachStage(secret, stage, version);
  pruneDeprecated(secret);
  secret.lastChangedDate = now;
  return { version, changed: true };
}
