/**
 * What an operator needs to know about one secret's rotation, read through the Secrets Manager API
 * only (works against AWS, LocalStack and the embedded endpoint alike). No value is ever read:
 * DescribeSecret and ListSecretVersionIds return labels and dates, never secret strings.
 */
import {
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  type DescribeSecretCommandOutput,
  type SecretsManagerClient,
  type SecretVersionsListEntry,
} from '@aws-sdk/client-secrets-manager';
import { fromSecretsManagerError } from '../shared/errors';

import { AWSCURRENT, AWSPENDING, AWSPREVIOUS } from '../shared/rotation/secret-versions';

export { AWSCURRENT, AWSPENDING, AWSPREVIOUS };

export interface VersionInfo {
  readonly versionId: string;
  readonly stages: readonly string[];
  /** ISO 8601, when the endpoint reports it. */
  readonly createdDate?: string;
}

export interface RotationConfiguration {
  readonly enabled: boolean;
  readonly lambdaArn?: string;
  /** `every N days`, a schedule expression, or undefined when none is set. */
  readonly schedule?: string;
  /** The rotation window, e.g. `3h`. */
  readonly window?: string;
}

/** An AWSPENDING label on a version that is not AWSCURRENT: every later rotation is refused until it goes. */
export interface StuckRotation {
  readonly pendingVersionId: string;
  readonly currentVersionId?: string;
  readonly pendingCreatedDate?: string;
  readonly reason: string;
}

export interface RotationStatus {
  readonly name: string;
  readonly arn: string;
  readonly rotation: RotationConfiguration;
  readonly lastRotatedDate?: string;
  readonly nextRotationDate?: string;
  readonly lastChangedDate?: string;
  readonly deletedDate?: string;
  /** Newest first when dates are known. */
  readonly versions: readonly VersionInfo[];
  readonly stuck?: StuckRotation;
  /** Label problems other than a stuck rotation (no AWSCURRENT, a label on two versions). */
  readonly problems: readonly string[];
}

/**
 * True when the last rotation finished and the labels are sound: AWSCURRENT on exactly one version, no
 * AWSPENDING apart from on AWSCURRENT, no label on two versions.
 */
export function isRotationComplete(status: RotationStatus): boolean {
  return status.stuck === undefined && status.problems.length === 0;
}

/**
 * The `--json` document of a status: every field always present, so a script can test
 * `.stuck` (null when not stuck) and `.complete` without knowing which fields are optional.
 */
export interface RotationStatusDocument extends Omit<RotationStatus, 'stuck'> {
  readonly stuck: StuckRotation | null;
  readonly complete: boolean;
}

export function toStatusDocument(status: RotationStatus): RotationStatusDocument {
  return { ...status, stuck: status.stuck ?? null, complete: isRotationComplete(status) };
}

export async function readRotationStatus(client: SecretsManagerClient, secretId: string): Promise<RotationStatus> {
  let described: DescribeSecretCommandOutput;
  try {
    described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  } catch (err) {
    throw fromSecretsManagerError(err, 'DescribeSecret', { secretId });
  }
  const listed = await listVersions(client, secretId);
  return summarizeRotationStatus(described, listed);
}

