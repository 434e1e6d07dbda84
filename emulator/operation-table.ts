/** Every action the endpoint answers, by its X-Amz-Target name. */
import type { EndpointContext, OperationTable } from './context';
import { listSecretsOperations } from './operations/list-secrets';
import { secretLifecycleOperations } from './operations/secret-lifecycle';
import { secretValueOperations } from './operations/secret-values';
import { randomPasswordOperations } from './random-password';
import type { RotationCoordinator } from './rotation';

/** Real Secrets Manager actions this endpoint deliberately does not emulate. */
export const NOT_EMULATED: readonly string[] = [
  'GetResourcePolicy',
  'PutResourcePolicy',
  'DeleteResourcePolicy',
  'ValidateResourcePolicy',
  'ReplicateSecretToRegions',
  'RemoveRegionsFromReplication',
  'StopReplicationToReplica',
];

export function buildOperationTable(ctx: EndpointContext, rotation: RotationCoordinator): OperationTable {
  return {
    ...secretLifecycleOperations(ctx),
    ...secretValueOperations(ctx),
    ...listSecretsOperations(ctx),
    ...randomPasswordOperations(),
    ...rotation.operations(),
  };
}
