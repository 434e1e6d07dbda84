/**
 * setSecret's refusals that come before any change, with a mocked Secrets Manager and a scripted
 * database: an AWSPENDING value written by another tool for another user (a previous tool's rotation
 * left behind), and a `masterarn` in another region than the rotated secret. Each is a typed error with
 * a stable code; no master is read, no SQL runs.
 */
import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient } from 'aws-sdk-client-mock';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { ConnectRequest, Connector, LoginRole, SqlSession } from '../../shared/rotation/database-engine';
import type { RdsTopology } from '../../shared/rotation/rds-replica';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';
import { masterArnProblem, secretArnRegion } from '../../shared/rotation/secret-arn';
import { captureLogger } from '../support/rotation-endpoint';

const ARN = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:app-AbCdEf';
const MASTER_OTHER_REGION = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:master-XyZ123';
const MASTER_SAME_REGION = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:master-XyZ123';
const TOKEN = 'token-1';
const sm = mockClient(SecretsManagerClient);

const value = (fields: Record<string, unknown>): string =>
  JSON.stringify({ engine: 'postgres', host: 'db.example', username: 'app', password: 'current-pw-222', ...fields });

function scriptedDatabase(): { connect: Connector; logins: LoginRole[]; sql: string[] } {
  const logins: LoginRole[] = [];
  const sql: string[] = [];
  const connect: Connector = async (request: ConnectRequest): Promise<SqlSession> => {
    logins.push(request.role);
    return {
      async query(text: string) {
        sql.push(text);
        return [];
      },
      async close() {},
    };
  };
  return { connect, logins, sql };
}

async function runSetSecret(strategy: RotationStrategyName, current: string, pending: string) {
  sm.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSCURRENT' }).resolves({ SecretString: current });
  sm.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({ SecretString: pending });
  const db = scriptedDatabase();
  const logger = captureLogger();
  const h = createRotationHandler({
    engine: postgresEngine,
    strategy,
    secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
    env: {},
    connect: db.connect,
    logger,
  });
  const err = await h({ SecretId: ARN, ClientRequestToken: TOKEN, Step: 'setSecret' }).catch((e: unknown) => e);
  const reads = sm.commandCalls(GetSecretValueCommand).map((c) => c.args[0].input.SecretId);
  return { err, db, logger, reads };
}

beforeEach(() => {
  sm.reset();
  sm.on(DescribeSecretCommand).resolves({ ARN, VersionIdsToStages: { old: ['AWSCURRENT'], [TOKEN]: ['AWSPENDING'] } });
});

describe('an AWSPENDING written by another tool for another user', () => {
  it.each<[RotationStrategyName, string, string]>([
    ['single-user', 'app', 'app_clone'],
    ['single-user', 'app', 'someone_else'],
    // Alternating: only the current user's alternate may be next; the same user again, or a third one, is not.
    ['alternating-users', 'app', 'app'],
    ['alternating-users', 'app', 'app_other'],
    ['alternating-users', 'app_clone', 'app_clone'],
  ])('%s, current %s, pending %s: refused as STAGE_MISMATCH before any login', async (strategy, currentUser, pendingUser) => {
    const { err, db, logger } = await runSetSecret(
      strategy,
      value({ username: currentUser, masterarn: MASTER_SAME_REGION }),
      value({ username: pendingUser, password: 'pending-pw-333', masterarn: MASTER_SAME_REGION }),
    );
    expect(err).toMatchObject({ code: 'STAGE_MISMATCH', message: expect.stringContaining(`Attempting to modify user ${pendingUser}`) });
    expect(db.logins).toEqual([]);
    expect(logger.text()).not.toMatch(/current-pw-222|pending-pw-333/);
  });

  it('on another host (same user): refused as STAGE_MISMATCH before any login', async () => {
    const { err, db } = await runSetSecret('single-user', value({}), value({ host: 'other.example', password: 'pending-pw-333' }));
    expect(err).toMatchObject({
      code: 'STAGE_MISMATCH',
      message: expect.stringMatching(/host other\.example other than the current host/),
    });
    expect(db.logins).toEqual([]);
  });
});

