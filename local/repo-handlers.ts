/**
 * The repo's own rotation functions, registered on an embedded Secrets Manager endpoint under fixed
 * Lambda ARNs (`arn:aws:lambda:<region>:<account>:function:<engine>-<strategy>-rotation`): the ARNs
 * `rotate:local` attaches, and the function names `localstack:deploy` gives the deployed functions.
 * Each handler is built with `createRotationHandler` and talks back to the endpoint it is registered on.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mysqlEngine } from '../shared/engines/mysql';
import { postgresEngine } from '../shared/engines/postgres';
import { createRotationHandler } from '../shared/rotation/create-rotation-handler';
import type { DatabaseEngine } from '../shared/rotation/database-engine';
import { jsonLineLogger, type RotationLogger } from '../shared/rotation/logger';
import { getSecretsClient, type Env } from '../shared/secrets-client';
import { DEMO_ENGINES, DEMO_STRATEGIES, LOCAL_ACCOUNT_ID, LOCAL_REGION, rotationFunctionArn } from './rotate-local/scenarios';
import type { LocalSecretsManager } from '../emulator';
import type { EngineFamily } from '../shared/database-secret';
import type { RotationStrategyName } from '../shared/rotation/rotation-settings';

export type HandlerHost = Pick<LocalSecretsManager, 'endpoint' | 'region' | 'accountId' | 'registerRotationFunction'>;

export interface RepoHandlerOptions {
  /** The handlers' configuration (DB_CONNECT_TIMEOUT_MS, TEST_QUERY, password policy…). @default process.env */
  readonly env?: Env;
  /** @default one JSON line per step on stderr, so a command's stdout stays its own */
  readonly logger?: RotationLogger;
}

const STRATEGIES: Readonly<Record<EngineFamily, DatabaseEngine>> = { postgres: postgresEngine, mysql: mysqlEngine };

/** The fixed function ARN of one of the repo's rotation handlers on an endpoint. */
export function repoRotationFunctionArn(
  engine: EngineFamily,
  strategy: RotationStrategyName,
  endpoint: Pick<LocalSecretsManager, 'region' | 'accountId'> = { region: LOCAL_REGION, accountId: LOCAL_ACCOUNT_ID },
): string {
  return rotationFunctionArn(engine, strategy, endpoint.region, endpoint.accountId);
}

/** Registers the four handlers (postgres|mysql x single-user|alternating-users); returns their ARNs. */
export function registerRepoRotationHandlers(endpoint: HandlerHost, options: RepoHandlerOptions = {}): readonly string[] {
  const env = options.env ?? process.env;
  const logger = options.logger ?? jsonLineLogger((text) => process.stderr.write(`${text}\n`));
  const client = endpointClient(endpoint);
  const registered: string[] = [];
  for (const engine of DEMO_ENGINES) {
    for (const strategy of DEMO_STRATEGIES) {
      const arn = repoRotationFunctionArn(engine, strategy, endpoint);
      const handler = createRotationHandler({ engine: STRATEGIES[engine], strategy, secretsClient: client, env, logger });
      endpoint.registerRotationFunction(arn, (event) => handler(event));
      registered.push(arn);
    }
  }
  return registered;
}

/** A client of the endpoint itself, whatever SECRETS_MANAGER_ENDPOINT says in the caller's environment. */
function endpointClient(endpoint: HandlerHost): SecretsManagerClient {
  // No credential variables: on loopback the factory then uses its fixed dummy credentials.
  return getSecretsClient({ SECRETS_MANAGER_ENDPOINT: endpoint.endpoint, AWS_REGION: endpoint.region });
}
