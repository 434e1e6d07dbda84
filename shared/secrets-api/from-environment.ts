/**
 * The rotation Lambdas' Secrets Manager client, from the same environment `getSecretsClient` reads
 * (explicit endpoint, ENVIRONMENT=local, or real AWS in AWS_REGION): the signed client, with
 * credentials from the environment's variables (what Lambda provides), else the SDK's own provider
 * chain, loaded only then (profiles, SSO, web identity, container and instance roles).
 */
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import { resolveSecretsClientSettings, toClientConfig, type Env } from '../secrets-client';
import { secretsManagerEndpoint } from './aws-endpoint';
import type { SecretsApi } from './secrets-api';
import { createSignedSecretsApi, type SignedClientOptions } from './signed-client';

interface CredentialProviderNode {
  defaultProvider(): AwsCredentialIdentityProvider;
}

/**
 * The signed client for this environment.
 *
 * @throws ConfigError when the environment names no region and no endpoint, or an invalid one (as
 *   `getSecretsClient`).
 * @example
 *   const api = secretsApiFromEnvironment(process.env);
 */
export function secretsApiFromEnvironment(env: Env = process.env): SecretsApi {
  const settings = resolveSecretsClientSettings(env);
  const endpoint = settings.endpoint ?? secretsManagerEndpoint(settings.region, env);
  return createSignedSecretsApi({
    endpoint,
    region: settings.region,
    credentials: credentialsFor(env, toClientConfig(settings).credentials),
  });
}

function credentialsFor(env: Env, fixed: unknown): SignedClientOptions['credentials'] {
  if (fixed !== undefined) return fixed as SignedClientOptions['credentials'];
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (accessKeyId && secretAccessKey) {
    return { accessKeyId, secretAccessKey, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) };
  }
  let provider: AwsCredentialIdentityProvider | undefined;
  return () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    provider ??= (require('@aws-sdk/credential-provider-node') as CredentialProviderNode).defaultProvider();
    return provider();
  };
}
