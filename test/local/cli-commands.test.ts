/**
 * What every command promises on its command line: `--help` prints usage and does nothing else,
 * `--json` keeps stdout to the JSON document, errors name host AND port and tell "not reachable" from
 * "login refused", and long waits show progress (in place on a terminal, plain lines otherwise).
 */
import { LOCALSTACK_DEPLOY_USAGE } from '../../bin/localstack-deploy';
import { DB_SETUP_USAGE, runDbSetupCli } from '../../bin/db-setup';
import { parseArgs as parseEndpointArgs } from '../../bin/local-endpoint';
import { classifyAdminLoginFailure, describeAdminLoginProblem } from '../../local/admin-login-problem';
import type { CliIo } from '../../operator/cli-io';
import { REPAIR_USAGE, runRotationRepairCli, runRotationStatusCli, STATUS_USAGE } from '../../operator/operator-cli';
import { createProgressSink, type StatusStream } from '../../operator/wait-progress';
import { ROTATE_LOCAL_USAGE } from '../../local/rotate-local/args';
import { runRotateLocalCli } from '../../local/rotate-local/rotate-local';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { runBin } from '../support/spawn-command';

/** An io whose environment points every server and endpoint at a closed port: any work would show on stderr. */
function deadEndIo(): CliIo & { out: string[]; err: string[]; status: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const status: string[] = [];
  return {
    out,
    err,
    status,
    stdout: (t) => out.push(t),
    stderr: (t) => err.push(t),
    statusStream: { isTTY: false, write: (t: string) => status.push(t) },
    env: { PATH: process.env.PATH, PGPORT: '1', MYSQL_PORT: '1', SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:1', AWS_REGION: 'us-east-1' },
  };
}

describe('--help on every command prints usage and does nothing else', () => {
  it.each([
    ['rotate:local', runRotateLocalCli, ROTATE_LOCAL_USAGE],
    ['db:setup', runDbSetupCli, DB_SETUP_USAGE],
    ['rotation:status', runRotationStatusCli, STATUS_USAGE],
    ['rotation:repair', runRotationRepairCli, REPAIR_USAGE],
  ] as const)('%s', async (_name, command, usage) => {
    for (const argv of [['--help'], ['-h'], ['--json', '--help'], ['--no-such-flag', '--help']]) {
      const io = deadEndIo();
      expect(await command(argv, io)).toBe(0);
      expect(io.out).toEqual([usage]);
      // Nothing ran: no setup line, no connection error, no progress.
      expect(io.err).toEqual([]);
      expect(io.status).toEqual([]);
    }
  });

  it('local:endpoint reads --help before it would start anything', () => {
    expect(parseEndpointArgs(['--help'])).toMatchObject({ help: true });
    expect(parseEndpointArgs(['--port', 'nope', '-h'])).toMatchObject({ help: true });
  });

  it('as a process, rotate:local --help exits 0 at once with only the usage and no SDK notice', async () => {
    const result = await runBin('rotate-local.ts', ['--help'], { PGPORT: '1', MYSQL_PORT: '1' });
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(ROTATE_LOCAL_USAGE);
    expect(result.stderr).toBe('');
  });

  it('as a process, localstack:deploy --help prints only the usage and reaches for no LocalStack; a bad flag exits 2 in one line', async () => {
    const help = await runBin('localstack-deploy.ts', ['--help'], { LOCALSTACK_URL: 'http://127.0.0.1:1' });
    expect(help.code).toBe(0);
    expect(help.stdout.trim()).toBe(LOCALSTACK_DEPLOY_USAGE);
    expect(help.stderr).toBe('');
    const bad = await runBin('localstack-deploy.ts', ['--no-such-flag'], { LOCALSTACK_URL: 'http://127.0.0.1:1' });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^localstack:deploy: unknown flag --no-such-flag/);
    expect(bad.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('--json writes only JSON to stdout', () => {
  it('rotate:local --json with a bad flag still prints one document, ok false, and exits 2 (an empty stdout reads as success to jq -e)', async () => {
    const io = deadEndIo();
    expect(await runRotateLocalCli(['--json', '--engine', 'oracle'], io)).toBe(2);
    expect(io.out.map((o) => JSON.parse(o) as unknown)).toEqual([{ error: '--engine must be postgres or mysql', ok: false }]);
    expect(io.err[0]).toMatch(/^rotate:local: --engine must be postgres or mysql\n/);
    // Without --json nothing but the usage on stderr.
    const plain = deadEndIo();
    expect(await runRotateLocalCli(['--engine', 'oracle'], plain)).toBe(2);
    expect(plain.out).toEqual([]);
  });

  it('rotate:local --json (as a process, db:setup included): stdout parses whole; setup and progress lines are on stderr', async () => {
    const result = await runBin('rotate-local.ts', ['--json', '--engine', 'mysql', '--strategy', 'single-user']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { ok: boolean; target: { kind: string } };
    expect(report).toMatchObject({ ok: true, target: { kind: 'embedded' } });
    expect(result.stderr).toMatch(/^db:setup: MariaDB is up and refuses wrong passwords\.$/m);
    expect(result.stderr).toMatch(/^rotate:local: target: embedded endpoint http:\/\/127\.0\.0\.1:\d+$/m);
    expect(result.stderr).not.toMatch(/endpoint endpoint/);
    expect(result.stderr).not.toMatch(/NodeVersionSupportWarning/);
  });
});

describe('errors name the server, host and port, and what is wrong', () => {
  it('db:setup: a closed port is "not reachable at host:port", never a refused login', async () => {
    const io = { ...deadEndIo(), env: { PATH: process.env.PATH, PGPORT: '1' } };
    expect(await runDbSetupCli(['--engine', 'postgres'], io)).toBe(1);
    expect(io.err.join('\n')).toMatch(/PostgreSQL is not reachable at 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
    expect(io.out).toEqual([]);
  });

  describe('a port that accepts the connection and never answers (a hung server, a firewall dropping replies)', () => {
    let silent: Server;
    let port: number;
    const sockets: Socket[] = [];
    beforeAll(async () => {
      silent = createServer((socket) => {
        sockets.push(socket);
        socket.on('error', () => undefined);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      port = (silent.address() as AddressInfo).port;
    });
    afterAll(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    // pg's own connect timeout says "timeout expired" with no code: it read as "failed (no error code):
    // check … PGUSER/PGPASSWORD" in db:setup and "failed (unknown error)" in rotate:local.
    it('db:setup: PostgreSQL is "not reachable at host:port (ETIMEDOUT)", never a login problem', async () => {
      const io = { ...deadEndIo(), env: { PATH: process.env.PATH, PGPORT: String(port) } };
      expect(await runDbSetupCli(['--engine', 'postgres'], io)).toBe(1);
      const text = io.err.join('\n');
      expect(text).toContain(`PostgreSQL is not reachable at 127.0.0.1:${port} (ETIMEDOUT)`);
      expect(text).not.toMatch(/no error code|PGUSER\/PGPASSWORD/);
    });

    it.each([
      ['postgres', 'PostgreSQL', { PGPORT: '' }],
      ['mysql', 'MySQL', { MYSQL_PORT: '' }],
    ] as const)(
      'rotate:local (%s): the preflight says "not reachable at host:port (ETIMEDOUT)" and rotates nothing',
      async (engine, name, vars) => {
        const portVariable = Object.keys(vars)[0]!;
        const io = { ...deadEndIo(), env: { PATH: process.env.PATH, [portVariable]: String(port) } };
        expect(await runRotateLocalCli(['--engine', engine, '--strategy', 'single-user', '--skip-setup', '--json'], io)).toBe(1);
        const report = JSON.parse(io.out[0]!) as { ok: boolean; scenarios: Array<{ outcome: string; error?: string }> };
        expect(report.ok).toBe(false);
        expect(report.scenarios[0]!.error).toBe(
          `${name} is not reachable at 127.0.0.1:${port} (ETIMEDOUT): start it with \`npm run db:setup\``,
        );
      },
    );
  });

  it('db:setup: a wrong admin password is "refused the admin login … at host:port", never "not reachable"', async () => {
    const wrong = 'pkgcli-wrong-admin-password';
    const io = { ...deadEndIo(), env: { PATH: process.env.PATH, MYSQL_PASSWORD: wrong } };
    expect(await runDbSetupCli(['--engine', 'mysql'], io)).toBe(1);
    const text = io.err.join('\n');
    expect(text).toMatch(
      /MariaDB refused the admin login of root at 127\.0\.0\.1:3306 \(ER_ACCESS_DENIED_ERROR\): the server is up; check MYSQL_USER\/MYSQL_PASSWORD/,
    );
    expect(text).not.toMatch(/not reachable/);
    expect(text).not.toContain(wrong);
  });

  it('the classifier goes by codes: network codes, pg SQLSTATE 28P01, mysql errno 1045, nested AggregateError', () => {
    expect(classifyAdminLoginFailure(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toEqual({
      kind: 'unreachable',
      code: 'ECONNREFUSED',
    });
    expect(classifyAdminLoginFailure(new AggregateError([Object.assign(new Error('a'), { code: 'EHOSTUNREACH' })]))).toMatchObject({
      kind: 'unreachable',
    });
    expect(classifyAdminLoginFailure(Object.assign(new Error('x'), { code: '28P01' }))).toEqual({ kind: 'refused', code: '28P01' });
    expect(classifyAdminLoginFailure(Object.assign(new Error('x'), { errno: 1045 }))).toMatchObject({ kind: 'refused' });
    expect(classifyAdminLoginFailure(new Error('Connection terminated due to connection timeout'))).toEqual({
      kind: 'unreachable',
      code: 'ETIMEDOUT',
    });
    expect(classifyAdminLoginFailure(Object.assign(new Error('x'), { code: '3D000' }))).toEqual({ kind: 'other', code: '3D000' });
    const line = describeAdminLoginProblem(
      'postgres',
      'PostgreSQL',
      { host: 'db', port: 6543, user: 'admin' },
      { kind: 'other', code: '3D000' },
      '-',
    );
    expect(line).toBe('PostgreSQL admin login of admin at db:6543 failed (3D000): check PGHOST/PGPORT and PGUSER/PGPASSWORD');
  });

  // As a process: under jest the SDK wraps the connection error and hides its code.
  it('rotation:status names the Secrets Manager endpoint it could not reach, by host and port', async () => {
    const result = await runBin('rotation-status.ts', ['--secret-id', 'pkgcli/x', '--endpoint', 'http://127.0.0.1:1']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^rotation:status: DescribeSecret: cannot reach Secrets Manager \(ECONNREFUSED\); check the network path to Secrets Manager .*\[secret pkgcli\/x\] \(endpoint http:\/\/127\.0\.0\.1:1\): nothing listens there on this machine: start the endpoint \(`npm run local:endpoint`, or LocalStack with `docker compose up -d --wait`\), or point --endpoint \(or SECRETS_MANAGER_ENDPOINT\) at one that runs$/,
    );
    expect(result.stdout).toBe('');
    // ENVIRONMENT=local, as a new user sets it with nothing started: the same line, no VPC left to blame.
    const local = await runBin('rotation-status.ts', ['--secret-id', 'pkgcli/x'], {
      ENVIRONMENT: 'local',
      LOCALSTACK_URL: 'http://127.0.0.1:1',
    });
    expect(local.code).toBe(1);
    expect(local.stderr).toContain('(endpoint http://127.0.0.1:1): nothing listens there on this machine: start the endpoint');
  });
});

describe('progress of long waits', () => {
  function stream(isTTY: boolean): StatusStream & { text: string } {
    const s = { isTTY, text: '', write: (t: string) => (s.text += t) };
    return s;
  }

  it('off a terminal: a plain line when what is awaited changes, then at most one per interval', () => {
    const out = stream(false);
    const sink = createProgressSink(out, { prefix: 'rotation:repair: ', plainEveryMs: 10_000 });
    for (let ms = 0; ms <= 25_000; ms += 1000) sink({ awaiting: 'AWSCURRENT to move to v2', elapsedMs: ms, limitMs: 120_000 });
    sink({ awaiting: 'AWSCURRENT to move to v3', elapsedMs: 500 });
    sink(undefined);
    expect(out.text.split('\n').filter(Boolean)).toEqual([
      'rotation:repair: waiting 0 ms of 2 min 00 s: AWSCURRENT to move to v2',
      'rotation:repair: waiting 10.0 s of 2 min 00 s: AWSCURRENT to move to v2',
      'rotation:repair: waiting 20.0 s of 2 min 00 s: AWSCURRENT to move to v2',
      'rotation:repair: waiting 500 ms: AWSCURRENT to move to v3',
    ]);
    expect(out.text).not.toContain('\r');
  });

  it('on a terminal: one line refreshed in place at every report, cleared at the end', () => {
    const out = stream(true);
    const sink = createProgressSink(out, { prefix: 'db:setup: ' });
    sink({ awaiting: 'PostgreSQL to accept the admin login at 127.0.0.1:5432', elapsedMs: 0, limitMs: 60_000 });
    sink({ awaiting: 'PostgreSQL to accept the admin login at 127.0.0.1:5432', elapsedMs: 1500, limitMs: 60_000 });
    sink(undefined);
    expect(out.text).toBe(
      '\r\x1b[2Kdb:setup: waiting 0 ms of 1 min 00 s: PostgreSQL to accept the admin login at 127.0.0.1:5432' +
        '\r\x1b[2Kdb:setup: waiting 1.5 s of 1 min 00 s: PostgreSQL to accept the admin login at 127.0.0.1:5432' +
        '\r\x1b[2K',
    );
    expect(out.text).not.toContain('\n');
  });
});
