/**
 * The next version keeps the current secret's text byte for byte but for the credentials: extra keys a
 * proxy, a tool or a team added (an account number past 2^53, an RDS cluster identifier, escapes, the
 * spacing) must come back exactly as they were written, through a whole rotation on the real PostgreSQL
 * with the embedded endpoint. Re-serializing rounded such a number (JavaScript numbers hold 2^53 exactly).
 */
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { randomBytes } from 'node:crypto';
import { canLoginPostgres } from '../../local/admin-connections';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { captureLogger, lambdaArn, rotate, secretValue, startEndpoint, uniqueName, type Endpoint } from '../support/rotation-endpoint';

let endpoint: Endpoint;
let user: PostgresFixtureUser;
beforeAll(async () => {
  endpoint = await startEndpoint();
  user = await createPostgresUser({ username: `hs_${randomBytes(4).toString('hex')}` });
});
afterAll(async () => {
  await user.drop();
  await endpoint.close();
});

it('a single-user rotation changes only the password in the secret text', async () => {
  const head = `{\n  "engine": "postgres", "host": "${user.host}", "port": ${user.port}, "username": "${user.username}",\n  "password": `;
  const tail =
    `,\n  "dbname": "${user.database}", "ssl": false,\n` +
    '  "dbClusterIdentifier": "hs-cluster", "proxyAccountNumber": 12345678901234567890, "weight": 1.50,\n' +
    '  "note": "caf\\u00e9 \\/ ops"\n}';
  const id = (
    await endpoint.client.send(
      new CreateSecretCommand({ Name: uniqueName('hs-extra'), SecretString: head + JSON.stringify(user.password) + tail }),
    )
  ).ARN!;
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

  await rotate(endpoint.client, id, fn);

  const current = await secretValue(endpoint.client, id);
  const text = (await endpoint.client.send(new GetSecretValueCommand({ SecretId: id }))).SecretString!;
  expect(text).toBe(head + JSON.stringify(current.password) + tail);
  await expect(canLoginPostgres(user.username, current.password)).resolves.toBe(true);
});
