/**
 * `rotate:local` against emulators that are not the embedded endpoint, as a user runs it (a separate
 * process, every TCP connection recorded): a loopback stand-in that answers as LocalStack or moto does
 * (health check, Lambda GetFunction) and forwards Secrets Manager calls to an endpoint this test owns,
 * whose rotation functions are the repo's handlers. Proves that the Secrets Manager and Lambda calls go
 * to the given URL; that a missing function is named, with how to deploy it, before anything is
 * written; and that, when the functions are there, the emulator's own RotateSecret drives the rotation
 * under the ARN the emulator reports, verified from outside. For LOCALSTACK_URL that emulator rotates as
 * LocalStack's Secrets Manager does (test/support/localstack-secrets-manager.ts: the event names the
 * secret, AWSPENDING stays on the finished version). Users, secrets: lstack_ names (lsr_ in the
 * LocalStack rotation case), dropped after.
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  createMysqlUser,
  createPostgresUser,
  fixtureUsername,
  type MysqlFixtureUser,
  type PostgresFixtureUser,
} from '../../local/fixtures';
import { registerRepoRotationHandlers } from '../../local/repo-handlers';
import { AUTH_TOKEN_HINT } from '../../local/rotate-local/localstack';
import { demoSecretString } from '../../local/rotate-local/seed-secret';
import { rotationFunctionArn, rotationFunctionName, selectScenarios } from '../../local/rotate-local/scenarios';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../emulator';
import { postgresAdminSettings, mysqlAdminSettings } from '../../local/db-settings';
import { silentLogger } from '../../shared/rotation/logger';
import { runGuarded, type GuardedResult } from '../support/guarded-command';
import { startLocalStackSecretsManager, type LocalStackSecretsManager } from '../support/localstack-secrets-manager';
import { startLocalStackStandIn, type LocalStackStandIn } from '../support/localstack-stand-in';

/** moto's default account: an emulator whose functions do not live in LocalStack's 000000000000. */
const MOTO_ACCOUNT = '123456789012';

const rotateLocal = (args: readonly string[], env: Record<string, string | undefined>): Promise<GuardedResult> =>
  runGuarded('npx', ['tsx', 'bin/rotate-local.ts', ...args], env);

/** An emulator standing behind a stand-in: its own Secrets Manager (with the repo's handlers) and account. */
interface Emulator {
  readonly endpoint: LocalSecretsManager;
  readonly client: SecretsManagerClient;
}

