/**
 * rotation:status and rotation:repair against secrets left stuck on purpose on an endpoint this test
 * started: one after CancelRotateSecret (rotation off, stray AWSPENDING), one after a rotation whose
 * setSecret failed (rotation on, stray AWSPENDING), rotating a real PostgreSQL user.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { canLoginPostgres } from '../../local/admin-connections';
import { createPostgresUser, type PostgresFixtureUser } from '../../local/fixtures';
import type { CliIo } from '../../operator/cli-io';
import { runRotationRepairCli, runRotationStatusCli } from '../../operator/operator-cli';
import type { RotationStatus, RotationStatusDocument } from '../../operator/rotation-status';
import { registerRepoRotationHandlers, repoRotationFunctionArn } from '../../local/repo-handlers';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../emulator';
import { noteSensitive } from '../../local/sensitive-values';
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import { silentLogger } from '../../shared/rotation/logger';
import { runBin } from '../support/spawn-command';

let endpoint: LocalSecretsManager;
let client: SecretsManagerClient;
const FLAKY_ARN = 'arn:aws:lambda:us-east-1:000000000000:function:flaky-postgres-rotation';

beforeAll(async () => {
  endpoint = await startLocalSecretsManager({ log: () => undefined });
  registerRepoRotationHandlers(endpoint, { logger: silentLogger });
  client = new SecretsManagerClient({
    endpoint: endpoint.endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client.destroy();
  await endpoint.close();
});

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: { ...process.env, SECRETS_MANAGER_ENDPOINT: endpoint.endpoint },
  };
}

/** A secret for a fresh fixture user of its own: each scenario rotates its user's password. */
async function createUserSecret(name: string, user: PostgresFixtureUser): Promise<string> {
  const value = JSON.stringify({
    engine: 'postgres',
    host: user.host,
    port: user.port,
    username: user.username,
    password: user.password,
    dbname: user.database,
    ssl: false,
  });
  const out = await client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  return out.ARN!;
}

