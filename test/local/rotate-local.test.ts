/**
 * `rotate:local` as a user runs it: a separate process, against an endpoint this test started (the
 * test can then read back every password the run produced, and the endpoint's own rotation records).
 */
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { registerRepoRotationHandlers } from '../../local/repo-handlers';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../emulator';
import { noteSensitive } from '../../local/sensitive-values';
import { silentLogger } from '../../shared/rotation/logger';
import { runBin, type CommandResult } from '../support/spawn-command';

let endpoint: LocalSecretsManager;
let client: SecretsManagerClient;
const endpointLog: string[] = [];

beforeAll(async () => {
  endpoint = await startLocalSecretsManager({ log: (line) => endpointLog.push(line) });
  registerRepoRotationHandlers(endpoint, { logger: silentLogger });
  client = new SecretsManagerClient({
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

afterAll(async () => {
  client.destroy();
  await endpoint.close();
});

/** Every password in every version of every demo secret on the endpoint (master secrets included). */
async function allDemoPasswords(): Promise<string[]> {
  const { SecretList = [] } = await client.send(new ListSecretsCommand({ MaxResults: 100 }));
  const passwords: string[] = [];
  for (const secret of SecretList.filter((s) => s.Name?.startsWith('rotation-demo/'))) {
    const { Versions = [] } = await client.send(new ListSecretVersionIdsCommand({ SecretId: secret.ARN!, IncludeDeprecated: true }));
    for (const version of Versions) {
      const value = await client.send(new GetSecretValueCommand({ SecretId: secret.ARN!, VersionId: version.VersionId! }));
      const password = (JSON.parse(value.SecretString!) as { password: string }).password;
      noteSensitive(password);
      passwords.push(password);
    }
  }
  return passwords;
}

function expectNoPassword(result: CommandResult, passwords: readonly string[]): void {
  expect(passwords.length).toBeGreaterThan(0);
  for (const password of passwords) {
    expect(result.stdout.includes(password)).toBe(false);
    expect(result.stderr.includes(password)).toBe(false);
  }
}

describe('rotate:local against a running endpoint', () => {
  let first: CommandResult;

  beforeAll(async () => {
    first = await runBin('rotate-local.ts', ['--endpoint', endpoint.endpoint]);
  });

  it('rotates all four scenarios, exits 0 and prints the table on stdout', () => {
    expect(first.code).toBe(0);
    const lines = first.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^engine\s+strategy\s+outcome\s+rotations\s+setup\s+createSecret\s+setSecret\s+testSecret\s+finishSecret/);
    for (const [engine, strategy] of [
      ['postgres', 'single-user'],
      ['postgres', 'alternating-users'],
      ['mysql', 'single-user'],
      ['mysql', 'alternating-users'],
    ]) {
      expect(first.stdout).toMatch(new RegExp(`^${engine}\\s+${strategy}\\s+ok\\s+1/1`, 'm'));
    }
    expect(first.stderr).toMatch(/rotate:local: target: endpoint/);
  });

  it('rotated through the endpoint: every run it recorded succeeded, with the four steps', () => {
    for (const name of ['postgres/single-user', 'postgres/alternating-users', 'mysql/single-user', 'mysql/alternating-users']) {
      const history = endpoint.rotationHistory(`rotation-demo/${name}`);
      expect(history).toHaveLength(1);
      expect(history[0]!.outcome).toBe('succeeded');
      expect(history[0]!.steps.map((s) => s.step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
    }
  });

  it('never prints a password: none of the real ones read back from the endpoint appears', async () => {
    expectNoPassword(first, await allDemoPasswords());
  });

  it('re-runs on the same users and secrets and answers --json with the documented shape', async () => {
    const result = await runBin('rotate-local.ts', [
      '--endpoint',
      endpoint.endpoint,
      '--engine',
      'postgres',
      '--strategy',
      'alternating-users',
      '--rotations',
      '2',
      '--json',
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(report).toEqual({
      ok: true,
      target: { kind: 'endpoint', endpoint: endpoint.endpoint },
      scenarios: [
        {
          engine: 'postgres',
          strategy: 'alternating-users',
          secretId: 'rotation-demo/postgres/alternating-users',
          functionArn: 'arn:aws:lambda:us-east-1:000000000000:function:postgres-alternating-users-rotation',
          outcome: 'succeeded',
          setupMs: expect.any(Number),
          rotations: [1, 2].map((index) => ({
            index,
            versionId: expect.stringMatching(/^[0-9a-f-]{36}$/),
            outcome: 'succeeded',
            steps: {},
            rotateMs: expect.any(Number),
            verifyMs: expect.any(Number),
            checks: expect.arrayContaining([
              { name: 'AWSCURRENT is on the new version', ok: true },
              { name: 'the previous user still logs in', ok: true },
            ]),
          })),
        },
      ],
    });
    expect(endpoint.rotationHistory('rotation-demo/postgres/alternating-users').map((r) => r.outcome)).toEqual([
      'succeeded',
      'succeeded',
      'succeeded',
    ]);
    expectNoPassword(result, await allDemoPasswords());
  });

  it('fails with one clear line and a non-zero exit when the admin password is wrong', async () => {
    const wrong = 'wrong-admin-password-4f9c2';
    const result = await runBin('rotate-local.ts', ['--endpoint', endpoint.endpoint, '--engine', 'mysql'], { MYSQL_PASSWORD: wrong });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/MySQL refused the admin login of root at [^ ]+: check MYSQL_USER\/MYSQL_PASSWORD/);
    expect(result.stdout).toMatch(/^mysql\s+single-user\s+FAILED/m);
    expect(result.stdout + result.stderr).not.toContain(wrong);
  });

  it('says how to start a database that is not running', async () => {
    const result = await runBin('rotate-local.ts', ['--endpoint', endpoint.endpoint, '--engine', 'postgres', '--strategy', 'single-user'], {
      PGPORT: '1',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/PostgreSQL is not reachable at [^ ]+:1 \(ECONNREFUSED\): start it with `npm run db:setup`/);
  });

  it('--secret-id of a secret that does not exist, or is not a database secret: engine "unknown", not a guessed postgres', async () => {
    await client.send(new CreateSecretCommand({ Name: 'rotate-local-test/not-json', SecretString: 'not a database secret' }));
    for (const secretId of ['rotate-local-test/absent', 'rotate-local-test/not-json']) {
      const result = await runBin('rotate-local.ts', ['--endpoint', endpoint.endpoint, '--skip-setup', '--json', '--secret-id', secretId]);
      expect(result.code).toBe(1);
      const report = JSON.parse(result.stdout) as { ok: boolean; scenarios: { engine: string; outcome: string; error: string }[] };
      expect(report.ok).toBe(false);
      expect(report.scenarios).toEqual([
        expect.objectContaining({ engine: 'unknown', outcome: 'failed', error: expect.stringContaining(secretId) }),
      ]);
    }
  });

  it('refuses a bad flag with the usage and exit code 2', async () => {
    const result = await runBin('rotate-local.ts', ['--engine', 'oracle']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--engine must be postgres or mysql[\s\S]*Usage: npm run rotate:local/);
  });
});
