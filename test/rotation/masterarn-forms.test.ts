/**
 * A `masterarn` written as the secret's name or as a partial ARN (no random suffix) instead of its full
 * ARN: Secrets Manager reads it the same, so the rotation must treat it the same. A single-user secret
 * naming itself as its master is the master's own rotation, which passes when written as the full ARN;
 * it must pass in the other forms too, and not be refused as "the master's own user". Real PostgreSQL,
 * embedded endpoint. A `masterarn` of null (Terraform's `jsonencode` of an unset optional master) is no
 * masterarn, as a null `dbname` is no dbname: the secret rotates, and its readers load it.
 */
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { canLoginPostgres } from '../../local/admin-connections';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import {
  captureLogger,
  createSecret,
  lambdaArn,
  rotate,
  secretValue,
  startEndpoint,
  uniqueName,
  type Endpoint,
} from '../support/rotation-endpoint';

let endpoint: Endpoint;
const users: PostgresFixtureUser[] = [];

beforeAll(async () => {
  endpoint = await startEndpoint();
});
afterAll(async () => {
  for (const u of users) await u.drop();
  await endpoint.close();
});

/** The forms Secrets Manager resolves to the same secret: full ARN, partial ARN (no suffix), name. */
const FORMS: Record<string, (arn: string, name: string) => string> = {
  'its full ARN': (arn) => arn,
  'a partial ARN': (arn) => arn.slice(0, -7),
  'its name': (_arn, name) => name,
};

describe('single-user secret whose masterarn names the secret itself', () => {
  it.each(Object.keys(FORMS))('as %s: rotates as the master own rotation', async (form) => {
    const user = await createPostgresUser({ username: `hs_${randomBytes(4).toString('hex')}` });
    users.push(user);
    const name = uniqueName('hs-self-master');
    const value = {
      engine: 'postgres',
      host: user.host,
      port: user.port,
      username: user.username,
      password: user.password,
      dbname: user.database,
      ssl: false,
    };
    const arn = await createSecret(endpoint.client, name, value);
    await endpoint.client.send(
      new PutSecretValueCommand({ SecretId: arn, SecretString: JSON.stringify({ ...value, masterarn: FORMS[form]!(arn, name) }) }),
    );
    const logs = captureLogger();
    const fn = lambdaArn(uniqueName('hs-single'));
    const handler = createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: {},
      logger: logs,
    });
    endpoint.local.registerRotationFunction(fn, (event) => handler(event));

    await rotate(endpoint.client, arn, fn);

    expect(logs.lines.filter((l) => l.outcome === 'failure')).toEqual([]);
    const current = await secretValue(endpoint.client, arn);
    await expect(canLoginPostgres(user.username, current.password)).resolves.toBe(true);
    await expect(canLoginPostgres(user.username, user.password)).resolves.toBe(false);
  });
});

describe('single-user secret whose masterarn is null (what Terraform writes for an unset optional master)', () => {
  it('rotates as a secret without masterarn, keeping the key', async () => {
    const user = await createPostgresUser({ username: `hs_${randomBytes(4).toString('hex')}` });
    users.push(user);
    const arn = await createSecret(endpoint.client, uniqueName('hs-null-master'), {
      engine: 'postgres',
      host: user.host,
      port: user.port,
      username: user.username,
      password: user.password,
      dbname: user.database,
      ssl: false,
      masterarn: null,
    });
    const logs = captureLogger();
    const fn = lambdaArn(uniqueName('hs-single'));
    const handler = createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      env: {},
      logger: logs,
    });
    endpoint.local.registerRotationFunction(fn, (event) => handler(event));

    await rotate(endpoint.client, arn, fn);

    expect(logs.lines.filter((l) => l.outcome === 'failure')).toEqual([]);
    const current = await secretValue(endpoint.client, arn);
    expect(current.masterarn).toBeNull();
    await expect(canLoginPostgres(user.username, current.password)).resolves.toBe(true);
  });
});
