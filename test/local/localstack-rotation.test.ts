/**
 * Rotation as LocalStack's Secrets Manager runs it (test/support/localstack-secrets-manager.ts, from
 * LocalStack's provider source), first checked against that source's facts with a recording function,
 * then with the repo's own rotation handlers against the real servers: the event names the secret by
 * NAME and has no RotationToken, AWSPENDING is created without a value before createSecret, a failing
 * step is swallowed and the unfinished rotation is re-run under its own token by the next RotateSecret,
 * and AWSPENDING stays on the finished version. Users and secrets: lsr_ names, dropped after.
 */
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { randomUUID } from 'node:crypto';
import { canLoginMysql, canLoginPostgres, connectPostgresAdmin } from '../../local/admin-connections';
import { postgresAdminSettings } from '../../local/db-settings';
import {
  createMysqlUser,
  createPostgresUser,
  fixtureUsername,
  type MysqlFixtureUser,
  type PostgresFixtureUser,
} from '../../local/fixtures';
import { registerRepoRotationHandlers } from '../../local/repo-handlers';
import { demoSecretString } from '../../local/rotate-local/seed-secret';
import { runRotateLocalCli } from '../../local/rotate-local/rotate-local';
import { rotationFunctionArn, rotationFunctionName, selectScenarios } from '../../local/rotate-local/scenarios';
import type { CliIo } from '../../operator/cli-io';
import { silentLogger } from '../../shared/rotation/logger';
import type { RotationEvent } from '../../emulator';
import { startLocalStackSecretsManager, type LocalStackSecretsManager } from '../support/localstack-secrets-manager';
import { startLocalStackStandIn, type LocalStackStandIn } from '../support/localstack-stand-in';

/** What a test reads of `rotate:local --json`. */
interface RotateLocalReport {
  scenarios: Array<{
    rotations: Array<{
      outcome: string;
      versionId: string;
      resumed?: { versionId: string };
      error?: string;
      checks: Array<{ name: string; ok: boolean }>;
    }>;
  }>;
}

let sm: LocalStackSecretsManager;
let client: SecretsManagerClient;

