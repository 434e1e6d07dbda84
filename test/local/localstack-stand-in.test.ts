/**
 * `npm run localstack:deploy` for real (npm, tsx, the real cdklocal and CDK CLI as child processes)
 * against a loopback stand-in for LocalStack, as far as this machine allows without Docker: the
 * stand-in answers the health check and, in each service's own protocol, just enough for bootstrap and
 * deploy to finish. It proves that cdklocal got past its own checks, that bootstrap and deploy went to
 * LocalStack's URL and nowhere else (every TCP connection of the process tree is recorded, and any
 * off-loopback one cut), that no credential from the shell went along, and that each failure ends in
 * one clear line. Not proven here: that a real LocalStack accepts the stack and runs the functions.
 */
import { ROTATION_RUNTIME, localStackReleaseFor } from '../../lib/runtime';
import { AUTH_TOKEN_HINT } from '../../local/rotate-local/localstack';
import { rotationFunctionName, selectScenarios } from '../../local/rotate-local/scenarios';
import { runGuarded, type GuardedResult } from '../support/guarded-command';
import { startLocalStackStandIn, type LocalStackStandIn } from '../support/localstack-stand-in';

const TOKEN = `ls-lstack-${Math.random().toString(36).slice(2)}`;
/** What a user's shell may hold; none of it may reach the deploy. */
const SHELL = {
  AWS_PROFILE: 'lstack-production',
  AWS_ACCESS_KEY_ID: 'AKIALSTACKREALKEY000',
  AWS_SECRET_ACCESS_KEY: 'lstack-real-secret-access-key',
  AWS_SESSION_TOKEN: 'lstack-real-session-token',
  AWS_ENDPOINT_URL_STS: 'https://sts.us-east-1.amazonaws.com',
  AWS_REGION: 'eu-west-3',
};

const deploy = (env: Record<string, string | undefined>): Promise<GuardedResult> => runGuarded('npm', ['run', 'localstack:deploy'], env);

