/**
 * The floor of a Secrets Manager Lambda's cold start: a handler that only constructs the client (and,
 * for the first-invocation comparison, makes the one call every rotation step starts with).
 */
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const client = new SecretsManagerClient({});

export const handler = async (event: { SecretId: string }): Promise<void> => {
  await client.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
};