async function stages(secretId: string): Promise<Record<string, string[]>> {
  return (await client.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
}

const currentVersion = (map: Record<string, string[]>): string | undefined =>
  Object.entries(map).find(([, s]) => s.includes('AWSCURRENT'))?.[0];

describe('--json when the command fails: one document on stdout, so `| jq -e .complete` cannot read an empty input as success', () => {
  it.each([
    [
      'rotation:status, a secret that does not exist',
      runRotationStatusCli,
      ['--secret-id', 'operator-test/absent', '--json'],
      1,
      { complete: false },
    ],
    ['rotation:status, no --secret-id', runRotationStatusCli, ['--json'], 2, { complete: false }],
    [
      'rotation:repair, a secret that does not exist',
      runRotationRepairCli,
      ['--secret-id', 'operator-test/absent', '--yes', '--json'],
      1,
      { applied: false, resolved: false, verified: false },
    ],
    [
      'rotation:status, an --endpoint that is not an http(s) URL (named as the flag, not as SECRETS_MANAGER_ENDPOINT)',
      runRotationStatusCli,
      ['--secret-id', 'x', '--endpoint', 'ftp://h', '--json'],
      2,
      { error: '--endpoint must be http:// or https://', complete: false },
    ],
    ['rotation:repair, a bad --action', runRotationRepairCli, ['--secret-id', 'x', '--action', 'undo', '--json'], 2, { resolved: false }],
  ] as const)('%s', async (_name, command, argv, code, verdict) => {
    const cli = io();
    expect(await command(argv, cli)).toBe(code);
    expect(cli.out).toHaveLength(1);
    const document = JSON.parse(cli.out[0]!) as { error: string };
    expect(document).toMatchObject(verdict);
    expect(cli.err[0]).toContain(document.error);
  });

  it('an endpoint that is down (as a process): the document says what stderr says, and the exit status is 1', async () => {
    const argv = ['--secret-id', 'operator-test/absent', '--json', '--endpoint', 'http://127.0.0.1:9'];
    const result = await runBin('rotation-status.ts', argv, { AWS_REGION: 'us-east-1' });
    expect(result.code).toBe(1);
    const document = JSON.parse(result.stdout) as { error: string };
    expect(document).toEqual({ error: expect.stringContaining('cannot reach Secrets Manager (ECONNREFUSED)'), complete: false });
    expect(document.error).toContain('(endpoint http://127.0.0.1:9)');
    expect(result.stderr).toContain(document.error);
  });
});

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
      new PutSecretValueCommand({
        SecretId: name,
        ClientRequestToken: strayVersion,
        SecretString: '{"never":"used"}',
        VersionStages: ['AWSPENDING'],
      }),
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
    const status = JSON.parse(json.stdout) as RotationStatusDocument;
    expect(status).toMatchObject({
      name,
      rotation: { enabled: false, lambdaArn: repoRotationFunctionArn('postgres', 'single-user') },
      stuck: { pendingVersionId: strayVersion, currentVersionId: current },
      complete: false,
    });
    // Only the SDK's notice could reach stderr on a successful run: the commands opt out of it.
    expect(json.stderr).not.toMatch(/NodeVersionSupportWarning/);
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
    // The fixture user's password is AWSCURRENT's: the command proves it by a login, and says which version.
    expect(result.stdout).toContain(
      `verified: AWSCURRENT is on exactly one version, ${current}, and its credentials log in at ${user.host}:${user.port}`,
    );
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
    expect(JSON.parse(status.out[0]!)).toMatchObject({ stuck: null, complete: true });
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
    expect(text).toContain(
      `repaired: no stray AWSPENDING is left; AWSCURRENT is on ${stuck} (the stuck rotation was resumed with its own token)`,
    );
    expect(text).toContain(`verified: AWSCURRENT is on exactly one version, ${stuck}, and its credentials log in`);
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

  it('a second failed attempt resumes the fallback and makes no further version', async () => {
    const versionsBefore = await versionCount(name);
    const pending = Object.entries(await stages(name)).find(([, s]) => s.includes('AWSPENDING'))?.[0];
    const cli = io();
    expect(await runRotationRepairCli(['--secret-id', name, '--yes'], cli)).toBe(1);
    expect(await versionCount(name)).toBe(versionsBefore);
    expect(cli.out.join('\n')).toContain(`that version is already the fresh rotation an earlier rotation:repair started`);
    expect(cli.out.join('\n')).not.toMatch(/^repaired/m);
    expect(endpoint.rotationHistory(name).at(-1)).toMatchObject({ token: pending, outcome: 'failed' });
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

describe('verification before "repaired"', () => {
  it('--labels-only says it checked labels only, naming the version', async () => {
    const user = await createPostgresUser();
    try {
      const name = `operator-test/labels-${randomUUID().slice(0, 8)}`;
      await createUserSecret(name, user);
      await client.send(
        new PutSecretValueCommand({
          SecretId: name,
          ClientRequestToken: randomUUID(),
          SecretString: '{"never":"used"}',
          VersionStages: ['AWSPENDING'],
        }),
      );
      const current = currentVersion(await stages(name))!;
      const cli = io();
      expect(await runRotationRepairCli(['--secret-id', name, '--yes', '--labels-only'], cli)).toBe(0);
      expect(cli.out.join('\n')).toContain(
        `checked labels only: AWSCURRENT is on exactly one version, ${current}; no login tried (--labels-only)`,
      );
    } finally {
      await user.drop();
    }
  });

  it('exits 1 when the version left AWSCURRENT does not log in', async () => {
    const user = await createPostgresUser();
    try {
      const name = `operator-test/wrong-${randomUUID().slice(0, 8)}`;
      await createUserSecret(name, user);
      // AWSCURRENT now holds a password the database never had; the stray AWSPENDING is what gets repaired.
      const wrong = JSON.stringify({
        engine: 'postgres',
        host: user.host,
        port: user.port,
        username: user.username,
        password: `${user.password}-not`,
        dbname: user.database,
        ssl: false,
      });
      noteSensitive(`${user.password}-not`);
      await client.send(new PutSecretValueCommand({ SecretId: name, SecretString: wrong }));
      await client.send(
        new PutSecretValueCommand({
          SecretId: name,
          ClientRequestToken: randomUUID(),
          SecretString: '{"never":"used"}',
          VersionStages: ['AWSPENDING'],
        }),
      );
      const current = currentVersion(await stages(name))!;
      const cli = io();
      expect(await runRotationRepairCli(['--secret-id', name, '--yes'], cli)).toBe(1);
      expect(cli.out.join('\n')).toContain(
        `not repaired: AWSCURRENT is on exactly one version, ${current}, but its credentials do NOT log in at ${user.host}:${user.port}`,
      );
    } finally {
      await user.drop();
    }
  });

  it('against an emulator that leaves AWSCURRENT on two versions, never says "repaired" and exits 1', async () => {
    const user = await createPostgresUser();
    const stray = randomUUID();
    const proxy = await labelBreakingProxy(endpoint.endpoint, () => stray);
    try {
      const name = `operator-test/broken-labels-${randomUUID().slice(0, 8)}`;
      await createUserSecret(name, user);
      await client.send(
        new PutSecretValueCommand({ SecretId: name, ClientRequestToken: stray, SecretString: '{"x":1}', VersionStages: ['AWSPENDING'] }),
      );
      const cli = { ...io(), env: { ...process.env, SECRETS_MANAGER_ENDPOINT: proxy.url } };
      expect(await runRotationRepairCli(['--secret-id', name, '--yes', '--action', 'remove-pending'], cli)).toBe(1);
      const text = cli.out.join('\n');
      expect(text).toMatch(/not repaired: the labels are not sound afterwards: AWSCURRENT is on 2 versions/);
      expect(text).not.toMatch(/^repaired/m);
      proxy.breakLabels = false;
      const status = io();
      await runRotationStatusCli(['--secret-id', name, '--json', '--endpoint', proxy.url], status);
      expect(JSON.parse(status.out[0]!)).toMatchObject({ stuck: null, complete: true });
    } finally {
      await proxy.close();
      await user.drop();
    }
  });
});

async function versionCount(secretId: string): Promise<number> {
  const out = await client.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }));
  return out.Versions?.length ?? 0;
}

