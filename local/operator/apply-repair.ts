/**
 * Carries out a repair plan and checks its effect from the labels afterwards: LocalStack swallows a
 * rotation function's errors and AWS rotates asynchronously, so RotateSecret's own answer proves nothing.
 *
 * A re-drive first RESUMES the stuck rotation, as Secrets Manager does when RotateSecret finds one
 * unfinished: same token, so a single-user setSecret that already changed the password finds it set.
 * Only when that does not complete in time does it clear the label and rotate afresh.
 */
import { randomUUID } from 'node:crypto';
import {
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { fromSecretsManagerError } from '../../shared/errors';
import type { RepairPlan } from './repair-plan';
import { readResumeAnswer, type ResumeAnswer } from './resume-answer';
import { AWSCURRENT, AWSPENDING, readRotationStatus, type RotationStatus } from './rotation-status';

/** How a re-drive ended up completing (or trying to): the stuck rotation itself, or a new one. */
export type RedrivePath = 'resumed' | 'fresh-rotation';

export interface RepairOutcome {
  readonly plan: RepairPlan;
  readonly applied: boolean;
  /** True when, afterwards, no stray AWSPENDING is left (and, for a re-drive, AWSCURRENT moved). */
  readonly resolved: boolean;
  readonly after: RotationStatus;
  /** For a re-drive: the last path taken. */
  readonly path?: RedrivePath;
  /** What went wrong, naming the call and the error class, never a value. */
  readonly error?: string;
}

export interface ApplyRepairOptions {
  /**
   * How long to wait for the resumed rotation, and again for a fallback rotation, to finish (AWS
   * rotates asynchronously). @default 120000
   */
  readonly waitMs?: number;
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The clock of the deadlines, in milliseconds; tests move it with `sleep`. */
  readonly now?: () => number;
}

interface Waiting {
  readonly waitMs: number;
  readonly pollMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
}

export async function applyRepair(
  client: SecretsManagerClient,
  secretId: string,
  plan: RepairPlan,
  options: ApplyRepairOptions = {},
): Promise<RepairOutcome> {
  if (plan.action === 'none' || plan.pendingVersionId === undefined) {
    const after = await readRotationStatus(client, secretId);
    return { plan, applied: false, resolved: after.stuck === undefined, after };
  }
  if (plan.action === 'redrive') return redrive(client, secretId, plan, plan.pendingVersionId, waiting(options));
  const removed = await removePending(client, secretId, plan.pendingVersionId);
  const after = await readRotationStatus(client, secretId);
  if (removed !== undefined) return { plan, applied: false, resolved: false, after, error: removed };
  return { plan, applied: true, resolved: after.stuck === undefined, after };
}

function waiting(options: ApplyRepairOptions): Waiting {
  return {
    waitMs: options.waitMs ?? 120_000,
    pollMs: options.pollMs ?? 1000,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
    now: options.now ?? Date.now,
  };
}

/** The error message, or undefined when the label is gone. */
async function removePending(client: SecretsManagerClient, secretId: string, versionId: string): Promise<string | undefined> {
  try {
    await client.send(new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: AWSPENDING, RemoveFromVersionId: versionId }));
    return undefined;
  } catch (err) {
    return fromSecretsManagerError(err, 'UpdateSecretVersionStage', { secretId }).message;
  }
}

/** Done: AWSCURRENT is on `versionId` and no stray AWSPENDING is left. */
function completedOn(versionId: string): (s: RotationStatus) => boolean {
  return (s) => s.stuck === undefined && s.versions.some((v) => v.versionId === versionId && v.stages.includes(AWSCURRENT));
}

/**
 * Re-reads the labels until `done` or the deadline. A failing step looks like one still running on
 * AWS, so only the deadline ends the wait; LocalStack and the embedded endpoint are final at once.
 */
async function waitUntil(
  client: SecretsManagerClient,
  secretId: string,
  done: (s: RotationStatus) => boolean,
  w: Waiting,
): Promise<RotationStatus> {
  const deadline = w.now() + w.waitMs;
  let status = await readRotationStatus(client, secretId);
  while (!done(status) && w.now() < deadline) {
    await w.sleep(w.pollMs);
    status = await readRotationStatus(client, secretId);
  }
  return status;
}

