/**
 * The pieces of `localstack:deploy` on their own: the synthesized stack (what `rotate:local` relies on
 * when LOCALSTACK_URL is set), the environment handed to cdklocal, the LocalStack checks and the output
 * filter. The whole command runs against a stand-in in localstack-stand-in.test.ts.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { buildLocalStackApp, cdklocalEnv, localStackProblem } from '../../bin/localstack-deploy';
import { localStackReleaseFor, ROTATION_RUNTIME } from '../../lib/runtime';
import { cdkOutputFilter, lineSplitter } from '../../local/rotate-local/cdk-output';
import { AUTH_TOKEN_HINT, localStackS3Endpoint, needsAuthToken, releaseAtLeast } from '../../local/rotate-local/localstack';
import { rotationFunctionName, selectScenarios } from '../../local/rotate-local/scenarios';

describe('localstack:deploy', () => {
  // No bundling: the handlers' bundles are the CDK suites' concern; this checks names and settings.
  const { stack } = buildLocalStackApp(new App({ context: { 'aws:cdk:bundling-stacks': [] } }));
  const template = Template.fromStack(stack);
  const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{
    Properties: { FunctionName?: string; VpcConfig?: unknown; Environment: { Variables: Record<string, string> } };
  }>;

  it('deploys one function per scenario, named as rotate:local attaches them', () => {
    expect(functions.map((f) => f.Properties.FunctionName).sort()).toEqual(
      selectScenarios()
        .map((s) => rotationFunctionName(s.engine, s.strategy))
        .sort(),
    );
  });

  it('runs each outside a VPC, without TLS (the compose databases have none), with its strategy', () => {
    for (const f of functions) {
      expect(f.Properties.VpcConfig).toBeUndefined();
      expect(f.Properties.Environment.Variables.DB_TLS_MODE).toBe('disable');
      expect(f.Properties.FunctionName).toContain(f.Properties.Environment.Variables.ROTATION_STRATEGY);
      // No baked-in endpoint: LocalStack's injected AWS_ENDPOINT_URL must win.
      expect(f.Properties.Environment.Variables.SECRETS_MANAGER_ENDPOINT).toBeUndefined();
    }
  });

  it('points every endpoint variable cdklocal checks at LocalStack, with its test account, whatever the shell has', () => {
    const env = cdklocalEnv(
      {
        PATH: '/usr/bin',
        LOCALSTACK_AUTH_TOKEN: 'ls-token-value',
        AWS_PROFILE: 'prod',
        AWS_ACCESS_KEY_ID: 'AKIAREAL',
        AWS_SECRET_ACCESS_KEY: 'real-secret',
        AWS_SESSION_TOKEN: 't',
        AWS_ENDPOINT_URL_STS: 'https://sts.amazonaws.com',
        AWS_CONFIG_FILE: '/home/u/.aws/config',
        EDGE_PORT: '9999',
        LOCALSTACK_HOSTNAME: 'elsewhere',
      },
      { url: 'http://localhost:4566', s3: 'http://127.0.0.1:4566' },
    );
    expect(
      Object.keys(env)
        .filter((k) => k.startsWith('AWS_'))
        .sort(),
    ).toEqual([
      'AWS_ACCESS_KEY_ID',
      'AWS_DEFAULT_REGION',
      'AWS_ENDPOINT_URL',
      'AWS_ENDPOINT_URL_S3',
      'AWS_ENVAR_ALLOWLIST',
      'AWS_REGION',
      'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED',
      'AWS_SECRET_ACCESS_KEY',
    ]);
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://localhost:4566',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4566',
      LOCALSTACK_HOSTNAME: 'localhost',
      EDGE_PORT: '4566',
      USE_SSL: '0',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      CDK_DEFAULT_ACCOUNT: '000000000000',
      CDK_DEFAULT_REGION: 'us-east-1',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
      CDK_DISABLE_VERSION_CHECK: 'true',
      LOCALSTACK_AUTH_TOKEN: 'ls-token-value',
      PATH: '/usr/bin',
      // The SDK's Node-version notice stays off in cdklocal and the CDK CLI, as in our own commands.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    });
    // cdklocal keeps only allow-listed AWS_* variables: ours must all survive its clean-up.
    for (const key of env.AWS_ENVAR_ALLOWLIST!.split(',')) expect(env[key]).toBeDefined();
    expect(env.NO_PROXY!.split(',')).toEqual(expect.arrayContaining(['localhost', '127.0.0.1']));
  });

  it('satisfies the check cdklocal 3.x makes before any request, and survives its environment clean-up', () => {
    // cdklocal's own code, run on our environment: it throws when AWS_ENDPOINT_URL comes without AWS_ENDPOINT_URL_S3.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { configureEnvironment } = require('aws-cdk-local/src/index.js') as {
      configureEnvironment: (env: NodeJS.ProcessEnv, allowList: string) => void;
    };
    const env = cdklocalEnv({ AWS_PROFILE: 'prod' }, { url: 'http://127.0.0.1:4566', s3: 'http://127.0.0.1:4566' });
    const after = { ...env };
    expect(() => configureEnvironment(after, env.AWS_ENVAR_ALLOWLIST!)).not.toThrow();
    expect(after).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:4566',
      AWS_REGION: 'us-east-1',
    });
    expect(after.AWS_PROFILE).toBeUndefined();
    expect(() => configureEnvironment({ AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' }, '')).toThrow(/AWS_ENDPOINT_URL_S3/);
  });

  it('refuses a LocalStack older than the release that runs the runtime, and one with a needed service off', () => {
    const minimum = localStackReleaseFor(ROTATION_RUNTIME);
    expect(localStackProblem({ version: '4.4.0', services: {} }, 'http://x:4566')).toMatch(
      new RegExp(`LocalStack 4\\.4\\.0 at http://x:4566 cannot run ${ROTATION_RUNTIME.name}.*${minimum.replace(/\./g, '\\.')} or later`),
    );
    expect(localStackProblem({ version: minimum, services: { lambda: 'available' } }, 'u')).toBeUndefined();
    expect(localStackProblem({ version: '2026.03.0', services: {} }, 'u')).toBeUndefined();
    expect(localStackProblem({ version: 'latest', services: {} }, 'u')).toBeUndefined();
    expect(localStackProblem({ services: { lambda: 'disabled', s3: 'running' } }, 'u')).toMatch(/lambda disabled/);
  });
});

describe('LocalStack releases', () => {
  it('orders releases numerically, calendar versions after 4.x', () => {
    expect(releaseAtLeast('4.11.0', '4.11.0')).toBe(true);
    expect(releaseAtLeast('4.10.9', '4.11.0')).toBe(false);
    expect(releaseAtLeast('4.14', '4.11.0')).toBe(true);
    expect(releaseAtLeast('2026.03.1', '4.15.0')).toBe(true);
    expect(releaseAtLeast('4.14.1.dev12', '4.14.1')).toBe(true);
    expect(() => releaseAtLeast('latest', '4.0.0')).toThrow(/not a LocalStack release/);
  });

  it('knows which releases need an auth token: 4.15 and the calendar versions', () => {
    expect(needsAuthToken('4.14.0')).toBe(false);
    expect(needsAuthToken('4.15.0')).toBe(true);
    expect(needsAuthToken('2026.03.0')).toBe(true);
    expect(AUTH_TOKEN_HINT).toMatch(/https:\/\/app\.localstack\.cloud\/workspace\/auth-token.*export LOCALSTACK_AUTH_TOKEN=/);
    expect(AUTH_TOKEN_HINT).not.toMatch(/\n/);
  });

  it('knows the runtime the functions use, and no runtime it cannot vouch for', () => {
    expect(localStackReleaseFor(ROTATION_RUNTIME)).toMatch(/^\d+\.\d+\.\d+$/);
    expect(() => localStackReleaseFor(lambda.Runtime.NODEJS_18_X)).toThrow(/add it to LOCALSTACK_FIRST_RELEASE/);
  });
});

describe("cdklocal's S3 endpoint", () => {
  const resolve = async (host: string): Promise<string> => ({ localhost: '127.0.0.1', localstack: '172.18.0.2', v6only: '::1' })[host]!;

  it('is the address itself over http, so the SDK addresses buckets by path and no wildcard DNS is needed', async () => {
    expect(await localStackS3Endpoint('http://localhost:4566', resolve)).toBe('http://127.0.0.1:4566');
    expect(await localStackS3Endpoint('http://localstack:4566', resolve)).toBe('http://172.18.0.2:4566');
    expect(await localStackS3Endpoint('http://v6only:4566', resolve)).toBe('http://[::1]:4566');
    expect(await localStackS3Endpoint('http://127.0.0.1:4566', resolve)).toBe('http://127.0.0.1:4566');
  });

  it("keeps the name over https (the certificate's), with cdklocal's s3. prefix", async () => {
    expect(await localStackS3Endpoint('https://localhost.localstack.cloud:4566', resolve)).toBe(
      'https://s3.localhost.localstack.cloud:4566',
    );
  });
});

describe("cdklocal's output", () => {
  it('drops stack traces and the error object dumped under them, keeps the lines that say what failed', () => {
    const filter = cdkOutputFilter();
    const shown = [
      ' ❌  Environment aws://000000000000/us-east-1 failed bootstrapping: NoCredentials: Need to perform AWS calls',
      '    at SdkProvider.forEnvironment (/x/node_modules/aws-cdk/lib/index.js:303375:17)',
      '    at async /x/node_modules/aws-cdk/lib/index.js:324258:29 {',
      "  type: 'authentication',",
      "  '$metadata': [Object]",
      '}',
      'Need to perform AWS calls for account 000000000000, but no credentials have been configured',
      '  indented progress: stays',
    ]
      .map(filter)
      .filter((line) => line !== undefined);
    expect(shown).toEqual([
      ' ❌  Environment aws://000000000000/us-east-1 failed bootstrapping: NoCredentials: Need to perform AWS calls',
      'Need to perform AWS calls for account 000000000000, but no credentials have been configured',
      '  indented progress: stays',
    ]);
  });

  it('masks the auth token wherever it appears', () => {
    expect(cdkOutputFilter(['ls-0123456789'])('token=ls-0123456789 again ls-0123456789')).toBe('token=*** again ***');
    expect(cdkOutputFilter(['', undefined, 'short'])('short words stay')).toBe('short words stay');
  });

  it('splits chunks into lines, whatever the chunk boundaries', () => {
    const lines: string[] = [];
    const splitter = lineSplitter((l) => lines.push(l));
    for (const chunk of ['a', 'b\r\nc', '\n', 'd']) splitter.push(chunk);
    splitter.flush();
    expect(lines).toEqual(['ab', 'c', 'd']);
  });
});
