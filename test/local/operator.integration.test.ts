/**
 * rotation:status and rotation:repair against secrets left stuck on purpose on an endpoint this test
 * started: one after CancelRotateSecret (rotation off, stray AWSPENDING), one after a rotation whose
 * setSecret failed (rotation on, stray AWSPENDING), rotating a real PostgreSQL user.
 */
import { randomUUID } from 'node:crypto';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { canLoginPostgres } from '../../local/admin-connections';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures';
import type { CliIo } from '../../local/operator/cli-io';
import { runRotationRepairCli, runRotationStatusCli } from '../../local/operator/operator-cli';
import type { RotationStatus } from '../../local/operator/rotation-status';
import { registerRepoRotationHandlers, repoRotationFunctionArn } from '../../local/repo-handlers';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../local/secrets-manager';
import { noteSensitive } from '../../local/sensitive-values';
import { postgresStrategy } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { silentLogger } from '../../shared/rotation/logger';
import { runBin } from './spawn-command';

let endpoint: LocalSecretsManager;
let client: SecretsManagerClient;
const FLAKY_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:flaky-postgres-rotation';

beforeAll(async () => {
  endpoint = await startLocalSecretsManager({ log: () => undefined });
  registerRepoRotationHandlers(endpoint, { logger: silentLogger });
  client = new SecretsManagerClient({ endpoint: endpoint.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});

afterAll(async () => {
  client.destroy();
  await endpoint.close();
});

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: { ...process.env, SECRETS_MANAGER_ENDPOINT: endpoint.endpoint } };
}

/** A secret for a fresh fixture user of its own: each scenario rotates its user's password. */
async function createUserSecret(name: string, user: PostgresFixtureUser): Promise<string> {
  const value = JSON.stringify({ engine: 'postgres', host: user.host, port: user.port, username: user.username, password: user.password, dbname: user.database, ssl: false });
  const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return out.ARN!;
}

async function stages(secretId: string): Promise<Record<string, string[]>> {
  return (await client.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
}

const currentVersion = (map: Record<string, string[]>): string | undefined =>
  Object.entries(map).find(([, s]) => s.includes('AWSCURRENT'))?.[0];

describe('a rotation cancelled half-way (rotation off, stray AWSPENDING)', () => {
  const name = `operator-test/cancelled-${randomUUID().slice(0, 8)}`;
  let strayVersion: string;
  let current: string;
  let user: PostgresFixtureUser;

  beforeAll(async () => {
    user = await createPostgresUser();
    await createUserSecret(name, user);
    await client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: repoRotationFunctionArn('postgres', 'single-user') }));
    // What an interrupted rotation leaves: a pending version nobody will finish, then CancelRotateSecret.
    strayVersion = randomUUID();
    await client.send(
      new PutSecretValueCommand({ SecretId: name, ClientRequestToken: strayVersion, SecretString: '{"never":"used"}', VersionStages: ['AWSPENDING'] }),
    );
    await client.send(new CancelRotateSecretCommand({ SecretId: name }));
    current = currentVersion(await stages(name))!;
  });
  afterAll(() => user.drop());

  it('rotation:status (as a process) shows the stuck rotation in a table and as JSON', async () => {
    const env = { SECRETS_MANAGER_ENDPOINT: endpoint.endpoint, AWS_REGION: 'us-east-1' };
    const table = await runBin('rotation-status.ts', ['--secret-id', name], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/rotation\s+disabled/);
    expect(table.stdout).toMatch(/stuck\s+yes: AWSPENDING is on a version that is not AWSCURRENT while rotation is off/);
    expect(table.stdout).toMatch(new RegExp(`${strayVersion}\\s+AWSPENDING`));
    expect(table.stdout).toMatch(new RegExp(`${current}\\s+AWSCURRENT`));

    const json = await runBin('rotation-status.ts', ['--secret-id', name, '--json'], env);
    const status = JSON.parse(json.stdout) as RotationStatus;
    expect(status).toMatchObject({
      name,
      rotation: { enabled: false, lambdaArn: repoRotationFunctionArn('postgres', 'single-user') },
      stuck: { pendingVersionId: strayVersion, currentVersionId: current },
    });
    expect(status.lastRotatedDate).toEqual(expect.any(String));
  });

  it('rotation:repair without --yes only shows the plan and changes nothing', async () => {
    const cli = io();
    expect(await runRotationRepairCli(['--secret-id', name], cli)).toBe(0);
    const text = cli.out.join('\n');
    expect(text).toMatch(/remove-pending \(dry run: pass --yes to apply\)/);
    expect(text).toMatch(/AWSCURRENT: not touched/);
    expect((await stages(name))[strayVersion]).toEqual(['AWSPENDING']);
  });

  it('rotation:repair --yes (as a process) removes the stray label and leaves AWSCURRENT where it was', async () => {
    const result = await runBin('rotation-repair.ts', ['--secret-id', name, '--yes'], { SECRETS_MANAGER_ENDPOINT: endpoint.endpoint });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/AWSCURRENT: not touched/);
    expect(result.stdout).toMatch(new RegExp(`repaired: no stray AWSPENDING is left; AWSCURRENT is on ${current}`));
    const after = await stages(name);
    expect(currentVersion(after)).toBe(current);
    expect(Object.values(after).some((s) => s.includes('AWSPENDING'))).toBe(false);
  });

  it('then reports nothing to repair, and status no longer says stuck', async () => {
    const repair = io();
    expect(await runRotationRepairCli(['--secret-id', name, '--yes'], repair)).toBe(0);
    expect(repair.out.join('\n')).toMatch(/not stuck: nothing to repair/);
    const status = io();
    expect(await runRotationStatusCli(['--secret-id', name, '--json'], status)).toBe(0);
    expect((JSON.parse(status.out[0]!) as RotationStatus).stuck).toBeUndefined();
  });
});

