/**
 * AWSCURRENT changed by a PutSecretValue in the middle of a rotation, after createSecret copied it (a
 * pipeline adding a key or moving the dbname while Secrets Manager rotates). finishSecret makes the
 * pending copy of the old value AWSCURRENT, undoing that change. Alternating users refuse it before any
 * change, naming the keys (never a value); single user names them in a warning and finishes, since its
 * retry may find the change partly made (test/accounts/mysql-single-user-states.test.ts drives that).
 * Real PostgreSQL, embedded endpoint.
 */
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { canLoginPostgres, connectPostgresAdmin } from '../../local/admin-connections';
import { postgresAdminSettings } from '../../local/db-settings';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { SecretsManagerRotationEvent } from '../../shared/rotation/event';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';
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

const s = postgresAdminSettings();
let endpoint: Endpoint;
let masterArn: string;
const users: PostgresFixtureUser[] = [];
/**
 * The database the pipeline moves the secret to: one that exists, so the current login works there and
 * the step reaches the check (a database the login may not open is its own refusal, told apart first).
 */
const moved = `hs_moved_${randomBytes(3).toString('hex')}`;

beforeAll(async () => {
  const admin = await connectPostgresAdmin();
  try {
    await admin.query(`CREATE DATABASE ${moved}`);
  } finally {
    await admin.end();
  }
  endpoint = await startEndpoint();
  masterArn = await createSecret(endpoint.client, uniqueName('hs-master'), {
    engine: 'postgres',
    host: s.host,
    port: s.port,
    username: s.user,
    password: s.password || 'trusted-on-loopback',
    dbname: s.database,
    ssl: false,
  });
});
afterAll(async () => {
  for (const u of users) await u.drop();
  await endpoint.close();
  const admin = await connectPostgresAdmin();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${moved} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
});

it.each<[RotationStrategyName, 'refused' | 'warned']>([
  ['alternating-users', 'refused'],
  ['single-user', 'warned'],
])('%s: setSecret meets a pending copy that would undo the change: %s, naming the keys', async (strategy, outcome) => {
  const user = await createPostgresUser({ username: `hs_${randomBytes(4).toString('hex')}` });
  users.push(user);
  const value = {
    engine: 'postgres',
    host: user.host,
    port: user.port,
    username: user.username,
    password: user.password,
    dbname: user.database,
    ssl: false,
    masterarn: masterArn,
  };
  const id = await createSecret(endpoint.client, uniqueName('hs-changed'), value);
  const logs = captureLogger();
  const handler = createRotationHandler({ engine: postgresEngine, strategy, secretsClient: endpoint.client, env: {}, logger: logs });
  const fn = lambdaArn(uniqueName('hs-fn'));
  // The pipeline's PutSecretValue lands between createSecret and setSecret.
  endpoint.local.registerRotationFunction(fn, async (event: SecretsManagerRotationEvent) => {
    if (event.Step === 'setSecret') {
      await endpoint.client.send(
        new PutSecretValueCommand({ SecretId: id, SecretString: JSON.stringify({ ...value, team: 'payments', dbname: moved }) }),
      );
    }
    return handler(event);
  });

  if (outcome === 'warned') {
    await rotate(endpoint.client, id, fn);
    const warning = logs.lines.find((l) => l.level === 'warn' && String(l.message).includes('AWSCURRENT was changed'));
    expect(warning).toMatchObject({ step: 'setSecret' });
    expect(warning?.message).toContain('(dbname, team)');
    // The pending copy became AWSCURRENT (the pipeline's change is to be put again), and it logs in.
    const current = await secretValue(endpoint.client, id);
    expect(current.team).toBeUndefined();
    await expect(canLoginPostgres(user.username, String(current.password))).resolves.toBe(true);
    return;
  }
  await expect(rotate(endpoint.client, id, fn)).rejects.toBeDefined();

  const failure = logs.lines.find((l) => l.outcome === 'failure');
  expect(failure).toMatchObject({ step: 'setSecret', errorCode: 'STAGE_MISMATCH' });
  expect(failure?.message).toContain('(dbname, team)');
  const current = await secretValue(endpoint.client, id);
  expect(current).toMatchObject({ team: 'payments', dbname: moved, username: user.username });
  await expect(canLoginPostgres(user.username, user.password)).resolves.toBe(true);
  const admin = await connectPostgresAdmin();
  try {
    expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${user.username}_clone`])).rowCount).toBe(0);
  } finally {
    await admin.end();
  }
});

it('single-user: a retry whose pending password already logs in still finishes, so AWSCURRENT never holds a dead password', async () => {
  const user = await createPostgresUser({ username: `hs_${randomBytes(4).toString('hex')}` });
  users.push(user);
  const value = {
    engine: 'postgres',
    host: user.host,
    port: user.port,
    username: user.username,
    password: user.password,
    dbname: user.database,
    ssl: false,
  };
  const id = await createSecret(endpoint.client, uniqueName('hs-changed'), value);
  const logs = captureLogger();
  const handler = createRotationHandler({
    engine: postgresEngine,
    strategy: 'single-user',
    secretsClient: endpoint.client,
    env: {},
    logger: logs,
  });
  const fn = lambdaArn(uniqueName('hs-fn'));
  let token = '';
  // setSecret changes the password, then its answer is lost; the pipeline's PutSecretValue lands before the retry.
  endpoint.local.registerRotationFunction(fn, async (event: SecretsManagerRotationEvent) => {
    await handler(event);
    if (event.Step === 'setSecret') {
      token = event.ClientRequestToken;
      await endpoint.client.send(new PutSecretValueCommand({ SecretId: id, SecretString: JSON.stringify({ ...value, team: 'payments' }) }));
      throw new Error('lost answer');
    }
  });
  await expect(rotate(endpoint.client, id, fn)).rejects.toBeDefined();
  await expect(canLoginPostgres(user.username, user.password)).resolves.toBe(false);

  for (const Step of ['setSecret', 'testSecret', 'finishSecret']) await handler({ SecretId: id, ClientRequestToken: token, Step });

  const current = await secretValue(endpoint.client, id);
  await expect(canLoginPostgres(user.username, current.password)).resolves.toBe(true);
});
