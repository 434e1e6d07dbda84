/**
 * The staging-label gate every step passes first, in the AWS templates' order: rotation enabled, token
 * known, token already AWSCURRENT (success, nothing to do), token AWSPENDING. The step name is checked
 * only after this gate, also as in the templates. One check the templates lack: a secret scheduled for
 * deletion is refused by name once the token is known and not already AWSCURRENT (Secrets Manager would
 * refuse each of the step's calls with an unexplained InvalidRequestException).
 */
import type { DescribeSecretCommandOutput } from '@aws-sdk/client-secrets-manager';
import { InvalidRequestError, RotationDisabledError, StageMismatchError } from '../errors';
import { AWSCURRENT, AWSPENDING, scheduledForDeletion } from './secret-versions';

export type GateDecision = 'run' | 'already-current';

/** What the gate reads of the step's DescribeSecret answer. */
export type GateInput = Pick<DescribeSecretCommandOutput, 'RotationEnabled' | 'VersionIdsToStages' | 'DeletedDate'>;

/**
 * Whether the step runs, from the gate's DescribeSecret.
 * @returns `run`, or `already-current` when the token already holds AWSCURRENT (the step is done).
 * @throws RotationDisabledError (RotationEnabled false), StageMismatchError (token unknown or not
 *   AWSPENDING), InvalidRequestError (the secret is scheduled for deletion).
 */
export function checkRotationGate(description: GateInput, token: string, context: { secretId: string; step: string }): GateDecision {
  // Only an explicit false fails: a missing key passes, as in the templates.
  if (description.RotationEnabled === false) {
    throw new RotationDisabledError('The secret is not enabled for rotation', context);
  }
  const stagesByVersion = description.VersionIdsToStages ?? {};
  if (!Object.prototype.hasOwnProperty.call(stagesByVersion, token)) {
    throw new StageMismatchError(`Secret version ${token} has no stage for rotation`, context);
  }
  const stages = stagesByVersion[token] ?? [];
  if (stages.includes(AWSCURRENT)) return 'already-current';
  // Secrets Manager refuses every read and write of a secret scheduled for deletion with a bare
  // InvalidRequestException; saying why here, before any step, spares the operator the guess.
  if (scheduledForDeletion(description)) {
    throw new InvalidRequestError('The secret is scheduled for deletion; restore it (RestoreSecret) before rotating it', context);
  }
  if (!stages.includes(AWSPENDING)) {
    throw new StageMismatchError(`Secret version ${token} is not set as AWSPENDING for rotation`, context);
  }
  return 'run';
}