/** Lines of a stack trace or of a dumped error object. */
const TRACE = /^\s+at\s|^\s+['"]?[\w$]+['"]?: .*,$/m;

function expectNoLeak(result: GuardedResult): void {
  const output = result.stdout + result.stderr;
  expect(output).not.toMatch(TRACE);
  for (const value of [TOKEN, SHELL.AWS_SECRET_ACCESS_KEY, SHELL.AWS_SESSION_TOKEN]) expect(output.includes(value)).toBe(false);
}

describe('localstack:deploy against a stand-in that answers as LocalStack does', () => {
  let standIn: LocalStackStandIn;
  let result: GuardedResult;

  beforeAll(async () => {
    standIn = await startLocalStackStandIn();
    // `localhost`, as the README has it: the S3 endpoint must come out as the address itself.
    result = await deploy({ ...SHELL, LOCALSTACK_URL: standIn.url.replace('127.0.0.1', 'localhost'), LOCALSTACK_AUTH_TOKEN: TOKEN });
  }, 300_000);

  afterAll(() => standIn.close());

  it("gets past cdklocal's own checks and finishes bootstrap and deploy", () => {
    expect(result.stderr).not.toMatch(/AWS_ENDPOINT_URL_S3/);
    expect(result.code).toBe(0);
    // The CDK CLI writes its progress to stdout when CI is set and to stderr otherwise.
    expect(result.stdout + result.stderr).toMatch(/✅\s+Environment aws:\/\/000000000000\/us-east-1 bootstrapped/);
    expect(result.stderr).toMatch(/localstack:deploy: done: postgres-single-user-rotation/);
    // Neither cdklocal nor the CDK CLI prints the SDK's Node-version notice (it is off in our commands).
    expect(result.stdout + result.stderr).not.toMatch(/NodeVersionSupportWarning/);
    expectNoLeak(result);
  });

  it('sends its STS, CloudFormation, SSM and S3 requests to the stand-in, bootstrap first, then the stack', () => {
    const services = new Set(standIn.requests.map((r) => r.service));
    expect([...services]).toEqual(expect.arrayContaining(['cloudformation', 's3', 'ssm', 'sts']));
    // Every request was signed for a service (none anonymous).
    expect(standIn.requests.every((r) => r.service !== undefined)).toBe(true);
    const executed = standIn.requests.filter((r) => r.action === 'ExecuteChangeSet').map((r) => r.stackName);
    expect(executed).toEqual(['CDKToolkit', 'DbSecretRotationLocalStack']);
    expect(standIn.requests.some((r) => r.service === 'ssm' && r.action === 'GetParameter')).toBe(true);
    // Path-style S3 on the stand-in's own address: no `<bucket>.localhost` name was needed.
    const s3 = standIn.requests.filter((r) => r.service === 's3');
    expect(s3.length).toBeGreaterThan(0);
    for (const r of s3) {
      expect(r.host).toBe(new URL(standIn.url).host);
      expect(r.path).toMatch(/^\/cdk-hnb659fds-assets-000000000000-us-east-1\//);
    }
  });

  it('opened no connection but to the stand-in: telemetry, notices and version checks stay off', () => {
    const port = Number(new URL(standIn.url).port);
    expect(result.connections.length).toBeGreaterThan(0);
    expect(result.connections.filter((c) => c.port !== port)).toEqual([]);
  });

  it("signs with LocalStack's test credentials in us-east-1: no key, session token or region from the shell", () => {
    for (const r of standIn.requests) {
      expect(r.accessKeyId).toBe('test');
      expect(r.region).toBe('us-east-1');
      expect(r.sessionToken).not.toBe(SHELL.AWS_SESSION_TOKEN);
    }
  });

  it('uploads the stack with the four functions on the runtime LocalStack was checked for', () => {
    const templates = [...standIn.uploads.entries()].filter(([key]) => key.endsWith('.json'));
    expect(templates).toHaveLength(1);
    const template = JSON.parse(templates[0]![1].toString('utf8')) as {
      Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
    };
    const functions = Object.values(template.Resources).filter((r) => r.Type === 'AWS::Lambda::Function');
    expect(functions.map((f) => f.Properties.FunctionName).sort()).toEqual(
      selectScenarios()
        .map((s) => rotationFunctionName(s.engine, s.strategy))
        .sort(),
    );
    for (const f of functions) expect(f.Properties.Runtime).toBe(ROTATION_RUNTIME.name);
    // The two bundles (one per engine) went up as zip files.
    expect([...standIn.uploads.keys()].filter((key) => key.endsWith('.zip'))).toHaveLength(2);
  });
});

describe('localstack:deploy failing', () => {
  it('stops at bootstrap with one clear line when LocalStack refuses every request, before any synth', async () => {
    const standIn = await startLocalStackStandIn({ refuse: true });
    try {
      const result = await deploy({ ...SHELL, LOCALSTACK_URL: standIn.url, LOCALSTACK_AUTH_TOKEN: TOKEN });
      expect(result.code).toBe(1);
      const last = result.stderr.trim().split('\n').pop();
      expect(last).toMatch(
        /^localstack:deploy: cdklocal bootstrap failed \(exit \d+\) against LocalStack 4\.14\.0 at http:\/\/127\.0\.0\.1:\d+: .*docker compose logs localstack/,
      );
      expect(result.stderr).toMatch(/❌/);
      expect(result.stderr).not.toMatch(/synthesizing/);
      expect(standIn.requests.length).toBeGreaterThan(0);
      expect(standIn.requests.every((r) => r.accessKeyId === 'test')).toBe(true);
      expectNoLeak(result);
    } finally {
      await standIn.close();
    }
  }, 180_000);

  it('refuses a LocalStack too old for the runtime before sending it anything', async () => {
    const standIn = await startLocalStackStandIn({ version: '4.4.0' });
    try {
      const result = await deploy({ LOCALSTACK_URL: standIn.url });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        new RegExp(
          `LocalStack 4\\.4\\.0 at ${standIn.url} cannot run ${ROTATION_RUNTIME.name}.*${localStackReleaseFor().replace(/\./g, '\\.')} or later`,
        ),
      );
      expect(standIn.requests).toEqual([]);
      expectNoLeak(result);
    } finally {
      await standIn.close();
    }
  }, 120_000);

  it('says how to start LocalStack, and where a token comes from, when nothing answers', async () => {
    const standIn = await startLocalStackStandIn();
    const url = standIn.url;
    await standIn.close();
    const result = await deploy({ LOCALSTACK_URL: url });
    expect(result.code).toBe(1);
    const lines = result.stderr
      .trim()
      .split('\n')
      .filter((line) => line.startsWith('localstack:deploy:'));
    expect(lines).toEqual([
      `localstack:deploy: LocalStack does not answer at ${url} (/_localstack/health): start it with \`docker compose up -d --wait\` (or set LOCALSTACK_URL)`,
      `localstack:deploy: ${AUTH_TOKEN_HINT}`,
    ]);
    // With a token set, the hint is not repeated at a user who has one.
    const withToken = await deploy({ LOCALSTACK_URL: url, LOCALSTACK_AUTH_TOKEN: TOKEN });
    expect(withToken.stderr).not.toContain(AUTH_TOKEN_HINT);
    expectNoLeak(withToken);
  }, 120_000);
});