beforeAll(async () => {
  sm = await startLocalStackSecretsManager();
  // The repo's rotation functions, "deployed" in it under their documented names.
  registerRepoRotationHandlers(sm, { logger: silentLogger });
  client = new SecretsManagerClient({
    endpoint: sm.endpoint,
    region: sm.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client.destroy();
  await sm.close();
});

const stagesOf = async (secretId: string): Promise<Record<string, string[]>> =>
  (await client.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};

async function errorOf(promise: Promise<unknown>): Promise<{ name?: string; message?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as { name?: string; message?: string };
  }
  throw new Error('expected a refusal');
}

describe("the stand-in's RotateSecret follows LocalStack's provider", () => {
  const recorded: Array<RotationEvent & { pendingAtCreate?: { stages?: string[]; read: string } }> = [];
  let failAt: string | undefined;
  const recorder = `arn:aws:lambda:us-east-1:000000000000:function:lsr-recorder`;

  beforeAll(() => {
    sm.registerRotationFunction(recorder, async (event) => {
      const entry: (typeof recorded)[number] = { ...event };
      if (event.Step === 'createSecret') {
        // What the function finds under its token before it writes anything.
        const stages = (await stagesOf(event.SecretId))[event.ClientRequestToken];
        const read = await client
          .send(new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING' }))
          .then(
            () => 'a value',
            (err: { name?: string }) => err.name ?? 'error',
          );
        entry.pendingAtCreate = { ...(stages ? { stages } : {}), read };
      }
      recorded.push(entry);
      if (event.Step === failAt) throw new Error(`lsr: ${event.Step} fails on purpose`);
    });
  });

  beforeEach(() => {
    recorded.length = 0;
    failAt = undefined;
  });

  async function secret(name: string): Promise<string> {
    const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: '{"a":1}' }));
    return out.ARN!;
  }

  it('sends the four steps in order, naming the secret by NAME even when called with its ARN, without a RotationToken', async () => {
    const name = 'lsr/recorder/order';
    const arn = await secret(name);
    const token = randomUUID();
    const out = await client.send(new RotateSecretCommand({ SecretId: arn, ClientRequestToken: token, RotationLambdaARN: recorder }));
    expect(out.VersionId).toBe(token);
    expect(recorded.map((e) => e.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    for (const e of recorded) {
      expect(e.SecretId).toBe(name);
      expect(e.ClientRequestToken).toBe(token);
      expect(Object.keys(e)).not.toContain('RotationToken');
    }
  });

  it('creates AWSPENDING under the token, without a value, before createSecret', async () => {
    const name = 'lsr/recorder/pending';
    await secret(name);
    const token = randomUUID();
    await client.send(new RotateSecretCommand({ SecretId: name, ClientRequestToken: token, RotationLambdaARN: recorder }));
    expect(recorded[0]!.pendingAtCreate).toEqual({ stages: ['AWSPENDING'], read: 'ResourceNotFoundException' });
  });

  it('swallows a failing step, leaves AWSPENDING, and re-runs that rotation under its token on the next call', async () => {
    const name = 'lsr/recorder/failure';
    await secret(name);
    const first = randomUUID();
    failAt = 'setSecret';
    const out = await client.send(
      new RotateSecretCommand({
        SecretId: name,
        ClientRequestToken: first,
        RotationLambdaARN: recorder,
        RotationRules: { AutomaticallyAfterDays: 7 },
      }),
    );
    expect(out.VersionId).toBe(first);
    expect(recorded.map((e) => e.Step)).toEqual(['createSecret', 'setSecret']);
    expect((await stagesOf(name))[first]).toEqual(['AWSPENDING']);
    expect(sm.invocations.at(-1)).toMatchObject({ outcome: 'failed', errorName: 'Error' });
    // LocalStack stamps the rotation date even so.
    expect((await client.send(new DescribeSecretCommand({ SecretId: name }))).LastRotatedDate).toBeInstanceOf(Date);

    // Failing again: the call is refused, as LocalStack words it; the rerun used the first token.
    recorded.length = 0;
    const refusal = await errorOf(client.send(new RotateSecretCommand({ SecretId: name, ClientRequestToken: randomUUID() })));
    expect(refusal).toMatchObject({ name: 'InvalidRequestException', message: 'Previous rotation request is still in progress.' });
    expect(recorded.map((e) => [e.Step, e.ClientRequestToken])).toEqual([
      ['createSecret', first],
      ['setSecret', first],
    ]);

    // Passing: success, under the first token, with the function stored by the first call.
    failAt = undefined;
    const retried = await client.send(new RotateSecretCommand({ SecretId: name, ClientRequestToken: randomUUID() }));
    expect(retried.VersionId).toBe(first);
  });

  it('refuses a call without ClientRequestToken, without a function, or naming a function that is not deployed', async () => {
    const name = 'lsr/recorder/refusals';
    await secret(name);
    const raw = await fetch(sm.endpoint, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-amz-json-1.1',
        'X-Amz-Target': 'secretsmanager.RotateSecret',
        'X-Amz-Date': '20260101T000000Z',
        Authorization: 'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host, Signature=0',
      },
      body: JSON.stringify({ SecretId: name, RotationLambdaARN: recorder }),
    });
    expect(raw.status).toBe(400);
    expect(await raw.json()).toMatchObject({
      __type: 'InvalidRequestException',
      message: 'You must provide a ClientRequestToken value. We recommend a UUID-type value.',
    });
    expect(await errorOf(client.send(new RotateSecretCommand({ SecretId: name })))).toMatchObject({
      name: 'InvalidRequestException',
      message: 'No Lambda rotation function ARN is associated with this secret.',
    });
    expect(await errorOf(client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: 'lsr-not-deployed' })))).toMatchObject({
      name: 'ResourceNotFoundException',
      message: 'Lambda does not exist or could not be accessed',
    });
    expect(recorded).toEqual([]);
  });
});