describe('a masterarn that cannot be read', () => {
  it('in another region: refused naming both regions before the master is read or logs in, and nothing changes', async () => {
    const { err, db, reads } = await runSetSecret(
      'alternating-users',
      value({ masterarn: MASTER_OTHER_REGION }),
      value({ username: 'app_clone', password: 'pending-pw-333', masterarn: MASTER_OTHER_REGION }),
    );
    expect(err).toMatchObject({ code: 'SECRET_INVALID', message: expect.stringMatching(/master secret is in eu-west-1.*in us-east-1/) });
    expect((err as { issues: unknown[] }).issues).toEqual([
      { path: 'masterarn', problem: expect.stringMatching(/replica\) in us-east-1/) },
    ]);
    expect(reads).not.toContain(MASTER_OTHER_REGION);
    // Refused with the master's-own-user check, before any login: no master, no SQL.
    expect(db.logins).toEqual([]);
    expect(db.sql.filter((s) => /ROLE|USER|GRANT/i.test(s))).toEqual([]);
  });

  it('in the same region but scheduled for deletion: refused saying so, with no master login and no SQL', async () => {
    sm.on(GetSecretValueCommand, { SecretId: MASTER_SAME_REGION }).rejects(
      Object.assign(new Error("You can't perform this operation on the secret because it was marked for deletion."), {
        name: 'InvalidRequestException',
        $metadata: { httpStatusCode: 400 },
      }),
    );
    sm.on(DescribeSecretCommand, { SecretId: MASTER_SAME_REGION }).resolves({ ARN: MASTER_SAME_REGION, DeletedDate: new Date() });
    const { err, db } = await runSetSecret(
      'alternating-users',
      value({ masterarn: MASTER_SAME_REGION }),
      value({ username: 'app_clone', password: 'pending-pw-333', masterarn: MASTER_SAME_REGION }),
    );
    expect(err).toMatchObject({
      code: 'INVALID_REQUEST',
      message: expect.stringMatching(/^The master secret .* is scheduled for deletion/),
    });
    // The master is read before any login (its own user is checked first), so nothing logs in.
    expect(db.logins).toEqual([]);
    expect(db.sql.filter((s) => /ROLE|USER|GRANT/i.test(s))).toEqual([]);
  });

  it.each<[string, RotationStrategyName, string, RegExp]>([
    ['with a newline after it', 'alternating-users', `${MASTER_SAME_REGION}\n`, /whitespace/],
    ['with a space before it', 'single-user', ` ${MASTER_SAME_REGION}`, /whitespace/],
    ['holding a space inside (two ids pasted)', 'single-user', `${MASTER_SAME_REGION} prod/db/master`, /whitespace/],
    ['holding a quote', 'alternating-users', `'${MASTER_SAME_REGION}'`, /contains "'"/],
  ])(
    '%s (%s): refused as SECRET_INVALID naming masterarn, before it is read or anything logs in',
    async (_name, strategy, masterarn, problem) => {
      const pendingUser = strategy === 'alternating-users' ? 'app_clone' : 'app';
      const { err, db, reads } = await runSetSecret(
        strategy,
        value({ masterarn }),
        value({ username: pendingUser, password: 'pending-pw-333', masterarn }),
      );
      expect(err).toMatchObject({ code: 'SECRET_INVALID', message: expect.stringMatching(/masterarn names no secret/) });
      expect((err as { issues: unknown[] }).issues).toEqual([{ path: 'masterarn', problem: expect.stringMatching(problem) }]);
      expect(reads).toEqual([ARN, ARN]);
      expect(db.logins).toEqual([]);
    },
  );

  it('accepts what Secrets Manager resolves: full and partial ARNs, names with every character a name may hold, service-managed names', () => {
    for (const id of [
      MASTER_SAME_REGION,
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:master',
      'prod/db_master+1=a.b@c-d',
      'arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!cluster-0a1b2c3d-AbCdEf',
    ]) {
      expect(masterArnProblem(id)).toBeUndefined();
    }
  });

  it('reads the region of secret ARNs only, in any partition', () => {
    expect(secretArnRegion('arn:aws-cn:secretsmanager:cn-north-1:111122223333:secret:db-AbCdEf')).toBe('cn-north-1');
    expect(secretArnRegion('arn:aws-us-gov:secretsmanager:us-gov-west-1:111122223333:secret:db-AbCdEf')).toBe('us-gov-west-1');
    expect(secretArnRegion('prod/db/master')).toBeUndefined();
    expect(secretArnRegion('arn:aws:rds:us-east-1:111122223333:db:master')).toBeUndefined();
  });
});

