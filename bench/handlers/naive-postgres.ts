/** The naive PostgreSQL baseline: the floor plus pg imported eagerly, as most hand-written rotators do. */
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Client } from 'pg';

const client = new SecretsManagerClient({});

export const handler = async (event: { SecretId: string }): Promise<string> => {
  await client.send(new DescribeSecretCommand({ SecretId: event.SecretId }));
  return typeof Client;
};
