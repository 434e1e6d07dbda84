/**
 * Single-user rotation of a secret whose AWSPREVIOUS names another account than AWSCURRENT: the host was
 * moved by a PutSecretValue (a migration, a restored snapshot, a blue/green switch-over), or the secret was
 * rotated with alternating users before and AWSPREVIOUS names the alternate user. That version holds no
 * old password of this account, so when AWSCURRENT and AWSPENDING are refused it is passed over and the
 * refusal is explained as usual (and proven drift healed through the master), instead of failing the step
 * on a mismatch with a version that was never going to be used. Real PostgreSQL, embedded endpoint.
 */
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { randomBytes } from 'node:crypto';
import { canLoginPostgres, connectPostgresAdmin } from '../../local/admin-connections';
import { postgresAdminSettings } from '../../local/db-settings';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures';
import { noteSensitive } from '../../local/sensitive-values';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import {
  captureLogger,
  createSecret,
  lambdaArn,
  rotate,
  secretValue,
  stagesOf,
  startEndpoint,
  uniqueName,
  type Endpoint,
} from '../support/rotation-endpoint';

let endpoint: Endpoint;
const users: PostgresFixtureUser[] = [];
const s = postgresAdminSettings();
let masterArn: string;

beforeAll(async () => {
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
});

function singleUserFunction() {
  const logs = captureLogger();
  const arn = lambdaArn(uniqueName('hs-single'));
  const handler = createRotationHandler({
    engine: postgresEngine,
    strategy: 'single-user',
    secretsClient: endpoint.client,
    env: {},
    logger: logs,
  });
  endpoint.local.registerRotationFunction(arn, (event) => handler(event));
  return { arn, logs };
}

/** A user whose password the DBA changed behind the secret (drift). */
async function driftedUser(): Promise<PostgresFixtureUser> {
  const user = await createPostgresUser({ username: `hs_${randomBytes(4).toString('hex')}` });
  users.push(user);
  const drifted = `drift-${randomBytes(12).toString('hex')}`;
  noteSensitive(drifted);
  const admin = await connectPostgresAdmin();
  try {
    await admin.query(`ALTER ROLE ${escapeIdentifier(user.username)} PASSWORD ${escapeLiteral(drifted)}`);
  } finally {
    await admin.end();
  }
  return user;
}

/** A secret whose AWSPREVIOUS is `previous` and AWSCURRENT `current` (a PutSecretValue over it). */
async function secretWithHistory(previous: Record<string, unknown>, current: Record<string, unknown>): Promise<string> {
  const id = await createSecret(endpoint.client, uniqueName('hs-moved'), previous);
  await endpoint.client.send(new PutSecretValueCommand({ SecretId: id, SecretString: JSON.stringify(current) }));
  return id;
}

const base = (user: PostgresFixtureUser) => ({
  engine: 'postgres',
  host: s.host,
  port: s.port,
  username: user.username,
  password: user.password,
  dbname: user.database,
  ssl: false,
});

describe('single-user setSecret, AWSPREVIOUS of another account', () => {
  it('on another host (the secret was moved): drift is still healed through the master', async () => {
    const user = await driftedUser();
    const id = await secretWithHistory({ ...base(user), host: 'localhost', masterarn: masterArn }, { ...base(user), masterarn: masterArn });
    const { arn, logs } = singleUserFunction();

    await rotate(endpoint.client, id, arn);

    expect(logs.lines.filter((l) => l.outcome === 'failure')).toEqual([]);
    const current = await secretValue(endpoint.client, id);
    expect(current.host).toBe(s.host);
    await expect(canLoginPostgres(user.username, current.password)).resolves.toBe(true);
  });

  it('naming the alternate user (alternating users before): the refusal is explained, not a stage mismatch, and nothing changes', async () => {
    const user = await driftedUser();
    const id = await secretWithHistory({ ...base(user), username: `${user.username}_clone` }, base(user));
    const before = await stagesOf(endpoint.client, id);
    const { arn, logs } = singleUserFunction();

    await expect(rotate(endpoint.client, id, arn)).rejects.toBeDefined();

    const failure = logs.lines.find((l) => l.outcome === 'failure');
    expect(failure).toMatchObject({ step: 'setSecret', errorCode: 'AUTH_FAILED' });
    expect(failure?.message).not.toMatch(/other than the previous/);
    const after = await stagesOf(endpoint.client, id);
    const currentId = Object.keys(before).find((v) => before[v]?.includes('AWSCURRENT'));
    expect(after[currentId!]).toContain('AWSCURRENT');
    expect((await secretValue(endpoint.client, id)).username).toBe(user.username);
  });
});
