/**
 * Conformance [embedded]: `npm run local:endpoint` starts the endpoint standalone, prints it, and the
 * SDK can use it; --port is honoured and bad arguments are refused.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { parseArgs } from '../../bin/local-endpoint';
import { ConfigError } from '../../shared/errors';

const SCRIPT = join(__dirname, '..', '..', 'bin', 'local-endpoint.ts');

function start(args: string[]): { child: ChildProcessWithoutNullStreams; endpoint: Promise<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { cwd: join(__dirname, '..', '..') });
  const endpoint = new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /Secrets Manager endpoint: (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.on('exit', (code) => reject(new Error(`local-endpoint exited with ${code}`)));
  });
  return { child, endpoint };
}

test('[embedded] the standalone endpoint prints its URL and serves the SDK, until SIGTERM', async () => {
  const { child, endpoint } = start(['--port', '0']);
  try {
    const url = await endpoint;
    const client = new SecretsManagerClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await client.send(new CreateSecretCommand({ Name: 'cli-check', SecretString: 'not-a-secret' }));
    expect((await client.send(new GetSecretValueCommand({ SecretId: 'cli-check' }))).SecretString).toBe('not-a-secret');
    client.destroy();
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
});

test('[embedded] --port parses in both spellings and defaults to 4566', () => {
  expect(parseArgs([]).port).toBe(4566);
  expect(parseArgs(['--port', '0']).port).toBe(0);
  expect(parseArgs(['--port=4599']).port).toBe(4599);
  expect(parseArgs(['--surface-rotation-errors']).surfaceRotationErrors).toBe(true);
});

test('[embedded] a bad port or an unknown argument is a ConfigError naming the usage', () => {
  expect(() => parseArgs(['--port', 'abc'])).toThrow(ConfigError);
  expect(() => parseArgs(['--port'])).toThrow(/usage: local-endpoint/);
  expect(() => parseArgs(['--port', '70000'])).toThrow(ConfigError);
  expect(() => parseArgs(['--verbose'])).toThrow(/unknown flag --verbose/);
});
