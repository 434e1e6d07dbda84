/**
 * Where `rotate:local` sends its Secrets Manager calls: an endpoint given by URL, LocalStack when
 * LOCALSTACK_URL is set, or an embedded endpoint started in this process with the repo's handlers.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { getSecretsClient, type Env } from '../../shared/secrets-client';
import { silentLogger } from '../../shared/rotation/logger';
import { registerRepoRotationHandlers } from '../repo-handlers';
import { startLocalSecretsManager, type RotationRecord } from '../../emulator';
import { ConfigError } from '../../shared/errors';
import { withCallTimeouts, type CallTimeouts } from '../../operator/bounded-client';
import { missingFunctionsHint, RotationFunctionResolver } from './rotation-functions';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, rotationFunctionArn, rotationFunctionName } from './scenarios';
import type { EngineFamily } from '../../shared/database-secret';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';

export type TargetKind = 'embedded' | 'endpoint' | 'localstack';

export interface RotationTarget {
  readonly kind: TargetKind;
  readonly endpoint: string;
  readonly client: SecretsManagerClient;
  /**
   * The function ARN to attach for a scenario. On an endpoint other than the embedded one it is asked
   * for first (Lambda GetFunction), and the ARN the endpoint reports is used.
   * @throws ConfigError when the endpoint says it has no such function, or does not answer
   */
  rotationFunction(engine: EngineFamily, strategy: RotationStrategyName): Promise<string>;
  /** The endpoint's record of rotation runs, where it can be read (the embedded endpoint only). */
  readonly history?: (secretId: string) => readonly RotationRecord[];
  /** Whether secrets must name the databases by their compose service names (LocalStack's Lambdas). */
  readonly composeHosts: boolean;
  close(): Promise<void>;
}

export interface TargetRequest {
  readonly endpoint?: string;
  readonly env: Env;
  /** Where the embedded endpoint logs failed steps. */
  readonly log: (line: string) => void;
  /** How long each Secrets Manager call may take. @default `withCallTimeouts`' bounds */
  readonly callTimeouts?: CallTimeouts;
}

export function targetKind(request: Pick<TargetRequest, 'endpoint' | 'env'>): TargetKind {
  if (request.endpoint !== undefined) return 'endpoint';
  return request.env.LOCALSTACK_URL?.trim() ? 'localstack' : 'embedded';
}

export async function openTarget(request: TargetRequest): Promise<RotationTarget> {
  const kind = targetKind(request);
  const region = request.env.AWS_REGION?.trim() || LOCAL_REGION;
  if (kind === 'embedded') {
    const endpoint = await startLocalSecretsManager({ region, accountId: LOCAL_ACCOUNT_ID, log: request.log });
    // Step logs stay quiet: failures reach `log` through the endpoint, and the table reports them.
    registerRepoRotationHandlers(endpoint, { env: request.env, logger: silentLogger });
    return {
      kind,
      endpoint: endpoint.endpoint,
      client: endpointClient(endpoint.endpoint, region, request.callTimeouts),
      rotationFunction: async (engine, strategy) => rotationFunctionArn(engine, strategy, region, LOCAL_ACCOUNT_ID),
      history: (secretId) => endpoint.rotationHistory(secretId),
      composeHosts: false,
      close: () => endpoint.close(),
    };
  }
  const url = kind === 'endpoint' ? request.endpoint! : request.env.LOCALSTACK_URL!.trim().replace(/\/+$/, '');
  const functions = new RotationFunctionResolver(url, region);
  return {
    kind,
    endpoint: url,
    client: endpointClient(url, region, request.callTimeouts),
    rotationFunction: async (engine, strategy) => {
      const answer = await functions.lookUp(engine, strategy);
      const name = rotationFunctionName(engine, strategy);
      switch (answer.state) {
        case 'found':
          return answer.arn;
        case 'missing':
          throw new ConfigError(`${url} has no Lambda function ${name}: ${missingFunctionsHint(kind)}`);
        case 'unreachable':
          throw new ConfigError(
            `nothing answers at ${url} (${answer.code}): ${kind === 'localstack' ? 'start LocalStack with `docker compose up -d --wait`' : 'start the endpoint first'}`,
          );
        case 'unknown':
          // No Lambda API to ask (the repo's own endpoint, `npm run local:endpoint`): the documented ARN.
          return functions.fallbackArn(engine, strategy);
      }
    },
    composeHosts: kind === 'localstack',
    close: async () => undefined,
  };
}

/**
 * Only the endpoint and region: the caller's SECRETS_MANAGER_ENDPOINT or profile must not redirect it.
 * Each call is bounded, so an endpoint that accepts and never answers fails the run instead of holding it.
 */
function endpointClient(endpoint: string, region: string, timeouts: CallTimeouts | undefined): SecretsManagerClient {
  return withCallTimeouts(getSecretsClient({ SECRETS_MANAGER_ENDPOINT: endpoint, AWS_REGION: region }), timeouts);
}
