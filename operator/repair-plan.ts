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
    return {
      secret,
      action: 'none',
      touchesCurrent: false,
      steps: [],
      warnings: [],
      blocked: 'the rotation is not stuck: nothing to repair',
    };
  }
  const lambdaArn = status.rotation.lambdaArn;
  const action: RepairAction = requested ?? (status.rotation.enabled && lambdaArn ? 'redrive' : 'remove-pending');
  const ids = {
    pendingVersionId: stuck.pendingVersionId,
    ...(stuck.currentVersionId ? { currentVersionId: stuck.currentVersionId } : {}),
  };
  const warnings: string[] = [];
  if (stuck.pendingCreatedDate && now.getTime() - Date.parse(stuck.pendingCreatedDate) < RECENT_PENDING_MS) {
    warnings.push('the pending version was created less than 15 minutes ago: a rotation may still be running; repairing now races it');
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
      `only if the resumed rotation does not complete in time: the fallback removes AWSPENDING from ${stuck.pendingVersionId}. ` +
        "If setSecret already ran for it, the database holds that version's password: for a single-user secret neither " +
        "AWSCURRENT nor AWSPENDING then logs in until the new rotation's setSecret heals the password through the master " +
        'secret (masterarn), and without masterarn it stays locked out; the version is kept, so it can be made AWSCURRENT ' +
        'with UpdateSecretVersionStage',
    );
    warnings.push(
      'on AWS the reattempt runs asynchronously: a fallback after --wait-seconds may race a reattempt still running; ' +
        'give it time (default 120 s) rather than a short wait',
    );
    return {
      secret,
      action,
      ...ids,
      touchesCurrent: true,
      steps: [
        // Resuming keeps the stuck version's token: its setSecret finds the password already set and
        // its testSecret logs in with it, where a fresh rotation would start from a password that no
        // longer works (single user).
        `resume the stuck rotation: RotateSecret is refused with "A previous rotation isn't complete. That rotation will be reattempted." ` +
          `and re-attempts it with its own token (version ${stuck.pendingVersionId}), run by ${lambdaArn}`,
        `on success finishSecret MOVES AWSCURRENT from ${stuck.currentVersionId ?? '(none)'} to ${stuck.pendingVersionId}; the old one becomes AWSPREVIOUS`,
        `re-read the labels until AWSCURRENT is on ${stuck.pendingVersionId} and no stray AWSPENDING is left (--wait-seconds)`,
        `fallback, only if that does not happen in time: remove the AWSPENDING label from ${stuck.pendingVersionId} ` +
          '(UpdateSecretVersionStage; the version is kept), start a new rotation with a new token, and wait until AWSCURRENT is on it',
        ...(status.rotation.enabled
          ? []
          : ['rotation is off: a resumed rotation leaves it off; a fallback RotateSecret turns it back on for this secret']),
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
    ...(plan.action === 'redrive'
      ? [
          'path: RESUME the stuck rotation with its own token; a fresh rotation with a new token only as a fallback if it does not complete in time',
        ]
      : []),
    `AWSCURRENT: ${plan.touchesCurrent ? currentFate(plan) : 'not touched'}`,
    ...plan.steps.map((s, i) => `  ${i + 1}. ${s}`),
    ...plan.warnings.map((w) => `warning: ${w}`),
  ].join('\n');
}

function currentFate(plan: RepairPlan): string {
  if (plan.action !== 'redrive') return 'WILL MOVE';
  return (
    `WILL MOVE to the stuck version ${plan.pendingVersionId ?? '(none)'} when the resumed rotation succeeds ` +
    '(to a new version if the fallback runs)'
  );
}
