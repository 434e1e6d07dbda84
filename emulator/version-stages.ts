/**
 * Staging-label rules: a label is on at most one version; moving AWSCURRENT puts AWSPREVIOUS on the
 * version that lost it; versions left without labels are deprecated and dropped past the version limit.
 */
import type { SecretRecord, SecretVersion } from './store';
import { WireError } from './wire-errors';

import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from '../shared/staging-labels';

export { AWSCURRENT, AWSPENDING, AWSPREVIOUS };

/** Secrets Manager's quota of versions per secret; deprecated ones beyond it are removed. */
export const MAX_VERSIONS = 100;
/** Staging labels one version can carry. */
export const MAX_STAGES_PER_VERSION = 20;

export function stageHolder(secret: SecretRecord, stage: string): SecretVersion | undefined {
  for (const version of secret.versions.values()) {
    if (version.stages.includes(stage)) return version;
  }
  return undefined;
}

function removeStage(version: SecretVersion, stage: string): void {
  version.stages = version.stages.filter((s) => s !== stage);
}

function addStage(version: SecretVersion, stage: string): void {
  if (version.stages.includes(stage)) return;
  if (version.stages.length >= MAX_STAGES_PER_VERSION) {
    throw new WireError(
      'LimitExceededException',
      `A version can have at most ${MAX_STAGES_PER_VERSION} staging labels; version ${version.versionId} already has that many.`,
    );
  }
  version.stages.push(stage);
}

/** Attaches `stage` to the version, taking it from whichever version held it (no checks: callers check). */
export function attachStage(secret: SecretRecord, stage: string, version: SecretVersion): void {
  const holder = stageHolder(secret, stage);
  if (holder === version) return;
  addStage(version, stage);
  if (holder) removeStage(holder, stage);
  if (stage === AWSCURRENT && holder) {
    const previous = stageHolder(secret, AWSPREVIOUS);
    if (previous) removeStage(previous, AWSPREVIOUS);
    addStage(holder, AWSPREVIOUS);
  }
}

export function detachStage(version: SecretVersion, stage: string): void {
  removeStage(version, stage);
}

/** The version an unfinished rotation left: AWSPENDING on a version that is not AWSCURRENT. */
export function pendingRotationVersion(secret: SecretRecord): SecretVersion | undefined {
  const pending = stageHolder(secret, AWSPENDING);
  return pending && !pending.stages.includes(AWSCURRENT) ? pending : undefined;
}

/** Labelled versions only, as DescribeSecret's VersionIdsToStages shows them. */
export function versionIdsToStages(secret: SecretRecord): Record<string, string[]> {
  const map: Record<string, string[]> = {};
  for (const version of secret.versions.values()) {
    if (version.stages.length) map[version.versionId] = [...version.stages];
  }
  return map;
}

/** Removes the oldest deprecated (unlabelled) versions while the secret is over the version limit. */
export function pruneDeprecated(secret: SecretRecord, limit = MAX_VERSIONS): void {
  if (secret.versions.size <= limit) return;
  for (const version of [...secret.versions.values()]) {
    if (secret.versions.size <= limit) return;
    if (version.stages.length === 0) secret.versions.delete(version.versionId);
  }
}
