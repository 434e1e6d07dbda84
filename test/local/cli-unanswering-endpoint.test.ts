/**
 * The command-line tools against a Secrets Manager endpoint that accepts the connection and never
 * answers (a stuck proxy, a firewall dropping the replies, a hung emulator). Before each call was
 * bounded, `rotation:status`, `rotation:repair` and `rotate:local --secret-id` waited for ever and
 * printed nothing. Each must now fail with a TimeoutError naming the call, the secret and the endpoint,
 * exit 1, and (with --json) still print its one document. The commands run in-process with a short
 * call bound; `withCallTimeouts` is also checked on its own: RotateSecret gets the longer bound, and a
 * shared client stays unbounded for its other users.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { DescribeSecretCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { withCallTimeouts } from '../../operator/bounded-client';
import type { CliIo } from '../../operator/cli-io';
import { runRotationRepairCli, runRotationStatusCli } from '../../operator/operator-cli';
import { runRotateLocalCli } from '../../local/rotate-local/rotate-local';

let server: Server;
let url: string;
const sockets: Socket[] = [];
/** The secret name the commands are asked about: it is never answered, so it never exists. */
const SECRET = 'cliu/unanswered';

beforeAll(async () => {
  server = createServer((socket) => {
    sockets.push(socket);
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function io(): CliIo & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    env: { ...process.env, AWS_REGION: 'us-east-1' },
    callTimeouts: { callMs: 300 },
  };
}

describe('an endpoint that accepts and never answers', () => {
  it.each([
    ['rotation:status', runRotationStatusCli, 'DescribeSecret', { complete: false }],
    ['rotation:repair', runRotationRepairCli, 'DescribeSecret', { applied: false, resolved: false, verified: false }],
  ] as const)('%s fails with a TimeoutError naming the call, the secret and the endpoint', async (_name, command, action, verdict) => {
    const cli = io();
    expect(await command(['--secret-id', SECRET, '--endpoint', url, '--json'], cli)).toBe(1);
    const line = `${action}: no answer from Secrets Manager within 300 ms`;
    expect(cli.err).toHaveLength(1);
    expect(cli.err[0]).toContain(line);
    expect(cli.err[0]).toContain(`[secret ${SECRET}]`);
    expect(cli.err[0]).toContain(`(endpoint ${url})`);
    expect(cli.out).toHaveLength(1);
    const document = JSON.parse(cli.out[0]!) as { error: string };
    expect(document).toMatchObject({ ...verdict, error: expect.stringContaining(line) });
  });

  it('rotate:local --secret-id reports the scenario failed on the unanswered GetSecretValue, and exits 1', async () => {
    const cli = io();
    const code = await runRotateLocalCli(['--secret-id', SECRET, '--endpoint', url, '--skip-setup', '--json'], cli);
    expect(code).toBe(1);
    const report = JSON.parse(cli.out[0]!) as { ok: boolean; scenarios: Array<{ outcome: string; error?: string }> };
    expect(report.ok).toBe(false);
    expect(report.scenarios).toHaveLength(1);
    expect(report.scenarios[0]!.outcome).toBe('failed');
    expect(report.scenarios[0]!.error).toContain('GetSecretValue: no answer from Secrets Manager within 300 ms');
    expect(report.scenarios[0]!.error).toContain(`[secret ${SECRET}]`);
  });
});

describe('withCallTimeouts', () => {
  let shared: SecretsManagerClient;
  beforeAll(() => {
    shared = new SecretsManagerClient({
      endpoint: url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
  });
  afterAll(() => shared.destroy());

  it('gives RotateSecret its own, longer bound (an emulator runs the four steps before answering)', async () => {
    const bounded = withCallTimeouts(shared, { callMs: 200, rotateMs: 400 });
    await expect(bounded.send(new RotateSecretCommand({ SecretId: SECRET }))).rejects.toMatchObject({
      name: 'TimeoutError',
      code: 'TIMEOUT',
      message: expect.stringMatching(/^RotateSecret: no answer from Secrets Manager within 400 ms; /),
    });
    await expect(bounded.send(new DescribeSecretCommand({ SecretId: SECRET }))).rejects.toMatchObject({
      message: expect.stringMatching(/^DescribeSecret: no answer from Secrets Manager within 200 ms; /),
    });
  });

  it('keeps the caller abort signal, and leaves the wrapped client itself unbounded', async () => {
    const bounded = withCallTimeouts(shared, { callMs: 60_000 });
    const controller = new AbortController();
    const call = bounded.send(new DescribeSecretCommand({ SecretId: SECRET }), { abortSignal: controller.signal });
    controller.abort();
    await expect(call).rejects.toMatchObject({ name: 'AbortError' });
    expect(bounded.config).toBe(shared.config);
    expect(shared.send).not.toBe(bounded.send);
    expect(Object.prototype.hasOwnProperty.call(shared, 'send')).toBe(false);
  });
});
