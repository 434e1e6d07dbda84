/**
 * `SecretCache.withSecret` keeps an application's queries working across a real rotation of a local
 * PostgreSQL user: before, between setSecret and finishSecret (the new password lives only in
 * AWSPENDING then), and after, with the cache holding the dead password each time.
 */
import { Client } from 'pg';
import { postgresAdminSettings } from '../../local/db-settings';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { SecretCache } from '../../shared/secret-cache';
import type { SecretValue } from '../../shared/secret-value';
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

async function currentUser(value: SecretValue): Promise<string> {
  const secret = value as { username: string; password: string };
  const s = postgresAdminSettings();
  const client = new Client({ host: s.host, port: s.port, database: s.database, user: secret.username, password: secret.password });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ u: string }>('SELECT current_user AS u');
    return rows[0]!.u;
  } finally {
    await client.end().catch(() => undefined);
  }
}

describe('withSecret across a real rotation', () => {
  let endpoint: Endpoint;
  let user: PostgresFixtureUser;

  beforeAll(async () => {
    endpoint = await startEndpoint();
    user = await createPostgresUser();
  });
  afterAll(async () => {
    await user.drop();
    await endpoint.close();
  });

  it('answers before, during (via AWSPENDING) and after the rotation, with few API calls', async () => {
    const secretId = uniqueName('with-secret');
    await createSecret(endpoint.client, secretId, {
      engine: 'postgres',
      host: user.host,
      port: user.port,
      dbname: user.database,
      username: user.username,
      password: user.password,
      ssl: false,
    });
    const cache = new SecretCache({ client: endpoint.client });
    expect(await cache.withSecret(secretId, currentUser)).toBe(user.username);

    const handler = createRotationHandler({
      engine: postgresEngine,
      strategy: 'single-user',
      secretsClient: endpoint.client,
      logger: captureLogger(),
    });
    const duringRotation: string[] = [];
    const fn = lambdaArn(uniqueName('with-secret-rotation'));
    endpoint.local.registerRotationFunction(fn, async (event) => {
      await handler(event);
      // Between setSecret and finishSecret the database has the new password, AWSCURRENT the old one.
      if (event.Step === 'setSecret') duringRotation.push(await cache.withSecret(secretId, currentUser));
    });
    await rotate(endpoint.client, secretId, fn);

    expect(duringRotation).toEqual([user.username]);
    const rotated = await secretValue(endpoint.client, secretId);
    expect(rotated.password).not.toBe(user.password);
    // The cache still holds the replaced password: withSecret must notice and refresh.
    expect(await cache.withSecret(secretId, currentUser)).toBe(user.username);
    expect(await cache.getSecret(secretId)).toMatchObject({ password: rotated.password });
    // 1 initial read; during: a forced AWSCURRENT refresh + 1 AWSPENDING read; after: 1 refresh.
    expect(cache.stats().fetches).toBeLessThanOrEqual(4);
  });
});
