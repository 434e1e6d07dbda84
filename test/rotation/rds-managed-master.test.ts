/**
 * A `masterarn` naming an RDS-managed master secret (ManageMasterUserPassword): its value holds only
 * `username` and `password`, and its tag `aws:rds:primaryDBInstanceArn` (as RDS writes it, in mixed case)
 * names the instance whose endpoint the RDS API gives. Both strategies rotate through it end to end on
 * the real PostgreSQL, with the RDS lookup answering the shared server's address: alternating users
 * create the clone as that master, single-user rotation heals drift as that master, and the user's
 * own logins stay at the user secret's host. Embedded endpoint.
 */
import { CreateSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { escapeIdentifier, escapeLiteral } from 'pg';
import { randomBytes } from 'node:crypto';
import { canLoginPostgres, connectPostgresAdmin } from '../../local/admin-connections';
import { postgresAdminSettings } from '../../local/db-settings';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures';
import { noteSensitive } from '../../local/sensitive-values';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { Connector, LoginRole } from '../../shared/rotation/database-engine';
import type { RdsEndpointLookup } from '../../shared/rotation/rds-endpoint';
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

const INSTANCE_ARN = 'arn:aws:rds:us-east-1:000000000000:db:hs-primary';
const s = postgresAdminSettings();
let endpoint: Endpoint;
let masterArn: string;
const users: PostgresFixtureUser[] = [];
const lookups: string[] = [];

/** The RDS API's answer for the tagged instance: the shared server. */
const rdsLookup: RdsEndpointLookup = async (kind, arn) => {
  lookups.push(`${kind} ${arn}`);
  return { host: s.host, port: s.port, engine: 'postgres' };
};

beforeAll(async () => {
  endpoint = await startEndpoint();
  const out = await endpoint.client.send(
    new CreateSecretCommand({
      Name: uniqueName('hs-rds-db'),
      // Loopback trusts postgres, so any password logs in; an RDS-managed value is exactly these two keys.
      SecretString: JSON.stringify({ username: s.user, password: s.password || 'trusted-on-loopback' }),
      Tags: [{ Key: 'aws:rds:primaryDBInstanceArn', Value: INSTANCE_ARN }],
    }),
  );
  masterArn = out.ARN!;
});
afterAll(async () => {
  for (const u of users) await u.drop();
  await endpoint.close();
});

function rotationFunction(strategy: RotationStrategyName) {
  const logs = captureLogger();
  const logins: { role: LoginRole; host: string }[] = [];
  const connect: Connector = async (request) => {
    logins.push({ role: request.role, host: request.secret.host });
    return postgresEngine.defaultConnector(request);
  };
  const arn = lambdaArn(uniqueName('hs-rdsm'));
  const handler = createRotationHandler({
    engine: postgresEngine,
    strategy,
    secretsClient: endpoint.client,
    // An RDS-managed master has no `ssl` key: the function's DB_TLS_MODE applies, and this server has no TLS.
    env: { DB_TLS_MODE: 'disable' },
    logger: logs,
    connect,
    rdsLookup,
  });
  endpoint.local.registerRotationFunction(arn, (event) => handler(event));
  return { arn, logs, logins };
}

async function appUser(): Promise<PostgresFixtureUser> {
  const user = await createPostgresUser({ username: `hs_${randomBytes(4).toString('hex')}` });
  users.push(user);
  return user;
}

/** Sets a fresh password on `role` as the admin, as a DBA (or RDS's own rotation) would; returns it. */
async function setPassword(role: string): Promise<string> {
  const password = `set-${randomBytes(12).toString('hex')}`;
  noteSensitive(password);
  const admin = await connectPostgresAdmin();
  try {
    await admin.query(`ALTER ROLE ${escapeIdentifier(role)} PASSWORD ${escapeLiteral(password)}`);
  } finally {
    await admin.end();
  }
  return password;
}

const childSecret = (user: PostgresFixtureUser, master = masterArn) => ({
  engine: 'postgres',
  host: user.host,
  port: user.port,
  username: user.username,
  password: user.password,
  dbname: user.database,
  ssl: false,
  masterarn: master,
});

describe('a masterarn naming an RDS-managed master secret (username and password only)', () => {
  it('alternating users: the clone is made as that master at the endpoint the RDS API gives', async () => {
    const user = await appUser();
    const id = await createSecret(endpoint.client, uniqueName('hs-rdsm-alt'), childSecret(user));
    const { arn, logs, logins } = rotationFunction('alternating-users');
    lookups.length = 0;

    await rotate(endpoint.client, id, arn);

    expect(logs.lines.filter((l) => l.outcome === 'failure')).toEqual([]);
    const current = await secretValue(endpoint.client, id);
    expect(current.username).toBe(`${user.username}_clone`);
    await expect(canLoginPostgres(current.username, current.password, process.env, user.database)).resolves.toBe(true);
    await expect(canLoginPostgres(user.username, user.password, process.env, user.database)).resolves.toBe(true);
    expect(lookups).toContain(`instance ${INSTANCE_ARN}`);
    expect(logins.filter((l) => l.role === 'master').map((l) => l.host)).toEqual([s.host]);
  });

  it('single user: drift is healed as that master', async () => {
    const user = await appUser();
    const id = await createSecret(endpoint.client, uniqueName('hs-rdsm-single'), childSecret(user));
    const drifted = await setPassword(user.username);
    const { arn, logs } = rotationFunction('single-user');

    await rotate(endpoint.client, id, arn);

    expect(logs.lines.filter((l) => l.outcome === 'failure')).toEqual([]);
    const current = await secretValue(endpoint.client, id);
    await expect(canLoginPostgres(user.username, current.password, process.env, user.database)).resolves.toBe(true);
    await expect(canLoginPostgres(user.username, drifted, process.env, user.database)).resolves.toBe(false);
  });

  it('single user, while RDS rotates the master password: the master AWSPENDING heals the drift', async () => {
    // An RDS-managed master of our own (CREATEROLE, as on RDS), so its password can be refused.
    const masterUser = await createPostgresUser({ username: `hs_${randomBytes(4).toString('hex')}_m`, attributes: ['CREATEROLE'] });
    users.push(masterUser);
    const managed = (
      await endpoint.client.send(
        new CreateSecretCommand({
          Name: uniqueName('hs-rds-db'),
          SecretString: JSON.stringify({ username: masterUser.username, password: masterUser.password }),
          Tags: [{ Key: 'aws:rds:primaryDBInstanceArn', Value: INSTANCE_ARN }],
        }),
      )
    ).ARN!;
    // RDS's rotation of the master user: the new password is set and under AWSPENDING, AWSCURRENT not yet moved.
    const pending = await setPassword(masterUser.username);
    await endpoint.client.send(
      new PutSecretValueCommand({
        SecretId: managed,
        SecretString: JSON.stringify({ username: masterUser.username, password: pending }),
        VersionStages: ['AWSPENDING'],
      }),
    );
    const user = await appUser();
    const id = await createSecret(endpoint.client, uniqueName('hs-rdsm-single'), childSecret(user, managed));
    await setPassword(user.username);
    const { arn, logs } = rotationFunction('single-user');

    await rotate(endpoint.client, id, arn);

    expect(logs.lines.filter((l) => l.outcome === 'failure')).toEqual([]);
    const current = await secretValue(endpoint.client, id);
    await expect(canLoginPostgres(user.username, current.password, process.env, user.database)).resolves.toBe(true);
    await expect(canLoginPostgres(masterUser.username, pending, process.env, user.database)).resolves.toBe(true);
  });
});
