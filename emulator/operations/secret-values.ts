/**
 * GetSecretValue, BatchGetSecretValue, PutSecretValue, UpdateSecretVersionStage, ListSecretVersionIds.
 */
import { randomUUID } from 'node:crypto';
import type { EndpointContext, OperationTable } from '../context';
import { optBoolean, optInteger, optObjectList, optString, optStringList, reqString, type JsonObject } from '../input';
import { page } from '../pagination';
import { hasValue, type SecretRecord, type SecretVersion } from '../store';
import { AWSCURRENT, attachStage, detachStage, pruneDeprecated, stageHolder } from '../version-stages';
import { readSecretValue, writeVersion } from '../version-writes';
import { compact, secretValueShape, startOfUtcDay, versionListEntryShape } from '../wire-shapes';
import { invalidParameter, invalidRequest, markedForDeletion, WireError } from '../wire-errors';
import { matchesFilters, readFilters } from './secret-filters';
import { readClientRequestToken, readSecretId, requireLive } from './secret-lifecycle';

const VERSION_ID = { min: 32, max: 64 } as const;
const STAGE = { min: 1, max: 256 } as const;

function valueNotFound(detail: string): WireError {
  return new WireError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for ${detail}.`);
}

/** The version GetSecretValue answers with: by id, by stage (AWSCURRENT by default), or both agreeing. */
function selectVersion(secret: SecretRecord, versionId?: string, versionStage?: string): SecretVersion {
  let version: SecretVersion | undefined;
  if (versionId !== undefined) {
    version = secret.versions.get(versionId);
    if (!version) throw valueNotFound(`VersionId: ${versionId}`);
    if (versionStage !== undefined && !version.stages.includes(versionStage)) {
      throw new WireError('ResourceNotFoundException', 'You provided a VersionStage that is not associated to the provided VersionId.');
    }
  } else {
    const stage = versionStage ?? AWSCURRENT;
    version = stageHolder(secret, stage);
    if (!version) throw valueNotFound(`staging label: ${stage}`);
  }
  // The AWSPENDING version RotateSecret creates has no value until createSecret stores one.
  if (!hasValue(version))
    throw valueNotFound(versionId !== undefined ? `VersionId: ${versionId}` : `staging label: ${versionStage ?? AWSCURRENT}`);
  return version;
}

function readValue(ctx: EndpointContext, secret: SecretRecord, versionId?: string, versionStage?: string): JsonObject {
  requireLive(secret);
  const version = selectVersion(secret, versionId, versionStage);
  const day = startOfUtcDay(ctx.now());
  secret.lastAccessedDate = day;
  version.lastAccessedDate = day;
  return secretValueShape(secret, version);
}

function getSecretValue(ctx: EndpointContext, input: JsonObject): JsonObject {
  const secretId = readSecretId(input);
  const versionId = optString(input, 'VersionId', VERSION_ID);
  const versionStage = optString(input, 'VersionStage', STAGE);
  return readValue(ctx, ctx.store.resolve(secretId), versionId, versionStage);
}

function errorEntry(secretId: string, err: unknown): JsonObject {
  if (!(err instanceof WireError)) throw err;
  return { SecretId: secretId, ErrorCode: err.type, Message: err.message };
}

function batchGetSecretValue(ctx: EndpointContext, input: JsonObject): JsonObject {
  const ids = optStringList(input, 'SecretIdList', { min: 1, max: 20 }, { min: 1, max: 2048 });
  const filtersGiven = optObjectList(input, 'Filters') !== undefined;
  const maxResults = optInteger(input, 'MaxResults', { min: 1, max: 20 });
  const nextToken = optString(input, 'NextToken', { min: 1, max: 4096 });
  if ((ids === undefined) === !filtersGiven) {
    throw invalidParameter('Either SecretIdList or Filters must be provided, but not both.');
  }
  const values: JsonObject[] = [];
  const errors: JsonObject[] = [];
  const collect = (secretId: string, secret: SecretRecord | undefined): void => {
    try {
      values.push(readValue(ctx, secret ?? ctx.store.resolve(secretId), undefined, AWSCURRENT));
    } catch (err) {
      errors.push(errorEntry(secretId, err));
    }
  };
  if (ids !== undefined) {
    if (maxResults !== undefined || nextToken !== undefined) {
      throw invalidParameter('MaxResults and NextToken can be used only with Filters.');
    }
    for (const id of ids) collect(id, undefined);
    return compact({ SecretValues: values, Errors: errors.length ? errors : undefined });
  }
  const filters = readFilters(input);
  const matching = ctx.store
    .all()
    .filter((secret) => secret.deletedDate === undefined && matchesFilters(secret, filters))
    .sort((a, b) => a.createdDate.getTime() - b.createdDate.getTime());
  const slice = page(matching, maxResults ?? 20, nextToken, 'BatchGetSecretValue');
  for (const secret of slice.items) collect(secret.arn, secret);
  return compact({ SecretValues: values, Errors: errors.length ? errors : undefined, NextToken: slice.nextToken });
}

function putSecretValue(ctx: EndpointContext, input: JsonObject): JsonObject {
  const secretId = readSecretId(input);
  const token = readClientRequestToken(input);
  const stages = optStringList(input, 'VersionStages', { min: 1, max: 20 }, STAGE);
  // Accepted as the service accepts it from a rotation function; its origin is not checked here.
  optString(input, 'RotationToken', { max: 256 });
  const value = readSecretValue(input);
  if (value === undefined) throw invalidRequest('You must provide either SecretString or SecretBinary.');
  const secret = requireLive(ctx.store.resolve(secretId));
  const { version } = writeVersion(secret, token ?? randomUUID(), value, stages ?? [AWSCURRENT], ctx.now());
  return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId, VersionStages: [...version.stages] };
}

function existingVersion(secret: SecretRecord, versionId: string): SecretVersion {
  const version = secret.versions.get(versionId);
  if (!version) {
    throw new WireError('ResourceNotFoundException', `Secrets Manager can't find the specified secret version: ${versionId}.`);
  }
  return version;
}

