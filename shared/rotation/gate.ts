/**
 * The staging-label gate every step passes first, in the AWS templates' order: rotation enabled, token
 * known, token already AWSCURRENT (success, nothing to do), token AWSPENDING. The step name is checked
 * only after this gate, also as in the templates.
 */
import type { DescribeSecretCommandOutput } from '@aws-sdk/client-secrets-manager';
import { RotationDisabledError, StageMismatchError } from '../errors';
import { AWSCURRENT, AWSPENDING } from './secret-versions';

export type GateDecision = 'run' | 'already-current';

export type GateInput = Pick<DescribeSecretCommandOutput, 'RotationEnabled' | 'VersionIdsToStages'>;

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
  if (!stages.includes(AWSPENDING)) {
    throw new StageMismatchError(`Secret version ${token} is not set as AWSPENDING for rotation`, context);
  }
  return 'run';
}