/** Pure: the status from DescribeSecret (and ListSecretVersionIds when it answered). */
export function summarizeRotationStatus(
  described: Pick<
    DescribeSecretCommandOutput,
    | 'Name'
    | 'ARN'
    | 'RotationEnabled'
    | 'RotationLambdaARN'
    | 'RotationRules'
    | 'LastRotatedDate'
    | 'NextRotationDate'
    | 'LastChangedDate'
    | 'DeletedDate'
    | 'VersionIdsToStages'
  >,
  listed?: readonly SecretVersionsListEntry[],
): RotationStatus {
  const versions = mergeVersions(described.VersionIdsToStages ?? {}, listed ?? []);
  const holders = (stage: string): VersionInfo[] => versions.filter((v) => v.stages.includes(stage));
  const current = holders(AWSCURRENT);
  const pending = holders(AWSPENDING);
  const problems: string[] = [];
  if (current.length === 0) problems.push('no version is labelled AWSCURRENT: readers of the secret fail');
  for (const stage of [AWSCURRENT, AWSPENDING, AWSPREVIOUS]) {
    if (holders(stage).length > 1) problems.push(`${stage} is on ${holders(stage).length} versions`);
  }
  const strayPending = pending.find((v) => !v.stages.includes(AWSCURRENT));
  const stuck: StuckRotation | undefined = strayPending
    ? {
        pendingVersionId: strayPending.versionId,
        ...(current[0] ? { currentVersionId: current[0].versionId } : {}),
        ...(strayPending.createdDate ? { pendingCreatedDate: strayPending.createdDate } : {}),
        reason: described.RotationEnabled
          ? 'AWSPENDING is on a version that is not AWSCURRENT: a rotation failed part-way (or is running right now)'
          : 'AWSPENDING is on a version that is not AWSCURRENT while rotation is off (CancelRotateSecret leaves one behind)',
      }
    : undefined;
  const rules = described.RotationRules;
  const schedule =
    rules?.ScheduleExpression ?? (rules?.AutomaticallyAfterDays !== undefined ? `every ${rules.AutomaticallyAfterDays} days` : undefined);
  return {
    name: described.Name ?? '',
    arn: described.ARN ?? '',
    rotation: {
      enabled: described.RotationEnabled === true,
      ...(described.RotationLambdaARN ? { lambdaArn: described.RotationLambdaARN } : {}),
      ...(schedule !== undefined ? { schedule } : {}),
      ...(rules?.Duration ? { window: rules.Duration } : {}),
    },
    ...isoField('lastRotatedDate', described.LastRotatedDate),
    ...isoField('nextRotationDate', described.NextRotationDate),
    ...isoField('lastChangedDate', described.LastChangedDate),
    ...isoField('deletedDate', described.DeletedDate),
    versions,
    ...(stuck ? { stuck } : {}),
    problems,
  };
}

/** Versions from DescribeSecret's label map, with creation dates from the list when it has them. */
function mergeVersions(
  labelled: Readonly<Record<string, readonly string[] | undefined>>,
  listed: readonly SecretVersionsListEntry[],
): VersionInfo[] {
  const byId = new Map<string, VersionInfo>();
  for (const entry of listed) {
    if (!entry.VersionId) continue;
    byId.set(entry.VersionId, {
      versionId: entry.VersionId,
      stages: [...(entry.VersionStages ?? [])],
      ...(entry.CreatedDate ? { createdDate: entry.CreatedDate.toISOString() } : {}),
    });
  }
  // DescribeSecret's map is authoritative for labels; the list may lag or omit unlabelled versions.
  for (const [versionId, stages] of Object.entries(labelled)) {
    const known = byId.get(versionId);
    byId.set(versionId, { ...known, versionId, stages: [...(stages ?? [])] });
  }
  for (const [versionId, info] of byId) {
    if (!Object.prototype.hasOwnProperty.call(labelled, versionId) && info.stages.length > 0) {
      byId.set(versionId, { ...info, stages: [] });
    }
  }
  return [...byId.values()].sort((a, b) => (b.createdDate ?? '').localeCompare(a.createdDate ?? ''));
}

/** Creation dates are a nicety: an endpoint without ListSecretVersionIds still gets a status. */
async function listVersions(client: SecretsManagerClient, secretId: string): Promise<SecretVersionsListEntry[] | undefined> {
  const out: SecretVersionsListEntry[] = [];
  let nextToken: string | undefined;
  try {
    do {
      const page = await client.send(
        new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true, ...(nextToken ? { NextToken: nextToken } : {}) }),
      );
      out.push(...(page.Versions ?? []));
      nextToken = page.NextToken;
    } while (nextToken);
  } catch {
    return undefined;
  }
  return out;
}

function isoField<K extends string>(key: K, date: Date | undefined): { [P in K]?: string } {
  return (date ? { [key]: date.toISOString() } : {}) as { [P in K]?: string };
}
