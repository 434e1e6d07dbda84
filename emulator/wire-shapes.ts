/**
 * The response shapes the SDK expects: timestamps as epoch seconds (JSON numbers, fractional
 * milliseconds allowed), blobs as base64, and optional members omitted rather than sent as null.
 */
import { nextRotationDate } from './rotation-schedule';
import type { SecretRecord, SecretVersion } from './store';
import { versionIdsToStages } from './version-stages';
import type { JsonObject } from './input';

export function epochSeconds(date: Date): number {
  return date.getTime() / 1000;
}

/** LastAccessedDate is kept to the day, as Secrets Manager reports it. */
export function startOfUtcDay(date: Date): Date {
  return new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
}

/** Drops undefined members so that the JSON carries only what is known. */
export function compact(shape: Record<string, unknown>): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(shape)) if (value !== undefined) out[key] = value;
  return out;
}

export function tagList(secret: SecretRecord): Array<{ Key: string; Value: string }> | undefined {
  if (secret.tags.size === 0) return undefined;
  return [...secret.tags].map(([Key, Value]) => ({ Key, Value }));
}

function optionalDate(date: Date | undefined): number | undefined {
  return date === undefined ? undefined : epochSeconds(date);
}

/** The members DescribeSecret and ListSecrets share. */
function metadata(secret: SecretRecord): JsonObject {
  const rotation = secret.rotation;
  const next = rotation ? nextRotationDate(rotation) : undefined;
  return compact({
    ARN: secret.arn,
    Name: secret.name,
    Description: secret.description,
    KmsKeyId: secret.kmsKeyId,
    RotationEnabled: rotation?.enabled,
    RotationLambdaARN: rotation?.lambdaArn,
    RotationRules: rotation?.rules ? compact({ ...rotation.rules }) : undefined,
    LastRotatedDate: optionalDate(rotation?.lastRotatedDate),
    LastChangedDate: epochSeconds(secret.lastChangedDate),
    LastAccessedDate: optionalDate(secret.lastAccessedDate),
    DeletedDate: optionalDate(secret.deletedDate),
    NextRotationDate: optionalDate(next),
    Tags: tagList(secret),
    CreatedDate: epochSeconds(secret.createdDate),
  });
}

export function describeSecretShape(secret: SecretRecord): JsonObject {
  return { ...metadata(secret), VersionIdsToStages: versionIdsToStages(secret) };
}

export function secretListEntryShape(secret: SecretRecord): JsonObject {
  return { ...metadata(secret), SecretVersionsToStages: versionIdsToStages(secret) };
}

/** The value members of GetSecretValue and BatchGetSecretValue entries. */
export function secretValueShape(secret: SecretRecord, version: SecretVersion): JsonObject {
  return compact({
    ARN: secret.arn,
    Name: secret.name,
    VersionId: version.versionId,
    SecretString: version.secretString,
    SecretBinary: version.secretBinary?.toString('base64'),
    VersionStages: [...version.stages],
    CreatedDate: epochSeconds(version.createdDate),
  });
}

export function versionListEntryShape(version: SecretVersion): JsonObject {
  return compact({
    VersionId: version.versionId,
    VersionStages: [...version.stages],
    LastAccessedDate: optionalDate(version.lastAccessedDate),
    CreatedDate: epochSeconds(version.createdDate),
  });
}
