/**
 * A master secret caught in the middle of its own single-user rotation: its setSecret has set the new
 * password on the server, its finishSecret has not yet moved AWSCURRENT (RDS's managed rotation, or the
 * master's own rotation function stuck between the two steps). AWSCURRENT of the master is refused, and
 * AWSPENDING is what logs in, as the product's pools know for application secrets. A child's rotation
 * that needs the master then logs in with the master's AWSPENDING instead of failing, and changes
 * nothing of the master (its password and labels stay as its own rotation left them). Real PostgreSQL
 * with a master of its own (CREATEROLE, as on RDS), and MariaDB with alternating users under an RDS-like
 * master (every privilege WITH GRANT OPTION, not root); embedded endpoint.
 */
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { randomBytes } from 'node:crypto';
import { canLoginMysql, canLoginPostgres, connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';
import { createMysqlUser, createPostgresUser, type MysqlFixtureUser, type PostgresFixtureUser } from '../../local/fixtures';
import { noteSensitive } from '../../local/sensitive-values';
import { mysqlEngine } from '../../shared/engines/mysql';
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

beforeAll(async () => {
  endpoint = await startEndpoint();
});
afterAll(async () => {
  for (const u of users) await u.drop();
  await endpoint.close();
});

const hsName = (suffix = ''): string => `hs_${randomBytes(4).toString('hex')}${suffix}`;

async function asAdmin(sql: string): Promise<void> {
  const admin = await connectPostgresAdmin();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}

function secretOf(user: PostgresFixtureUser, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    engine: 'postgres',
    host: user.host,
    port: user.port,
    username: user.username,
    password: user.password,
    dbname: user.database,
    ssl: false,
    ...extra,
  };
}

/**
 * A CREATEROLE master whose secret's own rotation has set a new password on the server and written it
 * under AWSPENDING, with AWSCURRENT still on the old one.
 */
async function masterMidRotation(): Promise<{ master: PostgresFixtureUser; masterArn: string; pendingPassword: string }> {
  const master = await createPostgresUser({ username: hsName('_m'), attributes: ['CREATEROLE'] });
  users.push(master);
  const masterArn = await createSecret(endpoint.client, uniqueName('hs-master'), secretOf(master));
  const pendingPassword = `pend-${randomBytes(12).toString('hex')}`;
  noteSensitive(pendingPassword);
  await endpoint.client.send(
    new PutSecretValueCommand({
      SecretId: masterArn,
      SecretString: JSON.stringify(secretOf(master, { password: pendingPassword })),
      VersionStages: ['AWSPENDING'],
    }),
  );
  await asAdmin(`ALTER ROLE ${escapeIdentifier(master.username)} PASSWORD ${escapeLiteral(pendingPassword)}`);
  return { master, masterArn, pendingPassword };
}

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

describe('a master secret in the middle of its own rotation', () => {
  it('heals a drifted child with the master AWSPENDING, leaving the master as its rotation left it', async () => {
    const { master, masterArn, pendingPassword } = await masterMidRotation();
    const masterStages = await stagesOf(endpoint.client, masterArn);
    const user = await createPostgresUser({ username: hsName() });
    users.push(user);
    const id = await createSecret(endpoint.client, uniqueName('hs-child'), secretOf(user, { masterarn: masterArn }));
    const drifted = `drift-${randomBytes(12).toString('hex')}`;
    noteSensitive(drifted);
    await asAdmin(`ALTER ROLE ${escapeIdentifier(user.username)} PASSWORD ${escapeLiteral(drifted)}`);
    const { arn, logs } = singleUserFunction();

    await rotate(endpoint.client, id, arn);

    expect(logs.lines.filter((l) => l.outcome === 'failure')).toEqual([]);
    const current = await secretValue(endpoint.client, id);
    await expect(canLoginPostgres(user.username, current.password)).resolves.toBe(true);
    expect(logs.text()).toMatch(/master secret.*AWSPENDING/);
    await expect(canLoginPostgres(master.username, pendingPassword)).resolves.toBe(true);
    expect(await stagesOf(endpoint.client, masterArn)).toEqual(masterStages);
  });

  it('still fails typed, changing nothing, when the master AWSPENDING is refused too', async () => {
    const { master, masterArn } = await masterMidRotation();
    // The master's password is neither its AWSCURRENT nor its AWSPENDING.
    const other = `other-${randomBytes(12).toString('hex')}`;
    noteSensitive(other);
    await asAdmin(`ALTER ROLE ${escapeIdentifier(master.username)} PASSWORD ${escapeLiteral(other)}`);
    const user = await createPostgresUser({ username: hsName() });
    users.push(user);
    const id = await createSecret(endpoint.client, uniqueName('hs-child'), secretOf(user, { masterarn: masterArn }));
    await asAdmin(`ALTER ROLE ${escapeIdentifier(user.username)} PASSWORD ${escapeLiteral(other)}`);
    const { arn, logs } = singleUserFunction();

    await expect(rotate(endpoint.client, id, arn)).rejects.toBeDefined();

    expect(logs.lines.find((l) => l.outcome === 'failure')).toMatchObject({ step: 'setSecret', errorCode: 'AUTH_FAILED' });
    await expect(canLoginPostgres(user.username, other)).resolves.toBe(true);
    await expect(canLoginPostgres(master.username, other)).resolves.toBe(true);
  });
});

describe('MariaDB, alternating users, while the master secret is mid-rotation', () => {
  const made: MysqlFixtureUser[] = [];
  afterAll(async () => {
    for (const u of made) await u.drop();
  });

  it('makes the clone as the master with its AWSPENDING, and both users log in', async () => {
    const admin = await connectMysqlAdmin();
    try {
      const master = await createMysqlUser({ username: hsName('_m'), ownDatabase: false });
      made.push(master);
      await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']);
      const user = await createMysqlUser({ username: hsName() });
      made.push(user);
      const base = { engine: 'mariadb', host: user.host, port: user.port, ssl: false };
      const masterArn = await createSecret(endpoint.client, uniqueName('hs-master'), {
        ...base,
        username: master.username,
        password: master.password,
      });
      const pendingPassword = `pend-${randomBytes(12).toString('hex')}`;
      noteSensitive(pendingPassword);
      await endpoint.client.send(
        new PutSecretValueCommand({
          SecretId: masterArn,
          SecretString: JSON.stringify({ ...base, username: master.username, password: pendingPassword }),
          VersionStages: ['AWSPENDING'],
        }),
      );
      await admin.query('ALTER USER ?@? IDENTIFIED BY ?', [master.username, '%', pendingPassword]);
      const id = await createSecret(endpoint.client, uniqueName('hs-child'), {
        ...base,
        username: user.username,
        password: user.password,
        masterarn: masterArn,
      });
      const logs = captureLogger();
      const arn = lambdaArn(uniqueName('hs-alt'));
      const handler = createRotationHandler({
        engine: mysqlEngine,
        strategy: 'alternating-users',
        secretsClient: endpoint.client,
        env: {},
        logger: logs,
      });
      endpoint.local.registerRotationFunction(arn, (event) => handler(event));

      await rotate(endpoint.client, id, arn);

      expect(logs.lines.filter((l) => l.outcome === 'failure')).toEqual([]);
      const current = await secretValue(endpoint.client, id);
      expect(current.username).toBe(`${user.username}_clone`);
      await expect(canLoginMysql(current.username, current.password)).resolves.toBe(true);
      await expect(canLoginMysql(user.username, user.password)).resolves.toBe(true);
      await expect(canLoginMysql(master.username, pendingPassword)).resolves.toBe(true);
    } finally {
      await admin.end();
    }
  });
});
