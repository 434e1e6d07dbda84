/**
 * Hostile and malformed input, table-driven (hostile-cases.ts), for both engines: each case must raise
 * a typed error with the expected code whose message names the problem, change nothing in the secret or
 * the database, and carry no secret value in its message, JSON, stack or the handler's log.
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomBytes, randomUUID } from 'node:crypto';
import { canLoginMysql, canLoginPostgres, connectMysqlAdmin, connectPostgresAdmin } from '../../local/admin-connections';
import { createMysqlUser, createPostgresUser } from '../../local/fixtures';
import { noteSensitive } from '../../local/sensitive-values';
import { isToolkitError, type ToolkitError } from '../../shared/errors';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { RotationHandler, SecretsManagerRotationEvent } from '../../shared/rotation/event';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';
import { captureLogger, lambdaArn, uniqueName } from '../support/rotation-endpoint';
import { recordFigure } from '../support/figures';
import { EVENT_CASES, SET_SECRET_CASES, VALUE_CASES, type HostileContext } from '../support/hostile-cases';
import { createMasterSecret, dropMasters, startTestEndpoint, databaseEngineOf, type TestEndpoint } from '../support/rotation-rig';
import type { EngineFamily } from '../../shared/database-secret';

const CANARY = 'rel_canary';

let endpoint: TestEndpoint;
let client: SecretsManagerClient;
const drops: Array<() => Promise<void>> = [];
let casesRun = 0;

beforeAll(async () => {
  endpoint = await startTestEndpoint();
  client = endpoint.client;
  const pg = await connectPostgresAdmin();
  try {
    await pg.query(`DO $$ BEGIN CREATE ROLE ${CANARY} NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$`);
  } finally {
    await pg.end();
  }
});

afterAll(async () => {
  for (const drop of drops) await drop();
  await dropMasters();
  await endpoint.close();
  recordFigure('hostile.cases', casesRun);
});

async function putVersion(secretId: string, token: string, value: string, stage: string): Promise<void> {
  await client.send(
    new PutSecretValueCommand({ SecretId: secretId, ClientRequestToken: token, SecretString: value, VersionStages: [stage] }),
  );
}

async function newSecret(value: string): Promise<string> {
  const out = await client.send(new CreateSecretCommand({ Name: uniqueName('rel-hostile'), SecretString: value }));
  return out.ARN!;
}

/**
 * Every label and every labelled version's value: what "nothing changed in the secret" compares. The
 * value-less AWSPENDING version RotateSecret itself creates is Secrets Manager's doing, not the handler's.
 */
async function snapshot(secretId: string, rotationToken?: string): Promise<string> {
  const described = await client.send(new DescribeSecretCommand({ SecretId: secretId }));
  const stages = { ...(described.VersionIdsToStages ?? {}) };
  if (rotationToken !== undefined) delete stages[rotationToken];
  const values: Record<string, string | undefined> = {};
  for (const id of Object.keys(stages).sort()) {
    values[id] = (await client.send(new GetSecretValueCommand({ SecretId: secretId, VersionId: id }))).SecretString;
  }
  return JSON.stringify({ stages, values });
}

interface EngineFixture {
  readonly username: string;
  readonly password: string;
  readonly valid: Record<string, unknown>;
  canLogin(username: string, password: string): Promise<boolean>;
  exists(username: string): Promise<boolean>;
}

async function engineFixture(engine: EngineFamily): Promise<EngineFixture> {
  const user = engine === 'postgres' ? await createPostgresUser() : await createMysqlUser();
  drops.push(() => user.drop());
  const valid = {
    engine: engine === 'postgres' ? 'postgres' : 'mariadb',
    host: user.host,
    port: user.port,
    username: user.username,
    password: user.password,
    dbname: user.database,
    ssl: false,
  };
  return {
    username: user.username,
    password: user.password,
    valid,
    canLogin: (u, p) => (engine === 'postgres' ? canLoginPostgres(u, p, process.env, user.database) : canLoginMysql(u, p)),
    exists: async (name) => {
      if (engine === 'postgres') {
        const admin = await connectPostgresAdmin();
        try {
          return ((await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [name])).rowCount ?? 0) > 0;
        } finally {
          await admin.end();
        }
      }
      const admin = await connectMysqlAdmin();
      try {
        const [rows] = await admin.query('SELECT 1 FROM mysql.user WHERE User = ?', [name]);
        return (rows as unknown[]).length > 0;
      } finally {
        await admin.end();
      }
    },
  };
}

function expectNoSecretIn(err: ToolkitError, logText: string, secrets: readonly string[]): void {
  const printed = [err.message, JSON.stringify(err), err.stack ?? '', logText].join('\n');
  for (const s of secrets) expect(printed.includes(s)).toBe(false);
}