describe("the repo's rotation handlers under LocalStack's rotation", () => {
  const users: Array<PostgresFixtureUser | MysqlFixtureUser> = [];
  const pgFunction = (): string => rotationFunctionArn('postgres', 'single-user', sm.region, sm.accountId);

  afterAll(async () => {
    for (const u of users) await u.drop();
  });

  const currentValue = async (secretId: string): Promise<{ username: string; password: string }> =>
    JSON.parse((await client.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString!) as {
      username: string;
      password: string;
    };

  it('postgres single-user: rotates twice, the event naming the secret; AWSPENDING stays on each finished version', async () => {
    const user = await createPostgresUser({ username: fixtureUsername('lsr') });
    users.push(user);
    const name = `lsr/${user.username}/pg`;
    const login = { username: user.username, password: user.password, database: user.database };
    await client.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: demoSecretString({ engine: 'postgres', host: user.host, port: user.port, login }),
      }),
    );
    const before = sm.invocations.length;
    for (const _ of [1, 2]) {
      const token = randomUUID();
      await client.send(
        new RotateSecretCommand({
          SecretId: name,
          ClientRequestToken: token,
          RotationLambdaARN: pgFunction(),
          RotationRules: { AutomaticallyAfterDays: 30 },
        }),
      );
      // LocalStack does not clean up: AWSPENDING stays beside AWSCURRENT on the new version.
      expect((await stagesOf(name))[token]).toEqual(['AWSPENDING', 'AWSCURRENT']);
      const now = await currentValue(name);
      expect(now.password).not.toBe(user.password);
      expect(await canLoginPostgres(user.username, now.password, process.env, user.database)).toBe(true);
    }
    const runs = sm.invocations.slice(before);
    expect(runs.map((r) => r.outcome)).toEqual(Array(8).fill('succeeded'));
    expect(new Set(runs.map((r) => r.event.SecretId))).toEqual(new Set([name]));
  });

  it('mysql single-user: rotates without RotationRules (LocalStack then leaves RotationEnabled out)', async () => {
    const user = await createMysqlUser({ username: fixtureUsername('lsr') });
    users.push(user);
    const name = `lsr/${user.username}/my`;
    const login = { username: user.username, password: user.password, database: user.database };
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: demoSecretString({ engine: 'mysql', host: user.host, port: user.port, login }) }),
    );
    const token = randomUUID();
    await client.send(
      new RotateSecretCommand({
        SecretId: name,
        ClientRequestToken: token,
        RotationLambdaARN: rotationFunctionArn('mysql', 'single-user', sm.region, sm.accountId),
      }),
    );
    const description = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(description.RotationEnabled).toBeUndefined();
    expect(description.VersionIdsToStages?.[token]).toContain('AWSCURRENT');
    expect(await canLoginMysql(user.username, (await currentValue(name)).password)).toBe(true);
  });

  it('postgres alternating-users: the master named by its secret NAME; two rotations alternate the users', async () => {
    const user = await createPostgresUser({ username: fixtureUsername('lsr') });
    users.push(user);
    const adminSettings = postgresAdminSettings();
    const masterName = `lsr/${user.username}/master`;
    await client.send(
      new CreateSecretCommand({
        Name: masterName,
        SecretString: demoSecretString({
          engine: 'postgres',
          host: adminSettings.host,
          port: adminSettings.port,
          // The superuser logs in without a password on loopback here; the secret needs a non-empty one.
          login: { username: adminSettings.user, password: adminSettings.password || 'trusted-on-loopback' },
        }),
      }),
    );
    const name = `lsr/${user.username}/alt`;
    const login = { username: user.username, password: user.password, database: user.database };
    await client.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: demoSecretString({ engine: 'postgres', host: user.host, port: user.port, login, masterarn: masterName }),
      }),
    );
    const seen: string[] = [];
    for (const _ of [1, 2]) {
      const token = randomUUID();
      await client.send(
        new RotateSecretCommand({
          SecretId: name,
          ClientRequestToken: token,
          RotationLambdaARN: rotationFunctionArn('postgres', 'alternating-users', sm.region, sm.accountId),
          RotationRules: { AutomaticallyAfterDays: 30 },
        }),
      );
      expect(sm.invocations.slice(-4).map((r) => [r.event.Step, r.outcome])).toEqual([
        ['createSecret', 'succeeded'],
        ['setSecret', 'succeeded'],
        ['testSecret', 'succeeded'],
        ['finishSecret', 'succeeded'],
      ]);
      expect((await stagesOf(name))[token]).toEqual(['AWSPENDING', 'AWSCURRENT']);
      const now = await currentValue(name);
      seen.push(now.username);
      expect(await canLoginPostgres(now.username, now.password, process.env, user.database)).toBe(true);
    }
    expect(seen).toEqual([`${user.username}_clone`, user.username]);
  });

  it('postgres: a rotation that failed at setSecret is finished by the next RotateSecret, under its own token', async () => {
    const user = await createPostgresUser({ username: fixtureUsername('lsr') });
    users.push(user);
    const name = `lsr/${user.username}/retry`;
    // The secret's password is not the user's: setSecret cannot log in and fails.
    const wrong = `lsr-${randomUUID()}`;
    const login = { username: user.username, password: wrong, database: user.database };
    await client.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: demoSecretString({ engine: 'postgres', host: user.host, port: user.port, login }),
      }),
    );
    const first = randomUUID();
    const out = await client.send(
      new RotateSecretCommand({
        SecretId: name,
        ClientRequestToken: first,
        RotationLambdaARN: pgFunction(),
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );
    expect(out.VersionId).toBe(first);
    expect(sm.invocations.slice(-2).map((r) => [r.event.Step, r.outcome])).toEqual([
      ['createSecret', 'succeeded'],
      ['setSecret', 'failed'],
    ]);
    // createSecret filled LocalStack's valueless AWSPENDING version.
    const pending = await client.send(new GetSecretValueCommand({ SecretId: name, VersionId: first, VersionStage: 'AWSPENDING' }));
    expect(JSON.parse(pending.SecretString!)).toMatchObject({ username: user.username });

    // The DBA puts the secret's password on the account; the next call re-runs the first rotation.
    const admin = await connectPostgresAdmin();
    try {
      await admin.query(`ALTER ROLE "${user.username}" PASSWORD '${wrong}'`);
    } finally {
      await admin.end();
    }
    const retried = await client.send(new RotateSecretCommand({ SecretId: name, ClientRequestToken: randomUUID() }));
    expect(retried.VersionId).toBe(first);
    expect((await stagesOf(name))[first]).toEqual(['AWSPENDING', 'AWSCURRENT']);
    const now = await currentValue(name);
    expect(now.password).toBe(JSON.parse(pending.SecretString!).password);
    expect(await canLoginPostgres(user.username, now.password, process.env, user.database)).toBe(true);
  });
});