function updateSecretVersionStage(ctx: EndpointContext, input: JsonObject): JsonObject {
  const secretId = readSecretId(input);
  const stage = reqString(input, 'VersionStage', STAGE);
  const moveTo = optString(input, 'MoveToVersionId', VERSION_ID);
  const removeFrom = optString(input, 'RemoveFromVersionId', VERSION_ID);
  const secret = ctx.store.resolve(secretId);
  if (secret.deletedDate !== undefined) throw markedForDeletion();
  const holder = stageHolder(secret, stage);

  if (moveTo !== undefined) {
    const target = existingVersion(secret, moveTo);
    if (holder && holder !== target && removeFrom !== holder.versionId) {
      throw invalidParameter(
        removeFrom === undefined
          ? `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.versionId}, so you must explicitly reference that version in RemoveFromVersionId.`
          : `When you move staging label ${stage}, RemoveFromVersionId must be the version that currently has it (${holder.versionId}).`,
      );
    }
    if (!holder && removeFrom !== undefined && removeFrom !== moveTo) {
      throw invalidParameter(`The staging label ${stage} is not attached to version ${removeFrom}.`);
    }
    attachStage(secret, stage, target);
  } else if (removeFrom !== undefined) {
    if (stage === AWSCURRENT) {
      throw invalidParameter(
        `You can only move staging label ${AWSCURRENT} to a different secret version. It can't be completely removed.`,
      );
    }
    const version = existingVersion(secret, removeFrom);
    if (holder !== version) throw invalidParameter(`The staging label ${stage} is not attached to version ${removeFrom}.`);
    detachStage(version, stage);
  } else {
    throw invalidParameter('You must specify MoveToVersionId, RemoveFromVersionId, or both.');
  }
  pruneDeprecated(secret);
  secret.lastChangedDate = ctx.now();
  return { ARN: secret.arn, Name: secret.name };
}

function listSecretVersionIds(ctx: EndpointContext, input: JsonObject): JsonObject {
  const secretId = readSecretId(input);
  const maxResults = optInteger(input, 'MaxResults', { min: 1, max: 100 }) ?? 100;
  const nextToken = optString(input, 'NextToken', { min: 1, max: 4096 });
  const includeDeprecated = optBoolean(input, 'IncludeDeprecated') ?? false;
  const secret = ctx.store.resolve(secretId);
  const versions = [...secret.versions.values()].filter((version) => includeDeprecated || version.stages.length > 0).reverse();
  const slice = page(versions, maxResults, nextToken, `ListSecretVersionIds:${secret.arn}`);
  return compact({
    Versions: slice.items.map(versionListEntryShape),
    NextToken: slice.nextToken,
    ARN: secret.arn,
    Name: secret.name,
  });
}

export function secretValueOperations(ctx: EndpointContext): OperationTable {
  return {
    GetSecretValue: (input) => getSecretValue(ctx, input),
    BatchGetSecretValue: (input) => batchGetSecretValue(ctx, input),
    PutSecretValue: (input) => putSecretValue(ctx, input),
    UpdateSecretVersionStage: (input) => updateSecretVersionStage(ctx, input),
    ListSecretVersionIds: (input) => listSecretVersionIds(ctx, input),
  };
}