describe('a rotation that failed at setSecret (rotation on, stray AWSPENDING)', () => {
  const name = `operator-test/failed-${randomUUID().slice(0, 8)}`;
  let failNext = true;
  let user: PostgresFixtureUser;

  beforeAll(async () => {
    user = await createPostgresUser();
    // It fails setSecret once, before touching the database, then behaves as the repo's handler.
    endpoint.registerRotationFunction(FLAKY_ARN, async (event) => {
      if (event.Step === 'setSecret' && failNext) {
        failNext = false;
        throw new Error('simulated outage');
      }
      return singleUserHandler()(event);
    });
    await createUserSecret(name, user);
    await client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: FLAKY_ARN }));
  });
  afterAll(() => user.drop());

  it('is stuck with rotation on; status says a rotation failed part-way', async () => {
    const cli = io();
    expect(await runRotationStatusCli(['--secret-id', name], cli)).toBe(0);
    expect(cli.out.join('\n')).toMatch(/stuck\s+yes: AWSPENDING is on a version that is not AWSCURRENT: a rotation failed part-way/);
  });

  it('rotation:repair --yes re-drives: says AWSCURRENT will move, resumes the stuck rotation, then the new password logs in and the old one does not', async () => {
    const before = await client.send(new GetSecretValueCommand({ SecretId: name }));
    const stuck = Object.entries(await stages(name)).find(([, s]) => s.includes('AWSPENDING'))?.[0];
    expect(stuck).toBeDefined();
    const cli = io();
    const code = await runRotationRepairCli(['--secret-id', name, '--yes'], cli);
    const text = cli.out.join('\n');
    expect(text).toMatch(/redrive/);
    expect(text).toMatch(/path: RESUME the stuck rotation/);
    expect(text.indexOf(`AWSCURRENT: WILL MOVE to the stuck version ${stuck}`)).toBeGreaterThanOrEqual(0);
    expect(text.indexOf('AWSCURRENT: WILL MOVE')).toBeLessThan(text.indexOf('repaired:'));
    expect(text).toContain(`repaired: no stray AWSPENDING is left; AWSCURRENT is on ${stuck} (the stuck rotation was resumed with its own token)`);
    expect(code).toBe(0);

    const after = await client.send(new GetSecretValueCommand({ SecretId: name }));
    expect(after.VersionId).toBe(stuck);
    expect(after.VersionId).not.toBe(before.VersionId);
    // One failed attempt, then its reattempt under the same token; no second version was made.
    expect(endpoint.rotationHistory(name).map((r) => [r.token, r.outcome])).toEqual([
      [stuck, 'failed'],
      [stuck, 'succeeded'],
    ]);
    const newPassword = (JSON.parse(after.SecretString!) as { password: string }).password;
    noteSensitive(newPassword);
    await expect(canLoginPostgres(user.username, newPassword, process.env, user.database)).resolves.toBe(true);
    await expect(canLoginPostgres(user.username, user.password, process.env, user.database)).resolves.toBe(false);
    expect(text).not.toContain(newPassword);
    expect(text).not.toContain(user.password);
  });
});

