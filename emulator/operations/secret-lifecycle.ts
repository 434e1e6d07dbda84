/**
 * CreateSecret, DescribeSecret, UpdateSecret, DeleteSecret, RestoreSecret, TagResource, UntagResource.
 */
import { randomUUID } from 'node:crypto';
import type { EndpointContext, OperationTable } from '../context';
import { optBoolean, optInteger, optObjectList, optString, optStringList, reqString, type JsonObject } from '../input';
import type { SecretRecord } from '../store';
import { AWSCURRENT } from '../version-stages';
import { readSecretValue, writeVersion } from '../version-writes';
import { compact, describeSecretShape, epochSeconds } from '../wire-shapes';
import { invalidParameter, invalidRequest, markedForDeletion, WireError } from '../wire-errors';
import { applyTags, readTags } from './tags';

const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]+$/;
const DAY_MS = 86_400_000;

export function requireLive(secret: SecretRecord): SecretRecord {
  if (secret.deletedDate !== undefined) throw markedForDeletion();
  return secret;
}

export function readClientRequestToken(input: JsonObject): string | undefined {
  return optString(input, 'ClientRequestToken', { min: 32, max: 64 });
}

export function readSecretId(input: JsonObject): string {
  return reqString(input, 'SecretId', { min: 1, max: 2048 });
}

function createSecret(ctx: EndpointContext, input: JsonObject): JsonObject {
  const name = reqString(input, 'Name', { min: 1, max: 512 });
  if (!SECRET_NAME.test(name)) {
    throw invalidParameter('Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!');
  }
  const token = readClientRequestToken(input);
  const description = optString(input, 'Description', { max: 2048 });
  const kmsKeyId = optString(input, 'KmsKeyId', { max: 2048 });
  const tags = readTags(input);
  const value = readSecretValue(input);
  optBoolean(input, 'ForceOverwriteReplicaSecret');
  if ((optObjectList(input, 'AddReplicaRegions') ?? []).length > 0) {
    throw invalidRequest('Replication is not emulated by the local Secrets Manager endpoint.');
  }

  const existing = ctx.store.find(name);
  if (existing && existing.name === name) {
    if (existing.deletedDate !== undefined) {
      throw invalidRequest(`You can't create this secret because a secret with this name is already scheduled for deletion.`);
    }
    // A retried CreateSecret (same token, same value) answers as the first call did.
    const retried = token !== undefined && value !== undefined ? existing.versions.get(token) : undefined;
    if (retried && !writeVersion(existing, retried.versionId, value!, [], ctx.now()).changed) {
      return { ARN: existing.arn, Name: existing.name, VersionId: retried.versionId };
    }
    throw new WireError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
  }

  const secret = ctx.store.create(name);
  if (description !== undefined) secret.description = description;
  if (kmsKeyId !== undefined) secret.kmsKeyId = kmsKeyId;
  if (tags) applyTags(secret, tags);
  let versionId: string | undefined;
  if (value !== undefined) {
    versionId = token ?? randomUUID();
    writeVersion(secret, versionId, value, [AWSCURRENT], secret.createdDate);
  }
  return compact({ ARN: secret.arn, Name: secret.name, VersionId: versionId });
}

function describeSecret(ctx: EndpointContext, input: JsonObject): JsonObject {
  return describeSecretShape(ctx.store.resolve(readSecretId(input)));
}

function updateSecret(ctx: EndpointContext, input: JsonObject): JsonObject {
  const secretId = readSecretId(input);
  const token = readClientRequestToken(input);
  const description = optString(input, 'Description', { max: 2048 });
  const kmsKeyId = optString(input, 'KmsKeyId', { max: 2048 });
  const value = readSecretValue(input);
  const secret = requireLive(ctx.store.resolve(secretId));
  const now = ctx.now();
  let versionId: string | undefined;
  if (value !== undefined) {
    versionId = writeVersion(secret, token ?? randomUUID(), value, [AWSCURRENT], now).version.versionId;
  }
  if (description !== undefined) secret.description = description;
  if (kmsKeyId !== undefined) secret.kmsKeyId = kmsKeyId;
  if (description !== undefined || kmsKeyId !== undefined) secret.lastChangedDate = now;
  return compact({ ARN: secret.arn, Name: secret.name, VersionId: versionId });
}

function deleteSecret(ctx: EndpointContext, input: JsonObject): JsonObject {
  const secretId = readSecretId(input);
  const window = optInteger(input, 'RecoveryWindowInDays');
  const force = optBoolean(input, 'ForceDeleteWithoutRecovery') ?? false;
  if (force && window !== undefined) {
    throw invalidParameter("You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.");
  }
  if (window !== undefined && (window < 7 || window > 30)) {
    throw invalidParameter('The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).');
  }
  const secret = ctx.store.resolve(secretId);
  const now = ctx.now();
  if (force) {
    ctx.store.remove(secret);
    return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(now) };
  }
  if (secret.deletedDate !== undefined) {
    throw invalidRequest("You can't perform this operation on the secret because it was already scheduled for deletion.");
  }
  secret.deletedDate = now;
  secret.purgeDate = new Date(now.getTime() + (window ?? 30) * DAY_MS);
  secret.lastChangedDate = now;
  return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(secret.purgeDate) };
}

function restoreSecret(ctx: EndpointContext, input: JsonObject): JsonObject {
  const secret = ctx.store.resolve(readSecretId(input));
  if (secret.deletedDate !== undefined) {
    delete secret.deletedDate;
    delete secret.purgeDate;
    secret.lastChangedDate = ctx.now();
  }
  return { ARN: secret.arn, Name: secret.name };
}

function tagResource(ctx: EndpointContext, input: JsonObject): JsonObject {
  const secretId = readSecretId(input);
  const tags = readTags(input);
  if (tags === undefined) throw invalidParameter('Tags must be provided.');
  const secret = requireLive(ctx.store.resolve(secretId));
  applyTags(secret, tags);
  secret.lastChangedDate = ctx.now();
  return {};
}

function untagResource(ctx: EndpointContext, input: JsonObject): JsonObject {
  const secretId = readSecretId(input);
  const keys = optStringList(input, 'TagKeys', {}, { min: 1, max: 128 });
  if (keys === undefined) throw invalidParameter('TagKeys must be provided.');
  const secret = requireLive(ctx.store.resolve(secretId));
  for (const key of keys) secret.tags.delete(key);
  secret.lastChangedDate = ctx.now();
  return {};
}

export function secretLifecycleOperations(ctx: EndpointContext): OperationTable {
  return {
    CreateSecret: (input) => createSecret(ctx, input),
    DescribeSecret: (input) => describeSecret(ctx, input),
    UpdateSecret: (input) => updateSecret(ctx, input),
    DeleteSecret: (input) => deleteSecret(ctx, input),
    RestoreSecret: (input) => restoreSecret(ctx, input),
    TagResource: (input) => tagResource(ctx, input),
    UntagResource: (input) => untagResource(ctx, input),
  };
}
