/**
 * What `rotation:repair` would do for a secret, decided from its status alone (pure, so the decision is
 * tested without an endpoint). The plan always says in words whether AWSCURRENT moves.
 */
import type { RotationStatus } from './rotation-status';

export type RepairAction = 'remove-pending' | 'redrive';

export const REPAIR_ACTIONS: readonly RepairAction[] = ['remove-pending', 'redrive'];

export interface RepairPlan {
  readonly secret: string;
  /** 'none' when there is nothing to repair, or the requested action cannot apply. */
  readonly action: RepairAction | 'none';
  readonly pendingVersionId?: string;
  readonly currentVersionId?: string;
  /** Whether the action moves AWSCURRENT (a re-driven rotation ends by moving it). */
  readonly touchesCurrent: boolean;
  /** Each line one thing the action does, in order. */
  readonly steps: readonly string[];
  readonly warnings: readonly string[];
  /** Why nothing will be done, when `action` is 'none'. */
  readonly blocked?: string;
}

/** A pending version younger than this may belong to a rotation that is still running. */
export const RECENT_PENDING_MS = 15 * 60 * 1000;

export function isRepairAction(value: string): value is RepairAction {
  return (REPAIR_ACTIONS as readonly string[]).includes(value);
}

export function planRepair(status: RotationStatus, requested?: RepairAction, now: Date = new Date()): RepairPlan {
  const secret = status.name || status.arn;
  const stuck = status.stuck;
  if (!stuck) {
    return { secret, action: 'none', touchesCurrent: false, steps: [], warnings: [], blocked: 'the rotation is not stuck: nothing to repair' };
  }
  const lambdaArn = status.rotation.lambdaArn;
  const action: RepairAction = requested ?? (status.rotation.enabled && lambdaArn ? 'redrive' : 'remove-pending');
  const ids = {
    pendingVersionId: stuck.pendingVersionId,
    ...(stuck.currentVersionId ? { currentVersionId: stuck.currentVersionId } : {}),
  };
  const warnings: string[] = [];
  if (stuck.pendingCreatedDate && now.getTime() - Date.parse(stuck.pendingCreatedDate) < RECENT_PENDING_MS) {
    warnings.push(
      'the pending version was created less than 15 minutes ago: a rotation may still be running; repairing now races it',
    );
  }
  if (action === 'redrive') {
    if (!lambdaArn) {
      return {
        secret,
        action: 'none',
        ...ids,
        touchesCurrent: false,
        steps: [],
        warnings,
        blocked: 'no rotation function is attached, so the rotation cannot be re-driven; use --action remove-pending',
      };
    }
    warnings.push(
      `if setSecret already ran for ${stuck.pendingVersionId}, the database may hold that version's password: ` +
        'the new rotation then fails to log in with AWSCURRENT and leaves a new stray AWSPENDING, which this command shows again',
    );
    return {
      secret,
      action,
      ...ids,
      touchesCurrent: true,
      steps: [
        // RotateSecret refuses to start while a stray AWSPENDING exists (on AWS as locally), so the
        // stray label goes first; the version itself is kept.
        `remove the AWSPENDING label from version ${stuck.pendingVersionId} (UpdateSecretVersionStage; the version is kept)`,
        `start a new rotation with RotateSecret, run by ${lambdaArn}`,
        `on success finishSecret MOVES AWSCURRENT from ${stuck.currentVersionId ?? '(none)'} to the new version; the old one becomes AWSPREVIOUS`,
        ...(status.rotation.enabled ? [] : ['RotateSecret also turns rotation back on for this secret']),
        'then re-read the labels until AWSCURRENT has moved and no stray AWSPENDING is left',
      ],
      warnings,
    };
  }
  warnings.push(
    `if setSecret already ran for ${stuck.pendingVersionId}, the database holds that version's password, not AWSCURRENT's: ` +
      'the version itself is kept (only its label goes), so it can be made AWSCURRENT again with UpdateSecretVersionStage',
  );
  return {
    secret,
    action,
    ...ids,
    touchesCurrent: false,
    steps: [
      `remove the AWSPENDING label from version ${stuck.pendingVersionId} (UpdateSecretVersionStage)`,
      `AWSCURRENT stays on ${stuck.currentVersionId ?? '(none)'}: it is not touched`,
      'the next rotation then starts afresh',
    ],
    warnings,
  };
}

export function renderRepairPlan(plan: RepairPlan, willApply: boolean): string {
  if (plan.action === 'none') return `rotation:repair ${plan.secret}: ${plan.blocked ?? 'nothing to do'}`;
  return [
    `rotation:repair ${plan.secret}: ${plan.action}${willApply ? '' : ' (dry run: pass --yes to apply)'}`,
    `AWSCURRENT: ${plan.touchesCurrent ? 'WILL MOVE to the pending version if the rotation succeeds' : 'not touched'}`,
    ...plan.steps.map((s, i) => `  ${i + 1}. ${s}`),
    ...plan.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}