describe.each<EngineFamily>(['postgres', 'mysql'])('hostile input: %s', (engine) => {
  let fixture: EngineFixture;
  let ctx: HostileContext;
  let masterPassword: string;
  const handlers = new Map<RotationStrategyName, { handler: RotationHandler; logs: ReturnType<typeof captureLogger> }>();

  beforeAll(async () => {
    fixture = await engineFixture(engine);
    for (const strategy of ['single-user', 'alternating-users'] as const) {
      const logs = captureLogger();
      handlers.set(strategy, {
        handler: createRotationHandler({ engine: databaseEngineOf(engine), strategy, secretsClient: client, env: {}, logger: logs }),
        logs,
      });
    }
    const masterArn = await createMasterSecret(client, engine);
    masterPassword = JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: masterArn }))).SecretString!).password;
    // The event cases' secret: AWSPREVIOUS, AWSCURRENT and AWSPENDING all present.
    const secretId = await newSecret(JSON.stringify(fixture.valid));
    const previousToken = (await client.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages!;
    const firstVersion = Object.keys(previousToken)[0]!;
    await putVersion(secretId, randomUUID(), JSON.stringify(fixture.valid), 'AWSCURRENT');
    const pendingToken = randomUUID();
    await putVersion(secretId, pendingToken, JSON.stringify({ ...fixture.valid, password: pendingPassword() }), 'AWSPENDING');
    const other = await newSecret(JSON.stringify(fixture.valid));
    const otherSecretToken = randomUUID();
    await putVersion(other, otherSecretToken, JSON.stringify(fixture.valid), 'AWSPENDING');
    const otherHost = await newSecret(
      JSON.stringify({ ...fixture.valid, host: 'db.elsewhere.internal', username: 'admin', password: 'x'.repeat(16) }),
    );
    const otherEngine = await newSecret(
      JSON.stringify({
        ...fixture.valid,
        engine: engine === 'postgres' ? 'mysql' : 'postgres',
        username: 'admin',
        password: 'y'.repeat(16),
      }),
    );
    const notJson = await newSecret('admin:password');
    ctx = {
      engine,
      secretId,
      pendingToken,
      previousToken: firstVersion,
      otherSecretToken,
      missingSecretId: `arn:aws:secretsmanager:us-east-1:000000000000:secret:rel-missing-${randomBytes(4).toString('hex')}-AbCdEf`,
      valid: fixture.valid,
      masterArn,
      otherHostMasterArn: otherHost,
      otherEngineMasterArn: otherEngine,
      notJsonMasterArn: notJson,
    };
  });

  /** Runs one hostile invocation and checks everything a case must hold. */
  async function expectRefused(
    strategy: RotationStrategyName,
    event: unknown,
    secretId: string | undefined,
    code: string,
    names: RegExp,
    secrets: readonly string[],
  ): Promise<ToolkitError> {
    const { handler, logs } = handlers.get(strategy)!;
    const before = secretId !== undefined ? await snapshot(secretId) : undefined;
    let thrown: unknown;
    try {
      await handler(event as SecretsManagerRotationEvent);
    } catch (err) {
      thrown = err;
    }
    expect(isToolkitError(thrown)).toBe(true);
    const err = thrown as ToolkitError;
    expect({ code: err.code, message: err.message }).toEqual({ code, message: expect.stringMatching(names) });
    if (secretId !== undefined) expect(await snapshot(secretId)).toBe(before);
    expectNoSecretIn(err, logs.text(), [...secrets, fixture.password, masterPassword]);
    expect(await fixture.canLogin(fixture.username, fixture.password)).toBe(true);
    casesRun += 1;
    return err;
  }

  it.each(EVENT_CASES)('event: $name → $code', async ({ event, code, names }) => {
    await expectRefused('single-user', event(ctx), ctx.secretId, code, names, []);
  });

  // Started by RotateSecret, as in production: createSecret meets the value with no AWSPENDING value yet.
  it.each(VALUE_CASES)('AWSCURRENT value: $name → $code', async ({ value, code, names }) => {
    const secretId = await newSecret(value(ctx));
    const before = await snapshot(secretId);
    const functionArn = lambdaArn(uniqueName('rel-hostile'));
    const { handler, logs } = handlers.get('single-user')!;
    let thrown: unknown;
    let token: string | undefined;
    endpoint.local.registerRotationFunction(functionArn, async (event) => {
      token = event.ClientRequestToken;
      try {
        await handler(event);
      } catch (err) {
        thrown = err;
        throw err;
      }
    });
    await expect(client.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: functionArn }))).rejects.toBeDefined();
    expect(isToolkitError(thrown)).toBe(true);
    const err = thrown as ToolkitError;
    expect({ code: err.code, message: err.message }).toEqual({ code, message: expect.stringMatching(names) });
    expect(endpoint.local.rotationHistory(secretId).at(-1)?.failedStep).toBe('createSecret');
    expect(await snapshot(secretId, token)).toBe(before);
    expectNoSecretIn(err, logs.text(), [fixture.password, masterPassword]);
    casesRun += 1;
  });

  it.each(SET_SECRET_CASES)('setSecret: $name → $code', async ({ strategy, current, code, names }) => {
    const currentValue = current(ctx);
    const secretId = await newSecret(JSON.stringify(currentValue));
    const token = randomUUID();
    const newPassword = pendingPassword();
    const username = strategy === 'alternating-users' ? `${String(currentValue.username)}_clone` : currentValue.username;
    await putVersion(secretId, token, JSON.stringify({ ...currentValue, username, password: newPassword }), 'AWSPENDING');
    const expected = typeof code === 'string' ? code : code[engine];
    await expectRefused(strategy, { SecretId: secretId, ClientRequestToken: token, Step: 'setSecret' }, secretId, expected, names, [
      newPassword,
    ]);
    expect(await fixture.exists(`${fixture.username}_clone`)).toBe(false);
    expect(await fixture.canLogin(fixture.username, newPassword)).toBe(false);
    if (engine === 'postgres') expect(await fixture.exists(CANARY)).toBe(true);
  });
});

function pendingPassword(): string {
  const password = randomBytes(18).toString('base64url');
  noteSensitive(password);
  return password;
}
