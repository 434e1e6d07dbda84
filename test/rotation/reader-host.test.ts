/**
 * A user secret whose host is a reader of the master's database, on the real PostgreSQL and MariaDB with
 * the RDS API mocked (aws-sdk-client-mock on @aws-sdk/client-rds): the "reader" is `localhost`, a second
 * name for the servers' 127.0.0.1, which the mocked answers make an Aurora reader endpoint (PostgreSQL)
 * and an RDS read replica (MariaDB). Every login is recorded: the master, who changes the password,
 * logs in at its own host (the writer); the user's credentials are tried and tested at the secret's host.
 */
import { DescribeDBClustersCommand, DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { randomBytes } from 'node:crypto';
import { mockClient } from 'aws-sdk-client-mock';
import { canLoginMysql, canLoginPostgres, connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';
import { mysqlAdminSettings, postgresAdminSettings } from '../../local/db-settings';
import { createMysqlUser, createPostgresUser, type MysqlFixtureUser, type PostgresFixtureUser } from '../../local/fixtures';
import { mysqlEngine } from '../../shared/engines/mysql';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { Connector, DatabaseEngine, LoginRole } from '../../shared/rotation/database-engine';
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

const rds = mockClient(RDSClient);
let endpoint: Endpoint;
beforeAll(async () => {
  endpoint = await startEndpoint();
});
afterAll(async () => {
  rds.restore();
  await endpoint.close();
});
beforeEach(() => rds.reset());

const READER = 'localhost';
const name = (): string => `appsx_${randomBytes(4).toString('hex')}`;

function recordingHandler(engine: DatabaseEngine) {
  const logins: { role: LoginRole; host: string }[] = [];
  const connect: Connector = async (request) => {
    logins.push({ role: request.role, host: request.secret.host });
    return engine.defaultConnector(request);
  };
  const logs = captureLogger();
  const arn = lambdaArn(uniqueName(`reader-${engine.family}`));
  const handler = createRotationHandler({
    engine,
    strategy: 'alternating-users',
    secretsClient: endpoint.client,
    env: {},
    connect,
    logger: logs,
  });
  endpoint.local.registerRotationFunction(arn, (event) => handler(event));
  // The steps that run as the master: setSecret's logins are recorded per invocation, in order.
  return { arn, logs, logins };
}

const hostsOf = (logins: { role: LoginRole; host: string }[], role: LoginRole) => [
  ...new Set(logins.filter((l) => l.role === role).map((l) => l.host)),
];

describe('PostgreSQL user secret on an Aurora reader endpoint', () => {
  const s = postgresAdminSettings();
  let masterArn: string;
  const users: PostgresFixtureUser[] = [];
  beforeAll(async () => {
    masterArn = await createSecret(endpoint.client, uniqueName('appsx-master'), {
      // The writer: the cluster's instance `127` (the first label of 127.0.0.1, as RDS names instances).
      engine: 'aurora-postgresql',
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
  });

  const mockCluster = (readerEndpoint: string) => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: '127' }).resolves({
      DBInstances: [{ DBInstanceIdentifier: '127', Endpoint: { Address: s.host, Port: s.port }, DBClusterIdentifier: 'appsx-cluster' }],
    });
    rds.on(DescribeDBClustersCommand, { DBClusterIdentifier: 'appsx-cluster' }).resolves({
      DBClusters: [
        {
          DBClusterIdentifier: 'appsx-cluster',
          Endpoint: s.host,
          ReaderEndpoint: readerEndpoint,
          Port: s.port,
          DBClusterMembers: [{ DBInstanceIdentifier: '127', IsClusterWriter: true }],
        },
      ],
    });
  };

  it('rotates: the master changes the password at the writer, the user logs in and is tested at the reader', async () => {
    mockCluster(READER);
    const user = await createPostgresUser({ username: name() });
    users.push(user);
    const { arn, logins } = recordingHandler(postgresEngine);
    const id = await createSecret(endpoint.client, uniqueName('appsx-reader'), {
      engine: 'aurora-postgresql',
      host: READER,
      port: s.port,
      username: user.username,
      password: user.password,
      dbname: user.database,
      ssl: false,
      masterarn: masterArn,
    });
    for (let round = 0; round < 2; round += 1) await rotate(endpoint.client, id, arn);
    const current = await secretValue(endpoint.client, id);
    expect(current.host).toBe(READER);
    expect(current.username).toBe(user.username);
    await expect(canLoginPostgres(current.username, current.password)).resolves.toBe(true);
    expect(hostsOf(logins, 'master')).toEqual([s.host]);
    expect(hostsOf(logins, 'pending')).toEqual([READER]);
    expect(hostsOf(logins, 'current')).toEqual([READER]);
    expect(rds.commandCalls(DescribeDBClustersCommand).length).toBeGreaterThan(0);
  });

  it('refuses a host the RDS API does not show as a reader, changing nothing', async () => {
    mockCluster('appsx-other.cluster-ro-abc.us-east-1.rds.amazonaws.com');
    const user = await createPostgresUser({ username: name() });
    users.push(user);
    const { arn, logs, logins } = recordingHandler(postgresEngine);
    const id = await createSecret(endpoint.client, uniqueName('appsx-reader'), {
      engine: 'aurora-postgresql',
      host: READER,
      port: s.port,
      username: user.username,
      password: user.password,
      dbname: user.database,
      ssl: false,
      masterarn: masterArn,
    });
    await expect(rotate(endpoint.client, id, arn)).rejects.toBeDefined();
    const failure = logs.lines.find((l) => l.outcome === 'failure');
    expect(failure).toMatchObject({ step: 'setSecret', errorCode: 'SECRET_INVALID' });
    expect(failure?.message).toContain('neither the reader endpoint nor an instance of cluster appsx-cluster');
    expect(logins.filter((l) => l.role === 'master')).toEqual([]);
    const admin = await connectPostgresAdmin();
    try {
      expect((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${user.username}_clone`])).rowCount).toBe(0);
    } finally {
      await admin.end();
    }
  });
});

describe('MariaDB user secret on an RDS read replica', () => {
  const s = mysqlAdminSettings();
  let master: MysqlFixtureUser;
  let masterArn: string;
  const users: MysqlFixtureUser[] = [];
  beforeAll(async () => {
    // An RDS-like master: every privilege WITH GRANT OPTION, but not root.
    master = await createMysqlUser({ username: name(), ownDatabase: false });
    const admin = await connectMysqlAdmin();
    try {
      await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']);
    } finally {
      await admin.end();
    }
    masterArn = await createSecret(endpoint.client, uniqueName('appsx-master'), {
      engine: 'mariadb',
      host: s.host,
      port: s.port,
      username: master.username,
      password: master.password,
      ssl: false,
    });
  });
  afterAll(async () => {
    for (const u of users) await u.drop();
    await master.drop();
  });

  it('rotates with alternating users: the clone is made at the writer and tested at the replica', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: READER }).resolves({
      DBInstances: [
        { DBInstanceIdentifier: READER, Endpoint: { Address: READER, Port: s.port }, ReadReplicaSourceDBInstanceIdentifier: '127' },
      ],
    });
    const user = await createMysqlUser({ username: name() });
    users.push(user);
    const { arn, logins } = recordingHandler(mysqlEngine);
    const id = await createSecret(endpoint.client, uniqueName('appsx-replica'), {
      engine: 'mariadb',
      host: READER,
      port: s.port,
      username: user.username,
      password: user.password,
      ssl: false,
      masterarn: masterArn,
    });
    await rotate(endpoint.client, id, arn);
    const current = await secretValue(endpoint.client, id);
    expect(current.username).toBe(`${user.username}_clone`);
    await expect(canLoginMysql(current.username, current.password)).resolves.toBe(true);
    expect(hostsOf(logins, 'master')).toEqual([s.host]);
    expect(hostsOf(logins, 'pending')).toEqual([READER]);
    expect(rds.commandCalls(DescribeDBInstancesCommand).map((c) => c.args[0].input.DBInstanceIdentifier)).toEqual([READER]);
  });

  it('refuses a replica of another instance', async () => {
    rds.on(DescribeDBInstancesCommand, { DBInstanceIdentifier: READER }).resolves({
      DBInstances: [
        {
          DBInstanceIdentifier: READER,
          Endpoint: { Address: READER, Port: s.port },
          ReadReplicaSourceDBInstanceIdentifier: 'someone-else',
        },
      ],
    });
    const user = await createMysqlUser({ username: name() });
    users.push(user);
    const { arn, logs } = recordingHandler(mysqlEngine);
    const id = await createSecret(endpoint.client, uniqueName('appsx-replica'), {
      engine: 'mariadb',
      host: READER,
      port: s.port,
      username: user.username,
      password: user.password,
      ssl: false,
      masterarn: masterArn,
    });
    await expect(rotate(endpoint.client, id, arn)).rejects.toBeDefined();
    expect(logs.lines.find((l) => l.outcome === 'failure')).toMatchObject({ step: 'setSecret', errorCode: 'SECRET_INVALID' });
    const admin = await connectMysqlAdmin();
    try {
      const [rows] = await admin.query('SELECT User FROM mysql.user WHERE User = ?', [`${user.username}_clone`]);
      expect(rows).toEqual([]);
    } finally {
      await admin.end();
    }
  });
});