async function startEmulator(accountId: string): Promise<Emulator> {
  const endpoint = await startLocalSecretsManager({ accountId, log: () => undefined });
  registerRepoRotationHandlers(endpoint, { logger: silentLogger });
  const client = new SecretsManagerClient({
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return { endpoint, client };
}

async function seedSecret(
  client: SecretsManagerClient,
  name: string,
  user: PostgresFixtureUser | MysqlFixtureUser,
  engine: 'postgres' | 'mysql',
): Promise<void> {
  await client.send(
    new CreateSecretCommand({
      Name: name,
      SecretString: demoSecretString({
        engine,
        host: user.host,
        port: user.port,
        login: { username: user.username, password: user.password, database: user.database },
      }),
    }),
  );
}

/** Only the stand-in and the two database servers: nothing else was contacted. */
function expectOnlyStandInAndDatabases(result: GuardedResult, standIn: LocalStackStandIn): void {
  const allowed = new Set([
    Number(new URL(standIn.url).port),
    postgresAdminSettings(process.env).port,
    mysqlAdminSettings(process.env).port,
  ]);
  expect(result.connections.filter((c) => !allowed.has(c.port))).toEqual([]);
  expect(result.connections.some((c) => c.port === Number(new URL(standIn.url).port))).toBe(true);
}

const FUNCTION_NAMES = selectScenarios().map((s) => rotationFunctionName(s.engine, s.strategy));

describe('rotate:local against an emulator without the rotation functions', () => {
  let emulator: Emulator;
  let standIn: LocalStackStandIn;
  const secretName = `lstack/${fixtureUsername('lstack')}/pg`;

  beforeAll(async () => {
    emulator = await startEmulator('000000000000');
    standIn = await startLocalStackStandIn({ secretsManager: emulator.endpoint.endpoint });
    // A secret that names no real user: the run must stop before it would rotate anything.
    await emulator.client.send(
      new CreateSecretCommand({
        Name: secretName,
        SecretString: demoSecretString({
          engine: 'postgres',
          host: '127.0.0.1',
          port: 5432,
          login: { username: 'lstack_nobody', password: 'lstack-not-a-password' },
        }),
      }),
    );
  });

  afterAll(async () => {
    await standIn.close();
    emulator.client.destroy();
    await emulator.endpoint.close();
  });

  it('LOCALSTACK_URL: reads the secret and asks for the function at that URL, then says to run localstack:deploy', async () => {
    standIn.requests.length = 0;
    const result = await rotateLocal(['--secret-id', secretName, '--strategy', 'single-user'], { LOCALSTACK_URL: standIn.url });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      `${standIn.url} has no Lambda function postgres-single-user-rotation: deploy the rotation functions into LocalStack with \`npm run localstack:deploy\``,
    );
    expect(result.stdout).not.toMatch(/secret or version not found/);
    const calls = standIn.requests.map((r) => `${r.service} ${r.action}`);
    expect(calls).toEqual(expect.arrayContaining(['secretsmanager GetSecretValue', 'secretsmanager DescribeSecret', 'lambda GetFunction']));
    expect(calls).not.toContain('secretsmanager RotateSecret');
    expect(emulator.endpoint.rotationHistory(secretName)).toEqual([]);
    expectOnlyStandInAndDatabases(result, standIn);
  }, 120_000);

  it('LOCALSTACK_URL where nothing answers: says how to start it and where a token comes from, and stops', async () => {
    const gone = await startLocalStackStandIn();
    await gone.close();
    const result = await rotateLocal(['--engine', 'postgres', '--strategy', 'single-user'], { LOCALSTACK_URL: gone.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `rotate:local: LocalStack does not answer at ${gone.url} (/_localstack/health): start it with \`docker compose up -d --wait\``,
    );
    expect(result.stderr).toContain(`rotate:local: ${AUTH_TOKEN_HINT}`);
    expect(result.stdout).toMatch(/^postgres\s+single-user\s+FAILED/m);
    expect(result.stderr).not.toMatch(/preparing demo user/);
  }, 120_000);

  it('--endpoint (a foreign emulator): names the functions it needs, before any user or secret is made', async () => {
    standIn.requests.length = 0;
    const result = await rotateLocal(['--endpoint', standIn.url, '--engine', 'postgres'], {});
    expect(result.code).toBe(1);
    for (const name of ['postgres-single-user-rotation', 'postgres-alternating-users-rotation']) {
      expect(result.stdout).toContain(
        `${standIn.url} has no Lambda function ${name}: rotate:local drives that emulator's own RotateSecret`,
      );
    }
    for (const name of FUNCTION_NAMES) expect(result.stdout).toContain(name);
    expect(result.stdout).toContain('npm run local:endpoint');
    // Asked the Lambda API, and wrote nothing: no Secrets Manager call at all.
    expect(standIn.requests.map((r) => `${r.service} ${r.action}`)).toEqual(['lambda GetFunction', 'lambda GetFunction']);
    expectOnlyStandInAndDatabases(result, standIn);
  }, 120_000);
});

describe('rotate:local through an emulator that has the functions', () => {
  const users: Array<PostgresFixtureUser | MysqlFixtureUser> = [];
  const emulators: Emulator[] = [];
  const standIns: LocalStackStandIn[] = [];
  const localStacks: LocalStackSecretsManager[] = [];

  afterAll(async () => {
    for (const s of standIns) await s.close();
    for (const l of localStacks) await l.close();
    for (const e of emulators) {
      e.client.destroy();
      await e.endpoint.close();
    }
    for (const u of users) await u.drop();
  });

  async function setUp(accountId: string): Promise<{ emulator: Emulator; standIn: LocalStackStandIn }> {
    const emulator = await startEmulator(accountId);
    emulators.push(emulator);
    const functions = Object.fromEntries(
      selectScenarios().map((s) => [
        rotationFunctionName(s.engine, s.strategy),
        rotationFunctionArn(s.engine, s.strategy, emulator.endpoint.region, accountId),
      ]),
    );
    const standIn = await startLocalStackStandIn({ secretsManager: emulator.endpoint.endpoint, functions });
    standIns.push(standIn);
    return { emulator, standIn };
  }

  it("--endpoint (moto's account): rotates through the emulator's RotateSecret under the ARN it reports, verified from outside", async () => {
    const { emulator, standIn } = await setUp(MOTO_ACCOUNT);
    const user = await createPostgresUser({ username: fixtureUsername('lstack') });
    users.push(user);
    const secretName = `lstack/${user.username}/pg`;
    await seedSecret(emulator.client, secretName, user, 'postgres');

    const result = await rotateLocal(['--endpoint', standIn.url, '--secret-id', secretName, '--strategy', 'single-user', '--json'], {});
    expect(result.stderr).not.toMatch(/not found/);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      scenarios: Array<{ functionArn: string; rotations: Array<{ checks: Array<{ name: string; ok: boolean }> }> }>;
    };
    expect(report.ok).toBe(true);
    const arn = `arn:aws:lambda:us-east-1:${MOTO_ACCOUNT}:function:postgres-single-user-rotation`;
    expect(report.scenarios[0]!.functionArn).toBe(arn);
    // Checked from outside: the new password logs in, the old one no longer does.
    const checks = report.scenarios[0]!.rotations[0]!.checks;
    expect(checks.find((c) => c.name === 'the AWSCURRENT login works')?.ok).toBe(true);
    expect(checks.find((c) => c.name === 'the replaced password no longer logs in')?.ok).toBe(true);
    // The emulator itself ran the rotation, through the function named by its own ARN.
    const history = emulator.endpoint.rotationHistory(secretName);
    expect(history.map((h) => [h.lambdaArn, h.outcome])).toEqual([[arn, 'succeeded']]);
    const calls = standIn.requests.map((r) => `${r.service} ${r.action}`);
    expect(calls).toEqual(expect.arrayContaining(['lambda GetFunction', 'secretsmanager RotateSecret', 'secretsmanager GetSecretValue']));
    expect(result.stdout.includes(user.password) || result.stderr.includes(user.password)).toBe(false);
    expectOnlyStandInAndDatabases(result, standIn);
  }, 180_000);

  it("LOCALSTACK_URL: the calls go to that URL; LocalStack's own rotation (event by name, no cleanup) is verified from outside", async () => {
    // Behind the stand-in, a Secrets Manager that rotates as LocalStack's does (see its module).
    const localstack: LocalStackSecretsManager = await startLocalStackSecretsManager();
    localStacks.push(localstack);
    registerRepoRotationHandlers(localstack, { logger: silentLogger });
    const functions = Object.fromEntries(
      selectScenarios().map((s) => [
        rotationFunctionName(s.engine, s.strategy),
        rotationFunctionArn(s.engine, s.strategy, localstack.region, localstack.accountId),
      ]),
    );
    const standIn = await startLocalStackStandIn({ secretsManager: localstack.endpoint, functions });
    standIns.push(standIn);
    const client = new SecretsManagerClient({
      endpoint: localstack.endpoint,
      region: localstack.region,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    const user = await createMysqlUser({ username: fixtureUsername('lsr') });
    users.push(user);
    const secretName = `lsr/${user.username}/my`;
    await seedSecret(client, secretName, user, 'mysql');
    client.destroy();

    const result = await rotateLocal(['--secret-id', secretName, '--strategy', 'single-user', '--rotations', '2'], {
      LOCALSTACK_URL: standIn.url,
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`rotate:local: target: LocalStack ${standIn.url}`);
    expect(result.stdout).toMatch(/^mysql\s+single-user\s+ok\s+2\/2/m);
    // Two rotations, four steps each, every event naming the secret by name, every step passed.
    const runs = localstack.invocations.filter((i) => i.event.SecretId === secretName);
    expect(runs.map((i) => i.outcome)).toEqual(Array(8).fill('succeeded'));
    expect(localstack.invocations.every((i) => i.event.SecretId === secretName)).toBe(true);
    const services = new Set(standIn.requests.map((r) => r.service));
    expect([...services].sort()).toEqual(['lambda', 'secretsmanager']);
    expect(standIn.requests.every((r) => r.accessKeyId === 'test')).toBe(true);
    expectOnlyStandInAndDatabases(result, standIn);
  }, 180_000);
});
