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
import { AWSCURRENT, AWSPENDING } from '../../shared/rotation/secret-versions';
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
export async function upsertSecret(client: SecretsManagerClient, name: string, secretString: string, description: string): Promise<string> {
  // Each call's failure names that call: a refused RestoreSecret must not read as a PutSecretValue problem.
  const call = async <T>(action: string, send: () => Promise<T>): Promise<T> => {
    try {
      return await send();
    } catch (err) {
      throw fromSecretsManagerError(err, action, { secretId: name });
    }
  };
  const existing = await describeIfExists(client, name);
  if (!existing) {
    const out = await call('CreateSecret', () =>
      client.send(
        new CreateSecretCommand({ Name: name, SecretString: secretString, Description: description, ClientRequestToken: randomUUID() }),
      ),
    );
    return out.ARN ?? name;
  }
  if (existing.DeletedDate) await call('RestoreSecret', () => client.send(new RestoreSecretCommand({ SecretId: name })));
  for (const [versionId, stages] of Object.entries(existing.VersionIdsToStages ?? {})) {
    if (stages?.includes(AWSPENDING) && !stages.includes(AWSCURRENT)) {
      await call('UpdateSecretVersionStage', () =>
        client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: AWSPENDING, RemoveFromVersionId: versionId })),
      );
    }
  }
  await call('PutSecretValue', () =>
    client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretString, ClientRequestToken: randomUUID() })),
  );
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