/**
 * An emulator with broken label bookkeeping: a proxy in front of the endpoint whose DescribeSecret
 * answers, once a label was changed through it, show AWSCURRENT on one more version than it is on.
 */
async function labelBreakingProxy(
  target: string,
  wronglyCurrent: () => string,
): Promise<{ url: string; breakLabels: boolean; close(): Promise<void> }> {
  // Honest until the repair changes a label; from then on its answers are wrong.
  const state = { breakLabels: true, changed: false };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const action = String(req.headers['x-amz-target']);
      if (action.endsWith('.UpdateSecretVersionStage') || action.endsWith('.RotateSecret')) state.changed = true;
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host' && k !== 'content-length')) as Record<
        string,
        string
      >;
      void fetch(`${target}${req.url ?? '/'}`, { method: req.method, headers, body: body.length ? body : undefined }).then(
        async (answer) => {
          let text = await answer.text();
          if (state.breakLabels && state.changed && action.endsWith('.DescribeSecret') && answer.ok) {
            const doc = JSON.parse(text) as { VersionIdsToStages?: Record<string, string[]> };
            const map = doc.VersionIdsToStages ?? {};
            const extra = wronglyCurrent();
            map[extra] = [...(map[extra] ?? []), 'AWSCURRENT'];
            doc.VersionIdsToStages = map;
            text = JSON.stringify(doc);
          }
          res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/x-amz-json-1.1' });
          res.end(text);
        },
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const proxy = {
    url: `http://127.0.0.1:${port}`,
    get breakLabels() {
      return state.breakLabels;
    },
    set breakLabels(value: boolean) {
      state.breakLabels = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return proxy;
}

/** The repo's single-user PostgreSQL handler, talking to this test's endpoint. */
function singleUserHandler() {
  return createRotationHandler({ engine: postgresEngine, strategy: 'single-user', secretsClient: client, logger: silentLogger });
}
