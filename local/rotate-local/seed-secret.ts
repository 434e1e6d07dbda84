/**
 * Writes a demo secret in the RDS format: created on the first run, given a new AWSCURRENT version on
 * later ones (after clearing a stray AWSPENDING a failed run may have left, which would block RotateSecret).
 */
import { randomUUID } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  UpdateSecretVersionStageCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { EngineFamily } from '../../shared/database-secret';
import { fromSecretsManagerError, SecretNotFoundError } from '../../shared/errors';
import type { DemoLogin } from './demo-accounts';

export interface DemoSecretValue {
  readonly engine: EngineFamily;
  readonly host: string;
  readonly port: number;
  readonly login: DemoLogin;
  readonly masterarn?: string;
}

/** The RDS-format JSON, password included: only ever sent to Secrets Manager. */
export function demoSecretString(value: DemoSecretValue): string {
  return JSON.stringify({
    engine: value.engine,
    host: value.host,
    port: value.port,
    username: value.login.username,
    password: value.login.password,
    ...(value.login.database !== undefined ? { dbname: value.login.database } : {}),
    // The local servers have no TLS; RDS secrets carry the same key.
    ssl: false,
    ...(value.masterarn !== undefined ? { masterarn: value.masterarn } : {}),
  });
}

/** Creates the secret or puts a new AWSCURRENT version; returns its ARN. */
export async function upsertSecret(
  client: SecretsManagerClient,
  name: string,
  secretString: string,
  description: string,
): Promise<string> {
  const existing = await describeIfExists(client, name);
  if (!existing) {
    try {
      const out = await client.send(
        new CreateSecretCommand({ Name: name, SecretString: secretString, Description: description, ClientRequestToken: randomUUID() }),
      );
      return out.ARN ?? name;
    } catch (err) {
      throw fromSecretsManagerError(err, 'CreateSecret', { secretId: name });
    }
  }
  try {
    if (existing.DeletedDate) await client.send(new RestoreSecretCommand({ SecretId: name }));
    for (const [versionId, stages] of Object.entries(existing.VersionIdsToStages ?? {})) {
      if (stages?.includes('AWSPENDING') && !stages.includes('AWSCURRENT')) {
        await client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: versionId }));
      }
    }
    await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretString, ClientRequestToken: randomUUID() }));
  } catch (err) {
    throw fromSecretsManagerError(err, 'PutSecretValue', { secretId: name });
  }
  return existing.ARN ?? name;
}

async function describeIfExists(client: SecretsManagerClient, name: string) {
  try {
    return await client.send(new DescribeSecretCommand({ SecretId: name }));
  } catch (err) {
    const typed = fromSecretsManagerError(err, 'DescribeSecret', { secretId: name });
    if (typed instanceof SecretNotFoundError) return undefined;
    throw typed;
  }
}
