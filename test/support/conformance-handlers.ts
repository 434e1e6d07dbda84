/**
 * Tiny in-test rotation functions: createSecret and finishSecret done with the SDK against the endpoint,
 * as a real rotation function does them; setSecret and testSecret touch no database.
 */
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { RotationEvent, RotationFunction } from '../../emulator';

/** The error a scripted step throws; its message quotes the pending value, which must never surface. */
export class StepFailedError extends Error {
  readonly code = 'E_SCRIPTED';
  constructor(step: string, leak: string) {
    super(`scripted failure in ${step} with value ${leak}`);
    this.name = 'StepFailedError';
  }
}

export interface ScriptedRotation {
  readonly handler: RotationFunction;
  readonly events: RotationEvent[];
  /** The step to fail at, if any; change it between calls to script a retry. */
  failAt?: string;
}

export function scriptedRotation(
  client: SecretsManagerClient,
  newValue: string,
  observe?: (event: RotationEvent) => Promise<void>,
): ScriptedRotation {
  const script: ScriptedRotation = {
    events: [],
    handler: async (event) => {
      script.events.push(event);
      await observe?.(event);
      if (script.failAt === event.Step) throw new StepFailedError(event.Step, newValue);
      const { SecretId, ClientRequestToken: token } = event;
      switch (event.Step) {
        case 'createSecret':
          try {
            await client.send(new GetSecretValueCommand({ SecretId, VersionId: token, VersionStage: 'AWSPENDING' }));
          } catch (err) {
            if ((err as Error).name !== 'ResourceNotFoundException') throw err;
            await client.send(
              new PutSecretValueCommand({
                SecretId,
                ClientRequestToken: token,
                SecretString: newValue,
                VersionStages: ['AWSPENDING'],
                RotationToken: event.RotationToken,
              }),
            );
          }
          return;
        case 'setSecret':
          return;
        case 'testSecret':
          await client.send(new GetSecretValueCommand({ SecretId, VersionId: token, VersionStage: 'AWSPENDING' }));
          return;
        case 'finishSecret': {
          const described = await client.send(new DescribeSecretCommand({ SecretId }));
          const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
          if (current === token) return;
          await client.send(
            new UpdateSecretVersionStageCommand({
              SecretId,
              VersionStage: 'AWSCURRENT',
              MoveToVersionId: token,
              RemoveFromVersionId: current,
            }),
          );
          return;
        }
        default:
          throw new Error(`unknown step ${event.Step}`);
      }
    },
  };
  return script;
}
