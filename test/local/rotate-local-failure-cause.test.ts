/**
 * `rotate:local` through an endpoint whose rotation history it cannot read (`--endpoint`, LocalStack):
 * a rotation that fails there is seen only as labels that did not move. The line used to stop at
 * "failed checks: AWSCURRENT is on the new version; …", with nothing on why or where to look; it must
 * now say where the function's own error is, and that place must hold it. The secret names a user that
 * does not exist (rlfc_ prefix), so setSecret fails; no password appears in any output.
 */
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startLocalSecretsManager, type LocalSecretsManager } from '../../emulator';
import { registerRepoRotationHandlers } from '../../local/repo-handlers';
import { rotationFunctionArn, rotationFunctionName, selectScenarios } from '../../local/rotate-local/scenarios';
import { runRotateLocalCli } from '../../local/rotate-local/rotate-local';
import type { CliIo } from '../../operator/cli-io';
import { silentLogger } from '../../shared/rotation/logger';
import { startLocalStackStandIn, type LocalStackStandIn } from '../support/localstack-stand-in';

const PASSWORD = 'rlfc-Not-A-Real-Password-7f3a';
let endpoint: LocalSecretsManager;
let client: SecretsManagerClient;
let standIn: LocalStackStandIn;
const endpointLog: string[] = [];

beforeAll(async () => {
  endpoint = await startLocalSecretsManager({ log: (line) => endpointLog.push(line) });
  registerRepoRotationHandlers(endpoint, { logger: silentLogger });
  client = new SecretsManagerClient({
    endpoint: endpoint.endpoint,
    region: endpoint.region,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  const functions = Object.fromEntries(
    selectScenarios().map((s) => [
      rotationFunctionName(s.engine, s.strategy),
      rotationFunctionArn(s.engine, s.strategy, endpoint.region, endpoint.accountId),
    ]),
  );
  standIn = await startLocalStackStandIn({ secretsManager: endpoint.endpoint, functions });
});

afterAll(async () => {
  await standIn.close();
  client.destroy();
  await endpoint.close();
});

async function secretForAbsentUser(name: string): Promise<void> {
  const value = { engine: 'postgres', host: '127.0.0.1', port: 5432, username: 'rlfc_absent_user', password: PASSWORD, ssl: false };
  await client.send(new CreateSecretCommand({ Name: name, SecretString: JSON.stringify(value) }));
}

function io(env: Record<string, string | undefined>): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (t) => out.push(t), stderr: (t) => err.push(t), env: { ...process.env, ...env } };
}

async function failedRun(argv: readonly string[], env: Record<string, string | undefined>): Promise<string> {
  const cli = io(env);
  expect(await runRotateLocalCli([...argv, '--strategy', 'single-user', '--skip-setup', '--json'], cli)).toBe(1);
  const report = JSON.parse(cli.out[0]!) as { scenarios: Array<{ outcome: string; rotations: Array<{ error?: string }> }> };
  expect(report.scenarios[0]!.outcome).toBe('failed');
  const error = report.scenarios[0]!.rotations[0]!.error!;
  expect(error).toMatch(/^failed checks: AWSCURRENT is on the new version/);
  expect([...cli.out, ...cli.err].join('\n')).not.toContain(PASSWORD);
  return error;
}

it('--endpoint: names the endpoint own stderr as where the step failure is, and it is there', async () => {
  const name = 'rlfc/cause/endpoint';
  await secretForAbsentUser(name);
  endpointLog.length = 0;
  const error = await failedRun(['--endpoint', endpoint.endpoint, '--secret-id', name], {});
  expect(error).toContain(
    "the endpoint does not pass the rotation function's error on: `npm run local:endpoint` prints it on its own stderr",
  );
  expect(endpointLog.join('\n')).toMatch(/\[local-secrets-manager\] rotation of .*rlfc\/cause\/endpoint.* failed at setSecret: /);
  expect(endpointLog.join('\n')).not.toContain(PASSWORD);
});

it('LOCALSTACK_URL: names the function log group to read, on that LocalStack', async () => {
  const name = 'rlfc/cause/localstack';
  await secretForAbsentUser(name);
  const error = await failedRun(['--secret-id', name], { LOCALSTACK_URL: standIn.url });
  expect(error).toContain(
    `LocalStack does not pass the rotation function's error on: it is in the function's log, \`aws --endpoint-url ${standIn.url} logs tail /aws/lambda/postgres-single-user-rotation\``,
  );
});
