/** The naive MySQL baseline: the floor plus mysql2/promise imported eagerly. */
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createConnection } from 'mysql2/promise';

const client = new SecretsManagerClient({});

export const handler = async (event: { SecretId: string }): Promise<string> => {
  await client.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
  return typeof createConnection;
};
