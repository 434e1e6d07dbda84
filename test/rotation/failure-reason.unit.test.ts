/**
 * The step's failure line carries the error's stable `reason` beside its code: a refused login's
 * (AUTH_FAILED), and `master-cannot-grant` for the MySQL alternate-user grant the master may not give
 * (a DATABASE failure), so one alarm on the field sees both. Mocked Secrets Manager, scripted database.
 */
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { MysqlGrantRefusedError } from '../../shared/engines/mysql-grant-refusal';
import { mysqlEngine } from '../../shared/engines/mysql';
import { AuthenticationError } from '../../shared/errors';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { Connector, SqlSession } from '../../shared/rotation/database-engine';
import { captureLogger } from '../support/rotation-endpoint';

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf';
const MASTER = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:master-XyZ123';
const TOKEN = 'token-1';
const sm = mockClient(SecretsManagerClient);

const value = (fields: Record<string, unknown>): string =>
  JSON.stringify({ engine: 'mariadb', host: 'db.example', username: 'app', password: 'current-pw-222', masterarn: MASTER, ...fields });

beforeEach(() => {
  sm.reset();
  sm.on(DescribeSecretCommand).resolves({ ARN, VersionIdsToStages: { old: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } });
  sm.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: value({}) });
  sm.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({
    SecretString: value({ username: 'app_clone', password: 'pending-pw-333' }),
  });
  sm.on(GetSecretValueCommand, { SecretId: MASTER }).resolves({
    SecretString: JSON.stringify({ engine: 'mariadb', host: 'db.example', username: 'admin', password: 'master-pw-444' }),
  });
});

async function failureLine(connect: Connector) {
  const logger = captureLogger();
  const h = createRotationHandler({
    engine: mysqlEngine,
    strategy: 'alternating-users',
    secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
    env: {},
    connect,
    logger,
  });
  const err = await h({ SecretId: ARN, ClientRequestToken: TOKEN, Step: 'setSecret' }).catch((e: unknown) => e);
  return { err, line: logger.lines.find((l) => l.outcome === 'failure') };
}

const session = (query: SqlSession['query']): SqlSession => ({ query, async close() {} });

it('master-cannot-grant: a DATABASE failure whose line says why', async () => {
  const refused = new MysqlGrantRefusedError(
    'GRANT PROCESS ON *.*',
    "'admin'@'%'",
    'GRANT PROCESS ON *.* TO ...',
    '1045',
    'nothing was changed',
  );
  const { err, line } = await failureLine(async (request) =>
    session(async () => {
      if (request.role === 'master') throw refused;
      return [];
    }),
  );
  expect(err).toBe(refused);
  expect(line).toMatchObject({ errorCode: 'DATABASE', reason: 'master-cannot-grant' });
});

it('a refused login: AUTH_FAILED with its reason, as before', async () => {
  const { line } = await failureLine(async () => {
    throw new AuthenticationError('MySQL login refused (4151, injected)', { reason: 'login-disabled' });
  });
  expect(line).toMatchObject({ errorCode: 'AUTH_FAILED', reason: expect.any(String) });
});
