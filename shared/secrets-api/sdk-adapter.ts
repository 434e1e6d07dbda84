/**
 * Any SDK `SecretsManagerClient` behind the `SecretsApi` methods: what a caller who injects a client
 * (tests with aws-sdk-client-mock, applications with their own configuration) gets. The SDK's commands
 * are required here, on first use, so the Lambdas' default path never loads them.
 */
import type * as SecretsManagerSdk from '@aws-sdk/client-secrets-manager';
import type { SecretsApi } from './secrets-api';

type Sdk = typeof SecretsManagerSdk;

let sdk: Sdk | undefined;

function loadSdk(): Sdk {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  sdk ??= require('@aws-sdk/client-secrets-manager') as Sdk;
  return sdk;
}

/**
 * The four operations through `client.send`.
 *
 * @example
 *   const api = sdkSecretsApi(new SecretsManagerClient({ region: 'eu-west-1' }));
 *   await api.describeSecret({ SecretId: 'app' });
 */
export function sdkSecretsApi(client: SecretsManagerSdk.SecretsManagerClient): SecretsApi {
  return {
    describeSecret: (input, options) => client.send(new (loadSdk().DescribeSecretCommand)(input), options),
    getSecretValue: (input, options) => client.send(new (loadSdk().GetSecretValueCommand)(input), options),
    putSecretValue: (input, options) => client.send(new (loadSdk().PutSecretValueCommand)(input), options),
    updateSecretVersionStage: (input, options) => client.send(new (loadSdk().UpdateSecretVersionStageCommand)(input), options),
  };
}
