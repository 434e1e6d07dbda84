/**
 * A secret scheduled for deletion in the middle of a rotation (after setSecret changed the password),
 * then restored. The step after the deletion is refused by name and changes nothing; once the secret is
 * restored, Secrets Manager's re-attempt of the same rotation finds the new password in place and
 * completes: AWSCURRENT logs in again. Real PostgreSQL, embedded endpoint.
 */
import { DeleteSecretCommand, RestoreSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { canLoginPostgres } from '../../local/admin-connections';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures/postgres';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { SecretsManagerRotationEvent } from '../../shared/rotation/event';
import {
  captureLogger,
  createSecret,
  lambdaArn,
  secretValue,
  stagesOf,
  startEndpoint,
  uniqueName,
  type Endpoint,
} from '../support/rotation-endpoint';

let endpoint: Endpoint;
let user: PostgresFixtureUser | undefined;

beforeAll(async () => {
  endpoint = await startEndpoint();
});

afterAll(async () => {
  await user?.drop();
  await endpoint.close();
});

it('refuses the steps while the secret is scheduled for deletion, and completes the same rotation once it is restored', async () => {
  user = await createPostgresUser({ username: uniqueName('hsm_del').replace(/-/g, '_') });
  const logger = captureLogger();
  const handler = createRotationHandler({
    engine: postgresEngine,
    secretsClient: endpoint.client,
    env: { DB_TLS_MODE: 'disable' },
    logger,
  });
  const name = uniqueName('hsm-del');
  const secretId = await createSecret(endpoint.client, name, {
    engine: 'postgres',
    host: user.host,
    port: user.port,
    username: user.username,
    password: user.password,
    dbname: user.database,
  });
  let deleteAfterSetSecret = true;
  const functionArn = lambdaArn(uniqueName('hsm-del'));
  endpoint.local.registerRotationFunction(functionArn, async (event: SecretsManagerRotationEvent) => {
    await handler(event);
    if (event.Step === 'setSecret' && deleteAfterSetSecret) {
      deleteAfterSetSecret = false;
      await endpoint.client.send(new DeleteSecretCommand({ SecretId: secretId, RecoveryWindowInDays: 7 }));
    }
  });

  await expect(endpoint.client.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: functionArn }))).rejects.toBeDefined();
  const refused = logger.lines.filter((l) => l.outcome === 'failure');
  expect(refused.map((l) => [l.step, l.errorCode])).toEqual([['testSecret', 'INVALID_REQUEST']]);
  expect(refused[0]!.message).toMatch(/scheduled for deletion; restore it/);

  await endpoint.client.send(new RestoreSecretCommand({ SecretId: secretId }));
  const pendingBefore = await secretValue(endpoint.client, secretId, 'AWSPENDING');
  // The re-attempt of the unfinished rotation (RotateSecret's answer is then a refusal to start another).
  await endpoint.client.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: functionArn })).catch(() => undefined);

  const current = await secretValue(endpoint.client, secretId);
  expect(current.password).toBe(pendingBefore.password);
  expect(await canLoginPostgres(current.username, current.password, process.env, user.database)).toBe(true);
  expect(await canLoginPostgres(user.username, user.password, process.env, user.database)).toBe(false);
  const stages = await stagesOf(endpoint.client, secretId);
  expect(Object.values(stages).filter((s) => s.includes('AWSCURRENT'))).toHaveLength(1);
  expect(logger.text()).not.toContain(current.password);
  expect(logger.text()).not.toContain(user.password);
});
