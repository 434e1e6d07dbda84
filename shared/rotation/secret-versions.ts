/**
 * Reading a secret's versions by staging label, as the rotation steps need them. Every SDK failure
 * becomes a typed error naming the secret and the step.
 */
import type { DescribeSecretCommandOutput } from '@aws-sdk/client-secrets-manager';
import { parseDatabaseSecret, type DatabaseSecret, type EngineFamily } from '../database-secret';
import { SecretNotFoundError, SecretValidationError, fromSecretsManagerError } from '../errors';
import type { SecretsApi } from '../secrets-api/secrets-api';

import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from '../staging-labels';

export { AWSCURRENT, AWSPENDING, AWSPREVIOUS };

export interface SecretReadContext {
  readonly client: SecretsApi;
  readonly step?: string;
}

export interface VersionSelector {
  readonly stage: string;
  readonly versionId?: string;
}

/**
 * Whether DescribeSecret says the secret is scheduled for deletion: Secrets Manager then refuses its
 * every read and write with a bare InvalidRequestException, which the steps explain by name instead.
 */
export function scheduledForDeletion(description: Pick<DescribeSecretCommandOutput, 'DeletedDate'> | undefined): boolean {
  return description?.DeletedDate !== undefined && description.DeletedDate !== null;
}

export async function describeSecret(ctx: SecretReadContext, secretId: string): Promise<DescribeSecretCommandOutput> {
  try {
    return await ctx.client.describeSecret({ SecretId: secretId });
  } catch (err) {
    throw fromSecretsManagerError(err, 'DescribeSecret', { secretId, step: ctx.step });
  }
}

/** A version's SecretString, and the full ARN of the secret Secrets Manager resolved the id to. */
export interface SecretVersionText {
  readonly secretString: string;
  /** Undefined only when the answer leaves it out (Secrets Manager always sends it). */
  readonly arn?: string;
}

/**
 * The version's SecretString.
 * @throws SecretNotFoundError when the version (or its value) does not exist; SecretValidationError
 *   when it holds SecretBinary instead.
 */
export async function getSecretString(ctx: SecretReadContext, secretId: string, version: VersionSelector): Promise<string> {
  return (await getSecretVersionText(ctx, secretId, version)).secretString;
}

/**
 * `getSecretString` with the ARN Secrets Manager resolved `secretId` to: a name or a partial ARN names
 * the same secret as its full ARN, which only the answer tells.
 * @throws as `getSecretString`
 */
export async function getSecretVersionText(ctx: SecretReadContext, secretId: string, version: VersionSelector): Promise<SecretVersionText> {
  let value: string | undefined;
  let binary: boolean;
  let arn: string | undefined;
  try {
    const out = await ctx.client.getSecretValue({
      SecretId: secretId,
      VersionStage: version.stage,
      ...(version.versionId !== undefined ? { VersionId: version.versionId } : {}),
    });
    value = out.SecretString;
    binary = out.SecretBinary !== undefined;
    arn = out.ARN;
  } catch (err) {
    throw fromSecretsManagerError(err, `GetSecretValue(${version.stage})`, { secretId, step: ctx.step });
  }
  if (value === undefined && binary) {
    // The version exists: a not-found here would let createSecret take a binary AWSPENDING for a
    // missing one and try to write over it.
    throw new SecretValidationError(
      `GetSecretValue(${version.stage}): the version is stored as SecretBinary`,
      [{ path: '', problem: 'is binary (SecretBinary); a database secret is a SecretString holding JSON' }],
      { secretId, step: ctx.step },
    );
  }
  if (value === undefined) {
    throw new SecretNotFoundError(`GetSecretValue(${version.stage}): the version has no SecretString`, { secretId, step: ctx.step });
  }
  return { secretString: value, ...(arn !== undefined ? { arn } : {}) };
}

/** A version parsed as a database secret of `family`; the `engine` key is required, as in the templates. */
export async function readDatabaseSecret(
  ctx: SecretReadContext,
  secretId: string,
  version: VersionSelector,
  family: EngineFamily,
): Promise<DatabaseSecret> {
  return (await readDatabaseSecretVersion(ctx, secretId, version, family)).secret;
}

/**
 * `readDatabaseSecret` with the version's text as stored, for a next version that keeps every byte of it
 * but the credentials (see json-top-level.ts). The text holds the password: never log it.
 */
export async function readDatabaseSecretVersion(
  ctx: SecretReadContext,
  secretId: string,
  version: VersionSelector,
  family: EngineFamily,
): Promise<{ readonly secret: DatabaseSecret; readonly secretString: string }> {
  const secretString = await getSecretString(ctx, secretId, version);
  const secret = parseDatabaseSecret(secretString, { secretId, step: ctx.step, expectedFamily: family, requireEngine: true });
  return { secret, secretString };
}

/** AWSPREVIOUS is optional: absent when there is none or when it is not a valid secret for this engine. */
export async function readPreviousSecret(
  ctx: SecretReadContext,
  secretId: string,
  family: EngineFamily,
): Promise<DatabaseSecret | undefined> {
  try {
    return await readDatabaseSecret(ctx, secretId, { stage: AWSPREVIOUS }, family);
  } catch (err) {
    if (err instanceof SecretNotFoundError || err instanceof SecretValidationError) return undefined;
    throw err;
  }
}

/** The version id holding `stage`, if any. */
export function versionWithStage(
  versionIdsToStages: Readonly<Record<string, readonly string[]>> | undefined,
  stage: string,
): string | undefined {
  if (versionIdsToStages === undefined) return undefined;
  return Object.keys(versionIdsToStages).find((id) => versionIdsToStages[id]?.includes(stage));
}
