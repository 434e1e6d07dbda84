/**
 * End to end on MariaDB: the MySQL rotation handler driven by the embedded Secrets Manager endpoint's
 * RotateSecret through the real SDK client, three rotations in a row per strategy, checked by logging
 * in from outside.
 */
import type { Connection } from 'mysql2/promise';
import { canLoginMysql, connectMysqlAdmin } from '../../local/admin-connections';
import { mysqlAdminSettings } from '../../local/db-settings';
import { createMysqlUser, type MysqlFixtureUser } from '../../local/fixtures';
import { mysqlEngine } from '../../shared/engines/mysql';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import {
  captureLogger,
  countingClient,
  createSecret,
  lambdaArn,
  rotate,
  secretValue,
  stagesOf,
  startEndpoint,
  uniqueName,
  WRITES,
  type Endpoint,
} from '../support/rotation-endpoint';

const settings = mysqlAdminSettings();
let endpoint: Endpoint;
let admin: Connection;

beforeAll(async () => {
  endpoint = await startEndpoint();
  admin = await connectMysqlAdmin();
});

afterAll(async () => {
  await admin.end();
  await endpoint.close();
});

function secretFor(user: { username: string; password: string }, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    engine: 'mariadb',
    host: settings.host,
    port: settings.port,
    username: user.username,
    password: user.password,
    ssl: false,
    ...extra,
  };
}

function registerHandler(strategy: 'single-user' | 'alternating-users'): { arn: string; logs: ReturnType<typeof captureLogger> } {
  const logs = captureLogger();
  const arn = lambdaArn(uniqueName(`mysql-${strategy}`));
  const handler = createRotationHandler({ engine: mysqlEngine, strategy, secretsClient: endpoint.client, env: {}, logger: logs });
  endpoint.local.registerRotationFunction(arn, (event) => handler(event));
  return { arn, logs };
}

describe('MySQL single-user rotation, three times in a row', () => {
  let user: MysqlFixtureUser;
  beforeAll(async () => {
    user = await createMysqlUser();
  });
  afterAll(() => user.drop());

  it('each new password logs in and the one before it is refused', async () => {
    const { arn, logs } = registerHandler('single-user');
    const id = await createSecret(endpoint.client, uniqueName('mysql-su'), secretFor(user, { dbname: user.database, custom: 'kept' }));
    const seen = [user.password];
    for (let round = 1; round <= 3; round += 1) {
      await rotate(endpoint.client, id, arn);
      const current = await secretValue(endpoint.client, id);
      expect(current.username).toBe(user.username);
      expect(current.custom).toBe('kept');
      expect(seen).not.toContain(current.password);
      await expect(canLoginMysql(user.username, current.password)).resolves.toBe(true);
      await expect(canLoginMysql(user.username, seen.at(-1)!)).resolves.toBe(false);
      seen.push(current.password);
    }
    // As in AWS's templates, AWSPENDING stays on the finished version, never on another one.
    const stages = Object.values(await stagesOf(endpoint.client, id));
    expect(stages.filter((s) => s.includes('AWSPENDING') && !s.includes('AWSCURRENT'))).toEqual([]);
    for (const pw of seen) expect(logs.text()).not.toContain(pw);
  });
});

describe('MySQL alternating-users rotation, three times in a row', () => {
  let user: MysqlFixtureUser;
  let master: MysqlFixtureUser;
  beforeAll(async () => {
    user = await createMysqlUser();
    // An RDS-like master: every privilege WITH GRANT OPTION, but not root.
    master = await createMysqlUser({ ownDatabase: false });
    await admin.query('GRANT ALL PRIVILEGES ON *.* TO ?@? WITH GRANT OPTION', [master.username, '%']);
  });
  afterAll(async () => {
    await user.drop();
    await master.drop();
  });

  it('usernames alternate, both log in, and the clone has the same grants, in at most 12 requests and 2 writes a rotation', async () => {
    const logs = captureLogger();
    const arn = lambdaArn(uniqueName('mysql-alternating-users'));
    const counting = countingClient(endpoint);
    const handler = createRotationHandler({
      engine: mysqlEngine,
      strategy: 'alternating-users',
      secretsClient: counting.client,
      env: {},
      logger: logs,
    });
    endpoint.local.registerRotationFunction(arn, (event) => handler(event));
    // The master secret names a database that does not exist: the MySQL master opens none.
    const masterArn = await createSecret(
      endpoint.client,
      uniqueName('mysql-master'),
      secretFor(master, { dbname: `${master.username}_none` }),
    );
    const id = await createSecret(endpoint.client, uniqueName('mysql-au'), secretFor(user, { masterarn: masterArn }));
    const clone = `${user.username}_clone`;
    const passwords: string[] = [user.password];
    const expected = [clone, user.username, clone];
    for (let round = 0; round < 3; round += 1) {
      counting.take();
      await rotate(endpoint.client, id, arn);
      const sent = counting.take();
      expect(sent.length).toBeLessThanOrEqual(12);
      expect(sent.filter((c) => WRITES.has(c))).toHaveLength(2);
      const current = await secretValue(endpoint.client, id);
      const previous = await secretValue(endpoint.client, id, 'AWSPREVIOUS');
      expect(current.username).toBe(expected[round]);
      expect(previous.username).toBe(round === 0 ? user.username : expected[round - 1]);
      await expect(canLoginMysql(current.username, current.password)).resolves.toBe(true);
      await expect(canLoginMysql(previous.username, previous.password)).resolves.toBe(true);
      passwords.push(current.password);
    }
    const [rows] = await admin.query('SHOW GRANTS FOR ?@?', [clone, '%']);
    const grants = (rows as Array<Record<string, string>>).map((r) => String(Object.values(r)[0]));
    expect(grants).toContain(`GRANT ALL PRIVILEGES ON \`${user.database}\`.* TO \`${clone}\`@\`%\``);
    for (const pw of passwords) expect(logs.text()).not.toContain(pw);
  });
});
