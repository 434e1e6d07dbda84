/**
 * Carries out a repair plan and checks its effect from the labels afterwards: LocalStack swallows a
 * rotation function's errors and AWS rotates asynchronously, so RotateSecret's own answer proves nothing.
 */
import { randomUUID } from 'node:crypto';
import {
  RotateSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { fromSecretsManagerError } from '../../shared/errors';
import type { RepairPlan } from './repair-plan';
import { AWSCURRENT, AWSPENDING, readRotationStatus, type RotationStatus } from './rotation-status';

export interface RepairOutcome {
  readonly plan: RepairPlan;
  readonly applied: boolean;
  /** True when, afterwards, no stray AWSPENDING is left (and, for a re-drive, AWSCURRENT moved). */
  readonly resolved: boolean;
  readonly after: RotationStatus;
  /** What went wrong, naming the call and the error class, never a value. */
  readonly error?: string;
}

export interface ApplyRepairOptions {
  /** How long to wait for a re-driven rotation to finish (AWS rotates asynchronously). @default 120000 */
  readonly waitMs?: number;
  readonly pollMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
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
  const removed = await removePending(client, secretId, plan.pendingVersionId);
  if (removed !== undefined) {
    return { plan, applied: false, resolved: false, after: await readRotationStatus(client, secretId), error: removed };
  }
  if (plan.action === 'remove-pending') {
    const after = await readRotationStatus(client, secretId);
    return { plan, applied: true, resolved: after.stuck === undefined, after };
  }
  return redrive(client, secretId, plan, options);
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

async function redrive(
  client: SecretsManagerClient,
  secretId: string,
  plan: RepairPlan,
  options: ApplyRepairOptions,
): Promise<RepairOutcome> {
  // Our own token names the new version, so success is "AWSCURRENT is on it", whatever else happened.
  const token = randomUUID();
  try {
    await client.send(new RotateSecretCommand({ SecretId: secretId, ClientRequestToken: token }));
  } catch (err) {
    const error = fromSecretsManagerError(err, 'RotateSecret', { secretId }).message;
    return { plan, applied: false, resolved: false, after: await readRotationStatus(client, secretId), error };
  }
  const done = (s: RotationStatus): boolean =>
    s.stuck === undefined && s.versions.some((v) => v.versionId === token && v.stages.includes(AWSCURRENT));
  // LocalStack and the embedded endpoint run the steps before answering; AWS runs them afterwards,
  // and a failing step looks like one still running, so only the deadline ends the wait.
  const waitMs = options.waitMs ?? 120_000;
  const pollMs = options.pollMs ?? 1000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const deadline = Date.now() + waitMs;
  let after = await readRotationStatus(client, secretId);
  while (!done(after) && Date.now() < deadline) {
    await sleep(pollMs);
    after = await readRotationStatus(client, secretId);
  }
  if (done(after)) return { plan, applied: true, resolved: true, after };
  const stillPending = after.stuck?.pendingVersionId;
  return {
    plan,
    applied: true,
    resolved: false,
    after,
    error:
      stillPending === token
        ? `the new rotation (version ${token}) did not finish: AWSPENDING is on it; check the rotation function's logs, ` +
          'then run rotation:repair again (--action remove-pending to only clear the label)'
        : `the new rotation (version ${token}) did not make that version AWSCURRENT`,
  };
}