describe('a re-drive that fails again', () => {
  const name = `operator-test/broken-${randomUUID().slice(0, 8)}`;
  const BROKEN_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:broken-rotation';
  let user: PostgresFixtureUser;

  beforeAll(async () => {
    user = await createPostgresUser();
    endpoint.registerRotationFunction(BROKEN_ARN, async (event) => {
      if (event.Step === 'setSecret') throw new Error('always down');
      return singleUserHandler()(event);
    });
    await createUserSecret(name, user);
    await client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: BROKEN_ARN }));
  });
  afterAll(() => user.drop());

  it('resumes, falls back to a new rotation, then exits 1 naming the version left pending; the old password still works', async () => {
    const stuck = Object.entries(await stages(name)).find(([, s]) => s.includes('AWSPENDING'))?.[0];
    const cli = io();
    expect(await runRotationRepairCli(['--secret-id', name, '--yes'], cli)).toBe(1);
    const pending = Object.entries(await stages(name)).find(([, s]) => s.includes('AWSPENDING') && !s.includes('AWSCURRENT'))?.[0];
    expect(pending).toBeDefined();
    expect(pending).not.toBe(stuck);
    expect(cli.out.join('\n')).toContain(`not repaired: the new rotation (version ${pending}) did not finish`);
    // The stuck rotation was re-attempted under its own token before the fallback's new one.
    expect(endpoint.rotationHistory(name).map((r) => r.token)).toEqual([stuck, stuck, pending]);
    await expect(canLoginPostgres(user.username, user.password, process.env, user.database)).resolves.toBe(true);
  });
});

describe('a single-user rotation whose setSecret changed the password and then lost its answer (no masterarn)', () => {
  const name = `operator-test/lost-${randomUUID().slice(0, 8)}`;
  const LOST_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:lost-answer-rotation';
  let loseNext = true;
  let user: PostgresFixtureUser;

  beforeAll(async () => {
    user = await createPostgresUser();
    endpoint.registerRotationFunction(LOST_ARN, async (event) => {
      const result = await singleUserHandler()(event);
      if (event.Step === 'setSecret' && loseNext) {
        loseNext = false;
        throw new Error('answer lost');
      }
      return result;
    });
    await createUserSecret(name, user);
    await client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: LOST_ARN }));
  });
  afterAll(() => user.drop());

  it('rotation:repair --yes --json resumes it: the stuck version becomes AWSCURRENT and its password, already set, logs in', async () => {
    const stuck = Object.entries(await stages(name)).find(([, s]) => s.includes('AWSPENDING') && !s.includes('AWSCURRENT'))?.[0];
    expect(stuck).toBeDefined();
    const pending = await client.send(new GetSecretValueCommand({ SecretId: name, VersionId: stuck }));
    const stuckPassword = (JSON.parse(pending.SecretString!) as { password: string }).password;
    noteSensitive(stuckPassword);
    // Only the stuck version's password works now: clearing its label would lock the user out for good.
    await expect(canLoginPostgres(user.username, stuckPassword, process.env, user.database)).resolves.toBe(true);
    await expect(canLoginPostgres(user.username, user.password, process.env, user.database)).resolves.toBe(false);

    const cli = io();
    expect(await runRotationRepairCli(['--secret-id', name, '--yes', '--json'], cli)).toBe(0);
    const outcome = JSON.parse(cli.out.join('\n')) as { resolved: boolean; path: string; after: RotationStatus };
    expect(outcome).toMatchObject({ resolved: true, path: 'resumed' });
    expect(outcome.after.versions.find((v) => v.stages.includes('AWSCURRENT'))?.versionId).toBe(stuck);
    const current = await client.send(new GetSecretValueCommand({ SecretId: name }));
    expect(current.VersionId).toBe(stuck);
    await expect(canLoginPostgres(user.username, stuckPassword, process.env, user.database)).resolves.toBe(true);
    expect(cli.out.join('\n')).not.toContain(stuckPassword);
    expect(cli.err).toEqual([]);
  });
});

/** The repo's single-user PostgreSQL handler, talking to this test's endpoint. */
function singleUserHandler() {
  return createRotationHandler({ engine: postgresStrategy, strategy: 'single-user', secretsClient: client, logger: silentLogger });
}