async function redrive(
  client: SecretsManagerClient,
  secretId: string,
  plan: RepairPlan,
  stuckVersionId: string,
  w: Waiting,
): Promise<RepairOutcome> {
  // No token of our own: the service re-attempts the stuck rotation under the stuck version's token.
  let answer: ResumeAnswer;
  try {
    const out = await client.send(new RotateSecretCommand({ SecretId: secretId }));
    answer = readResumeAnswer(out.VersionId !== undefined ? { versionId: out.VersionId } : {});
  } catch (err) {
    answer = readResumeAnswer({ error: err });
    if (answer.kind === 'refused') {
      const refused = fromSecretsManagerError(err, 'RotateSecret', { secretId }).message;
      return {
        plan,
        applied: false,
        resolved: false,
        after: await readRotationStatus(client, secretId),
        error: `${refused}: the stuck rotation was not resumed and no label was changed`,
      };
    }
  }
  // An endpoint that rotates anyway instead of refusing: that rotation is the one to wait for.
  const target = answer.kind === 'started' && answer.versionId !== undefined ? answer.versionId : stuckVersionId;
  const path: RedrivePath = target === stuckVersionId ? 'resumed' : 'fresh-rotation';
  const resumed = await waitUntil(client, secretId, completedOn(target), w);
  if (completedOn(target)(resumed)) return { plan, applied: true, resolved: true, path, after: resumed };
  if (path === 'fresh-rotation') return unfinished(plan, resumed, target, path);
  return fallBackToFreshRotation(client, secretId, plan, stuckVersionId, resumed, w);
}

/** The last resort, unsafe for a single-user secret whose setSecret already ran (the plan warns). */
async function fallBackToFreshRotation(
  client: SecretsManagerClient,
  secretId: string,
  plan: RepairPlan,
  stuckVersionId: string,
  before: RotationStatus,
  w: Waiting,
): Promise<RepairOutcome> {
  const path: RedrivePath = 'fresh-rotation';
  // Someone else moved the labels meanwhile: clearing a label we no longer understand could do harm.
  if (before.stuck?.pendingVersionId !== stuckVersionId) {
    return {
      plan,
      applied: true,
      resolved: false,
      path: 'resumed',
      after: before,
      error:
        `the resumed rotation did not make ${stuckVersionId} AWSCURRENT and the labels changed meanwhile; ` +
        'run rotation:status, then rotation:repair again',
    };
  }
  const removed = await removePending(client, secretId, stuckVersionId);
  if (removed !== undefined) {
    return { plan, applied: true, resolved: false, path, after: await readRotationStatus(client, secretId), error: removed };
  }
  // Our own token names the new version, so success is "AWSCURRENT is on it", whatever else happened.
  const token = randomUUID();
  try {
    await client.send(new RotateSecretCommand({ SecretId: secretId, ClientRequestToken: token }));
  } catch (err) {
    const error = `${fromSecretsManagerError(err, 'RotateSecret', { secretId }).message} (AWSPENDING was already removed from ${stuckVersionId})`;
    return { plan, applied: true, resolved: false, path, after: await readRotationStatus(client, secretId), error };
  }
  const after = await waitUntil(client, secretId, completedOn(token), w);
  if (completedOn(token)(after)) return { plan, applied: true, resolved: true, path, after };
  return unfinished(plan, after, token, path);
}

function unfinished(plan: RepairPlan, after: RotationStatus, token: string, path: RedrivePath): RepairOutcome {
  return {
    plan,
    applied: true,
    resolved: false,
    path,
    after,
    error:
      after.stuck?.pendingVersionId === token
        ? `the new rotation (version ${token}) did not finish: AWSPENDING is on it; check the rotation function's logs, ` +
          'then run rotation:repair again (--action remove-pending to only clear the label)'
        : `the new rotation (version ${token}) did not make that version AWSCURRENT`,
  };
}
