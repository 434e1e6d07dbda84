/**
 * The repo's own rotation functions, registered on an embedded Secrets Manager endpoint under fixed
 * Lambda ARNs (`arn:aws:lambda:<region>:<account>:function:<engine>-<strategy>-rotation`), so that
 * `npm run local:endpoint` can rotate through them.
 *
 * STUB: registers nothing yet. The rotation engineer fills `registerRepoRotationHandlers` with one
 * `endpoint.registerRotationFunction(repoRotationFunctionArn(...), handler)` per engine and strategy.
 */
import type { LocalSecretsManager } from './secrets-manager';

export type RepoRotationEngine = 'postgres' | 'mysql';
export type RepoRotationStrategy = 'single-user' | 'multi-user';

/** The fixed function ARN of one of the repo's rotation handlers on an endpoint. */
export function repoRotationFunctionArn(
  engine: RepoRotationEngine,
  strategy: RepoRotationStrategy,
  endpoint: Pick<LocalSecretsManager, 'region' | 'accountId'> = { region: 'us-east-1', accountId: '000000000000' },
): string {
  return `arn:aws:lambda:${endpoint.region}:${endpoint.accountId}:function:${engine}-${strategy}-rotation`;
}

/** Registers the repo's rotation handlers on the endpoint and returns the ARNs registered. */
export function registerRepoRotationHandlers(
  endpoint: Pick<LocalSecretsManager, 'registerRotationFunction' | 'region' | 'accountId'>,
): readonly string[] {
  void endpoint;
  return [];
}
