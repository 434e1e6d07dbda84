/**
 * Recovering a failed rotation the way Secrets Manager and an operator do, in escalating rungs:
 *   1. re-invoke the failed step, then the remaining ones (Lambda's retries of an async invocation);
 *   2. the whole rotation again with the same token (Secrets Manager's next attempt: retryRotation);
 *   3. clear the stuck AWSPENDING and start afresh with a new token (the rotation:repair command).
 */
import { ROTATION_STEPS } from '../../shared/rotation/event';
import { applyRepair } from '../../operator/apply-repair';
import { planRepair } from '../../operator/repair-plan';
import { readRotationStatus } from '../../operator/rotation-status';
import type { Rig } from './rotation-rig';

export type Rung = 'retry-step' | 'same-token' | 'fresh-token';
export const RUNGS: readonly Rung[] = ['retry-step', 'same-token', 'fresh-token'];

export interface FailedRotation {
  readonly token: string;
  readonly failedStep: string;
}

export interface RecoveryOutcome {
  /** The rung that completed the rotation. */
  readonly rung: Rung;
  /** The rungs tried, in order. */
  readonly tried: readonly Rung[];
}

/** The last rotation run of the secret, when it failed. */
export function lastFailure(rig: Rig): FailedRotation | undefined {
  const record = rig.endpoint.local.rotationHistory(rig.secretId).at(-1);
  if (record === undefined || record.outcome !== 'failed' || record.failedStep === undefined) return undefined;
  return { token: record.token, failedStep: record.failedStep };
}

/**
 * Climbs from `start` until a rung completes the rotation. `afterEach` runs after every invocation and
 * rung (the observation points of the caller's invariants).
 */
export async function recover(
  rig: Rig,
  failure: FailedRotation,
  start: Rung,
  afterEach: (what: string) => Promise<void>,
): Promise<RecoveryOutcome> {
  const tried: Rung[] = [];
  for (const rung of RUNGS.slice(RUNGS.indexOf(start))) {
    tried.push(rung);
    if (await runRung(rig, failure, rung, afterEach)) return { rung, tried };
  }
  throw new Error(`rotation of ${rig.secretId} did not recover (tried ${tried.join(', ')})`);
}

async function runRung(rig: Rig, failure: FailedRotation, rung: Rung, afterEach: (what: string) => Promise<void>): Promise<boolean> {
  if (rung === 'retry-step') {
    const from = (ROTATION_STEPS as readonly string[]).indexOf(failure.failedStep);
    try {
      for (const step of ROTATION_STEPS.slice(from)) {
        await rig.invoke(step, failure.token);
        await afterEach(`retried ${step}`);
      }
      return true;
    } catch {
      await afterEach('retried step failed');
      return false;
    }
  }
  if (rung === 'same-token') {
    if (await finishedAlready(rig, failure)) return true;
    const record = await rig.endpoint.local.retryRotation(rig.secretId);
    await afterEach('retryRotation');
    return record.outcome === 'succeeded';
  }
  return redriveAsOperator(rig, afterEach);
}

/**
 * A failure on the answer of finishSecret's label move leaves nothing unfinished: Secrets Manager has no
 * rotation to re-attempt (retryRotation refuses), and re-invoking the step finds the token current.
 */
async function finishedAlready(rig: Rig, failure: FailedRotation): Promise<boolean> {
  const state = await rig.state();
  return state.current.versionId === failure.token && state.pending === undefined;
}

/** What `rotation:repair --action redrive --yes` does, through its own plan and apply functions. */
export async function redriveAsOperator(rig: Rig, afterEach: (what: string) => Promise<void>): Promise<boolean> {
  const status = await readRotationStatus(rig.endpoint.client, rig.secretId);
  const plan = planRepair(status, 'redrive');
  if (plan.action === 'none') return false;
  const outcome = await applyRepair(rig.endpoint.client, rig.secretId, plan, { waitMs: 0, pollMs: 0 });
  await afterEach('operator redrive');
  return outcome.resolved;
}