describe('rotate:local (LOCALSTACK_URL) on a secret with an unfinished rotation, under LocalStack', () => {
  const users: PostgresFixtureUser[] = [];
  let standIn: LocalStackStandIn;

  beforeAll(async () => {
    const functions = Object.fromEntries(
      selectScenarios().map((s) => [
        rotationFunctionName(s.engine, s.strategy),
        rotationFunctionArn(s.engine, s.strategy, sm.region, sm.accountId),
      ]),
    );
    standIn = await startLocalStackStandIn({ secretsManager: sm.endpoint, functions });
  });

  afterAll(async () => {
    await standIn.close();
    for (const u of users) await u.drop();
  });

  /** A postgres secret whose first rotation failed at setSecret (its password is not the user's). */
  async function stuckSecret(suffix: string): Promise<{ user: PostgresFixtureUser; name: string; wrong: string; stuck: string }> {
    const user = await createPostgresUser({ username: fixtureUsername('lsr') });
    users.push(user);
    const name = `lsr/${user.username}/${suffix}`;
    const wrong = `lsr-${randomUUID()}`;
    const login = { username: user.username, password: wrong, database: user.database };
    await client.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: demoSecretString({ engine: 'postgres', host: user.host, port: user.port, login }),
      }),
    );
    const stuck = randomUUID();
    await client.send(
      new RotateSecretCommand({
        SecretId: name,
        ClientRequestToken: stuck,
        RotationLambdaARN: rotationFunctionArn('postgres', 'single-user', sm.region, sm.accountId),
      }),
    );
    expect((await stagesOf(name))[stuck]).toEqual(['AWSPENDING']);
    return { user, name, wrong, stuck };
  }

  async function run(name: string): Promise<{ code: number; report: RotateLocalReport; text: string }> {
    const out: string[] = [];
    const err: string[] = [];
    const io: CliIo = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: { ...process.env, LOCALSTACK_URL: standIn.url } };
    const code = await runRotateLocalCli(['--secret-id', name, '--strategy', 'single-user', '--skip-setup', '--json'], io);
    return { code, report: JSON.parse(out[0]!) as RotateLocalReport, text: [...out, ...err].join('\n') };
  }

  it('LocalStack finishes the unfinished rotation instead: that version is verified, and the run says so', async () => {
    const { user, name, wrong, stuck } = await stuckSecret('resumed');
    // The account now has the secret's password: the re-run rotation can complete.
    const admin = await connectPostgresAdmin();
    try {
      await admin.query(`ALTER ROLE "${user.username}" PASSWORD '${wrong}'`);
    } finally {
      await admin.end();
    }
    const { code, report, text } = await run(name);
    const rotation = report.scenarios[0]!.rotations[0]!;
    expect(rotation).toMatchObject({ outcome: 'succeeded', versionId: stuck, resumed: { versionId: stuck } });
    expect(rotation.checks.every((c) => c.ok)).toBe(true);
    expect(code).toBe(0);
    expect(text).toContain(`finished the earlier unfinished rotation of version ${stuck}`);
    expect(text).not.toContain(wrong);
  });

  it('LocalStack refuses once the re-run fails again: the line says an earlier rotation is unfinished', async () => {
    const { name, wrong } = await stuckSecret('refused');
    const { code, report, text } = await run(name);
    expect(code).toBe(1);
    expect(report.scenarios[0]!.rotations[0]!.error).toContain(
      `RotateSecret: ${standIn.url} refused to start a rotation of ${name}: an earlier rotation is unfinished`,
    );
    expect(text).toContain(`npm run rotation:status -- --secret-id ${name} --endpoint ${standIn.url}`);
    expect(text).not.toContain(wrong);
  });
});
