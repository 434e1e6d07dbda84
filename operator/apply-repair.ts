/**
 * Carries out a repair plan and checks its effect from the labels afterwards: LocalStack swallows a
 * rotation function's errors and AWS rotates asynchronously, so RotateSecret's own answer proves nothing.
 *
 * A re-drive first RESUMES the stuck rotation, as Secrets Manager does when RotateSecret finds one
 * unfinished: same token, so a single-user setSecret that already changed the password finds it set.
 * Only when that does not complete in time does it clear the label and rotate afresh, ONCE per stuck
 * rotation: the fallback's token is derived from the stuck version's, so a later run that finds the
 * fallback itself stuck recognises it and resumes it instead of minting yet another version.
 */
import { createHash } from 'node:crypto';
import { RotateSecretCommand, UpdateSecretVersionStageCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fromSecretsManagerError } from '../shared/errors';
import type { RepairPlan } from './repair-plan';
import { readResumeAnswer, type ResumeAnswer } from './resume-answer';
import { AWSCURRENT, AWSPENDING, isRotationComplete, readRotationStatus, type RotationStatus } from './rotation-status';
import { noProgress, reportWhile, type ProgressSink } from './wait-progress';

/** How a re-drive ended up completing (or trying to): the stuck rotation itself, or a new one. */
export type RedrivePath = 'resumed' | 'fresh-rotation';

export interface RepairOutcome {
  readonly plan: RepairPlan;
  readonly applied: boolean;
  /**
   * True when, afterwards, no stray AWSPENDING is left, AWSCURRENT is on exactly one version and no
   * label is on two (and, for a re-drive, AWSCURRENT moved to the version awaited).
   */
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
  /** Told what is awaited and for how long, at every poll and during long calls. @default nothing shown */
  readonly progress?: ProgressSink;
}

interface Waiting {
  readonly waitMs: number;
  readonly pollMs: number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly progress: ProgressSink;
}

export async function applyRepair(
  client: SecretsManagerClient,
  secretId: string,
  plan: RepairPlan,
  options: ApplyRepairOptions = {},
): Promise<RepairOutcome> {
  if (plan.action === 'none' || plan.pendingVersionId === undefined) {
    const after = await readRotationStatus(client, secretId);
    return withLabelCheck({ plan, applied: false, resolved: true, after });
  }
  if (plan.action === 'redrive') {
    return withLabelCheck(await redrive(client, secretId, plan, plan.pendingVersionId, waiting(options)));
  }
  const removed = await removePending(client, secretId, plan.pendingVersionId);
  const after = await readRotationStatus(client, secretId);
  if (removed !== undefined) return { plan, applied: false, resolved: false, after, error: removed };
  return withLabelCheck({ plan, applied: true, resolved: true, after });
}

/**
 * No outcome is `resolved` on labels that are not sound, whatever the path said: an endpoint that
 * moved AWSCURRENT without taking it off the old version has not finished a rotation.
 */
function withLabelCheck(outcome: RepairOutcome): RepairOutcome {
  if (!outcome.resolved || isRotationComplete(outcome.after)) return outcome;
  const problems = [...outcome.after.problems, ...(outcome.after.stuck ? ['a stray AWSPENDING is still there'] : [])];
  return { ...outcome, resolved: false, error: `the labels are not sound afterwards: ${problems.join('; ')}` };
}

function waiting(options: ApplyRepairOptions): Waiting {
  return {
    waitMs: options.waitMs ?? 120_000,
    pollMs: options.pollMs ?? 1000,
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
    now: options.now ?? Date.now,
    progress: options.progress ?? noProgress,
  };
}

/** The error message, or undefined when the label is gone. */
async function removePending(client: SecretsManagerClient, secretId: string, versionId: string): Promise<string | undefined> {
  try {
    await client.send(
      new UpdateSecretVersionStageCommand({ SecretId: secretId, VersionStage: AWSPENDING, RemoveFromVersionId: versionId }),
    );
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
  awaiting: string,
  w: Waiting,
): Promise<RotationStatus> {
  const started = w.now();
  const deadline = started + w.waitMs;
  let status = await readRotationStatus(client, secretId);
  try {
    while (!done(status) && w.now() < deadline) {
      w.progress({ awaiting, elapsedMs: w.now() - started, limitMs: w.waitMs });
      await w.sleep(w.pollMs);
      status = await readRotationStatus(client, secretId);
    }
  } finally {
    w.progress(undefined);
  }
  return status;
}

/** RotateSecret, with progress while the endpoint runs the rotation before answering (emulators do). */
function rotateSecret(client: SecretsManagerClient, input: { SecretId: string; ClientRequestToken?: string }, w: Waiting) {
  return reportWhile(w.progress, 'RotateSecret to answer (an emulator runs the rotation first)', () =>
    client.send(new RotateSecretCommand(input)),
  );
}

/**
 * The token of the one fallback rotation for a stuck version: a UUID derived from the stuck version's
 * id, so it is the same on every run and recognisable afterwards.
 */
export function fallbackToken(stuckVersionId: string): string {
  const hex = createHash('sha256').update(`rotation:repair fallback for ${stuckVersionId}`).digest('hex');
  // RFC 9562 layout: version 8 (custom), variant 10xx.
  const variant = ((parseInt(hex[16]!, 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The version the stuck one is the fallback of, when it is one: its rotation was already started afresh. */
function fallbackOrigin(status: RotationStatus, stuckVersionId: string): string | undefined {
  return status.versions.find((v) => v.versionId !== stuckVersionId && fallbackToken(v.versionId) === stuckVersionId)?.versionId;
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
    const out = await rotateSecret(client, { SecretId: secretId }, w);
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
  const resumed = await waitUntil(
    client,
    secretId,
    completedOn(target),
    `AWSCURRENT to move to ${target} (${path === 'resumed' ? 'the resumed rotation' : 'the rotation the endpoint started'})`,
    w,
  );
  if (completedOn(target)(resumed)) return { plan, applied: true, resolved: true, path, after: resumed };
  if (path === 'fresh-rotation') return unfinished(plan, resumed, target, path);
  const origin = fallbackOrigin(resumed, stuckVersionId);
  if (origin !== undefined) {
    return {
      plan,
      applied: true,
      resolved: false,
      path,
      after: resumed,
      error:
        `the resumed rotation of ${stuckVersionId} did not complete; that version is already the fresh rotation an earlier ` +
        `rotation:repair started for ${origin}, so no further version was made: check the rotation function's logs, ` +
        'fix the cause, then run rotation:repair again',
    };
  }
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
  const token = fallbackToken(stuckVersionId);
  try {
    await rotateSecret(client, { SecretId: secretId, ClientRequestToken: token }, w);
  } catch (err) {
    const error = `${fromSecretsManagerError(err, 'RotateSecret', { secretId }).message} (AWSPENDING was already removed from ${stuckVersionId})`;
    return { plan, applied: true, resolved: false, path, after: await readRotationStatus(client, secretId), error };
  }
  const after = await waitUntil(client, secretId, completedOn(token), `AWSCURRENT to move to ${token} (the fallback rotation)`, w);
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