describe('a reader host whose replica check gets no answer from the RDS API', () => {
  it('fails in time with a TimeoutError naming the RDS call, logged once, aborting the request, before any change', async () => {
    const MASTER = MASTER_SAME_REGION;
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSCURRENT' }).resolves({
      SecretString: value({ host: 'app-replica.abc123.us-east-1.rds.amazonaws.com', masterarn: MASTER }),
    });
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({
      SecretString: value({
        host: 'app-replica.abc123.us-east-1.rds.amazonaws.com',
        username: 'app_clone',
        password: 'pending-pw-333',
        masterarn: MASTER,
      }),
    });
    sm.on(GetSecretValueCommand, { SecretId: MASTER }).resolves({
      SecretString: value({ host: 'app-primary.abc123.us-east-1.rds.amazonaws.com', username: 'admin', password: 'master-pw-444' }),
    });
    const signals: (AbortSignal | undefined)[] = [];
    // An RDS API that accepts and never answers (no rds VPC endpoint, a proxy that hangs).
    const silent: RdsTopology = {
      instance: (_id, options) => {
        signals.push(options?.abortSignal);
        return new Promise(() => undefined);
      },
      cluster: (_id, options) => {
        signals.push(options?.abortSignal);
        return new Promise(() => undefined);
      },
    };
    const db = scriptedDatabase();
    const logger = captureLogger();
    const h = createRotationHandler({
      engine: postgresEngine,
      strategy: 'alternating-users',
      secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
      env: {},
      connect: db.connect,
      logger,
      rdsTopology: silent,
    });
    const started = Date.now();
    // 200 ms of Lambda time left after the 1.5 s kept back for logging.
    const context = { getRemainingTimeInMillis: () => 1_700 - (Date.now() - started) };
    const err = await h({ SecretId: ARN, ClientRequestToken: TOKEN, Step: 'setSecret' }, context).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'TIMEOUT', message: expect.stringMatching(/^RDS DescribeDBInstances: no answer from the RDS API/) });
    expect(logger.lines).toHaveLength(1);
    expect(logger.lines[0]).toMatchObject({ outcome: 'failure', errorCode: 'TIMEOUT' });
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((s) => s?.aborted === true)).toBe(true);
    expect(db.sql.filter((s) => /ROLE|USER|GRANT/i.test(s))).toEqual([]);
  });
});

describe('an RDS-managed master (username and password only) whose endpoint cannot be looked up', () => {
  const RDS_MASTER = 'arn:aws:secretsmanager:us-east-1:111122223333:secret:rds!db-1234-AbCdEf';
  const INSTANCE = 'arn:aws:rds:us-east-1:111122223333:db:app-primary';

  it.each([
    [
      'AccessDenied',
      Object.assign(new Error('not authorized'), { name: 'AccessDenied' }),
      'ACCESS_DENIED',
      /may not look up its DB instance's endpoint \(rds:DescribeDBInstances\)/,
    ],
    [
      'an unresolved RDS API',
      Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' }),
      'NETWORK',
      /could not be reached .*\(ENOTFOUND\); .*VPC endpoint for rds/,
    ],
  ])('%s: a typed error saying what to fix, before any change', async (_label, failure, code, message) => {
    sm.on(GetSecretValueCommand, { SecretId: RDS_MASTER }).resolves({
      SecretString: JSON.stringify({ username: 'admin', password: 'master-pw-444' }),
    });
    sm.on(DescribeSecretCommand, { SecretId: RDS_MASTER }).resolves({
      ARN: RDS_MASTER,
      Tags: [{ Key: 'aws:rds:primaryDBInstanceArn', Value: INSTANCE }],
    });
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSCURRENT' }).resolves({
      SecretString: value({ masterarn: RDS_MASTER }),
    });
    sm.on(GetSecretValueCommand, { SecretId: ARN, VersionStage: 'AWSPENDING', VersionId: TOKEN }).resolves({
      SecretString: value({ username: 'app_clone', password: 'pending-pw-333', masterarn: RDS_MASTER }),
    });
    const db = scriptedDatabase();
    const h = createRotationHandler({
      engine: postgresEngine,
      strategy: 'alternating-users',
      secretsClient: new SecretsManagerClient({ region: 'us-east-1' }),
      env: {},
      connect: db.connect,
      logger: captureLogger(),
      rdsLookup: async () => {
        throw failure;
      },
    });
    const err = await h({ SecretId: ARN, ClientRequestToken: TOKEN, Step: 'setSecret' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code, message: expect.stringMatching(message) });
    // The master is read before any login (its own user is checked first), so nothing logs in.
    expect(db.logins).toEqual([]);
    expect(db.sql.filter((s) => /ROLE|USER|GRANT/i.test(s))).toEqual([]);
  });
});
