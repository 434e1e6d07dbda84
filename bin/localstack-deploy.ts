#!/usr/bin/env node
/**
 * `npm run localstack:deploy`: deploys the four rotation functions into LocalStack with `cdklocal`
 * (from `aws-cdk-local`), under the names `rotate:local` attaches: `<engine>-<strategy>-rotation`.
 * Afterwards `LOCALSTACK_URL=… npm run rotate:local` rotates through them and verifies from outside.
 *
 * LocalStack's CloudFormation rotation schedule does nothing on deploy, so this stack attaches no
 * secret: rotate:local calls RotateSecret itself. The functions are not in a VPC: LocalStack runs each
 * in a container on LAMBDA_DOCKER_NETWORK (docker-compose.yml), which reaches the databases by service
 * name. TLS is off because the compose databases have none.
 *
 * Order: LocalStack's health (reachable, a release that runs the functions' runtime), `cdklocal
 * bootstrap` (needs no app, so it fails fast on a broken LocalStack), one synth into a temporary cloud
 * assembly, `cdklocal deploy` of that assembly. No real LocalStack runs on the project's machines (no
 * Docker); test/local/localstack-stand-in.test.ts runs this command against a loopback
 * stand-in that answers as LocalStack would and records every request.
 *
 * With `--synth` this file is the CDK app itself (e.g. `cdklocal synth --app "npx tsx bin/localstack-deploy.ts --synth"`).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DbTlsMode, RotationEngine, RotationStrategy } from '../lib/rotation-engine';
import { RotationFunction } from '../lib/rotation-function';
import { ROTATION_RUNTIME, localStackReleaseFor } from '../lib/runtime';
import { checkEndpointUrl, parseCommandLine } from '../operator/cli-args';
import { SDK_NODE_WARNING_OPT_OUT, runMain } from '../operator/cli-main';
import { describeError } from '../operator/cli-io';
import { cdkOutputFilter, lineSplitter } from '../local/rotate-local/cdk-output';
import {
  AUTH_TOKEN_HINT,
  DEFAULT_LOCALSTACK_URL,
  localStackS3Endpoint,
  parseRelease,
  readLocalStackHealth,
  releaseAtLeast,
  type LocalStackHealth,
} from '../local/rotate-local/localstack';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION, rotationFunctionName, selectScenarios } from '../local/rotate-local/scenarios';
import type { EngineFamily } from '../shared/database-secret';
import type { RotationStrategyName } from '../shared/rotation/rotation-settings';

export const LOCALSTACK_STACK_NAME = 'DbSecretRotationLocalStack';
const ROOT = join(__dirname, '..');

const ENGINES: Readonly<Record<EngineFamily, RotationEngine>> = { postgres: RotationEngine.POSTGRES, mysql: RotationEngine.MYSQL };
const STRATEGIES: Readonly<Record<RotationStrategyName, RotationStrategy>> = {
  'single-user': RotationStrategy.SINGLE_USER,
  'alternating-users': RotationStrategy.ALTERNATING_USERS,
};

/** One function per rotate:local scenario, named as rotate:local attaches them. */
export class LocalStackRotationStack extends Stack {
  readonly functions: readonly RotationFunction[];

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);
    this.functions = selectScenarios().map(({ engine, strategy }) => {
      const name = rotationFunctionName(engine, strategy);
      return new RotationFunction(this, name, {
        engine: ENGINES[engine],
        strategy: STRATEGIES[strategy],
        functionName: name,
        tlsMode: DbTlsMode.DISABLE,
        // LocalStack runs the function in a container of the host's architecture.
        architecture: process.arch === 'arm64' ? lambda.Architecture.ARM_64 : lambda.Architecture.X86_64,
        logRetention: logs.RetentionDays.ONE_DAY,
        sharedSecretNamePattern: 'rotation-demo/*',
      });
    });
  }
}

export function buildLocalStackApp(app: App = new App()): { app: App; stack: LocalStackRotationStack } {
  const stack = new LocalStackRotationStack(app, LOCALSTACK_STACK_NAME, {
    env: { account: LOCAL_ACCOUNT_ID, region: LOCAL_REGION },
    description: 'rotate:local: the rotation functions, deployed into LocalStack',
  });
  return { app, stack };
}

/** Where cdklocal sends everything, as `localstack:deploy` computed it. */
export interface LocalStackEndpoints {
  /** LocalStack's URL, no trailing slash. */
  readonly url: string;
  /** The S3 endpoint for asset uploads (see localStackS3Endpoint). */
  readonly s3: string;
}

/** cdklocal's older endpoint variables: derived from the URL here, never taken from the shell. */
const LEGACY_ENDPOINT_VARIABLES = ['LOCALSTACK_HOSTNAME', 'EDGE_PORT', 'USE_SSL'];

/** The variables cdklocal lets through to the CDK CLI (it drops every other AWS_* variable). */
const CDKLOCAL_ALLOWLIST = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', SDK_NODE_WARNING_OPT_OUT];

/**
 * The environment cdklocal runs in: every endpoint variable it checks points at LocalStack
 * (`AWS_ENDPOINT_URL` with the `AWS_ENDPOINT_URL_S3` cdklocal 3.x insists on, and the legacy
 * `LOCALSTACK_HOSTNAME`/`EDGE_PORT`/`USE_SSL` derived from the same URL); LocalStack's test
 * credentials and account. Every `AWS_*` variable of the shell is dropped first: a profile, a session
 * token, real keys or a service endpoint (`AWS_ENDPOINT_URL_STS`…) would send part of the deploy to a
 * real account. The CDK CLI's telemetry, notices and version check are off, so nothing but LocalStack
 * is contacted. The SDK's Node-version notice stays off in the children as in this command (the
 * user's own value of that switch is kept). LOCALSTACK_AUTH_TOKEN and everything else pass through
 * unchanged.
 */
export function cdklocalEnv(env: NodeJS.ProcessEnv, endpoints: LocalStackEndpoints): NodeJS.ProcessEnv {
  const kept: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('AWS_') && !LEGACY_ENDPOINT_VARIABLES.includes(key)) kept[key] = value;
  }
  const url = new URL(endpoints.url);
  const https = url.protocol === 'https:';
  const noProxy = [env.NO_PROXY ?? env.no_proxy, url.hostname, new URL(endpoints.s3).hostname].filter(Boolean).join(',');
  return {
    ...kept,
    AWS_ENDPOINT_URL: endpoints.url,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    LOCALSTACK_HOSTNAME: url.hostname,
    EDGE_PORT: url.port || (https ? '443' : '80'),
    USE_SSL: https ? '1' : '0',
    AWS_ENVAR_ALLOWLIST: CDKLOCAL_ALLOWLIST.join(','),
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    [SDK_NODE_WARNING_OPT_OUT]: env[SDK_NODE_WARNING_OPT_OUT] ?? 'true',
    CDK_DEFAULT_ACCOUNT: LOCAL_ACCOUNT_ID,
    CDK_DEFAULT_REGION: LOCAL_REGION,
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
    // A proxy from the shell must not stand between the CDK CLI and LocalStack.
    NO_PROXY: noProxy,
    no_proxy: noProxy,
  };
}

/**
 * Why this LocalStack cannot take the deploy, in one line; undefined when it can. A release that is
 * not a number (a development build) is given the benefit of the doubt.
 */
export function localStackProblem(health: LocalStackHealth, url: string): string | undefined {
  const minimum = localStackReleaseFor(ROTATION_RUNTIME);
  if (health.version !== undefined && parseRelease(health.version) && !releaseAtLeast(health.version, minimum)) {
    return (
      `LocalStack ${health.version} at ${url} cannot run ${ROTATION_RUNTIME.name}, the rotation functions' runtime: ` +
      `it needs LocalStack ${minimum} or later (docker-compose.yml pins one: \`docker compose pull && docker compose up -d --wait\`)`
    );
  }
  const off = LOCALSTACK_SERVICES.filter((s) => health.services[s] === 'disabled' || health.services[s] === 'error');
  if (off.length > 0) {
    return `LocalStack at ${url} reports ${off.map((s) => `${s} ${health.services[s]}`).join(', ')}: start it without a SERVICES restriction`;
  }
  return undefined;
}

/** The services the deploy uses. */
export const LOCALSTACK_SERVICES: readonly string[] = ['cloudformation', 'iam', 'lambda', 'logs', 's3', 'ssm', 'sts'];

const say = (line: string): void => {
  process.stderr.write(`localstack:deploy: ${line}\n`);
};

/** Runs cdklocal with its output filtered (no stack traces, the token masked); resolves to its exit code. */
function runCdklocal(cdklocal: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(cdklocal, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const pipe = (from: NodeJS.ReadableStream, to: NodeJS.WritableStream) => {
      const filter = cdkOutputFilter([env.LOCALSTACK_AUTH_TOKEN]);
      const lines = lineSplitter((line) => {
        const shown = filter(line);
        if (shown !== undefined) to.write(`${shown}\n`);
      });
      from.setEncoding('utf8');
      from.on('data', (chunk: string) => lines.push(chunk));
      from.on('end', () => lines.flush());
    };
    pipe(child.stdout, process.stdout);
    pipe(child.stderr, process.stderr);
    child.on('error', () => resolve(127));
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function deploy(env: NodeJS.ProcessEnv): Promise<number> {
  const url = (env.LOCALSTACK_URL?.trim() || DEFAULT_LOCALSTACK_URL).replace(/\/+$/, '');
  try {
    checkEndpointUrl(url);
  } catch {
    say(`LOCALSTACK_URL must be an http(s) URL without credentials, such as ${DEFAULT_LOCALSTACK_URL}`);
    return 1;
  }
  const cdklocal = join(ROOT, 'node_modules', '.bin', 'cdklocal');
  if (!existsSync(cdklocal)) {
    say('cdklocal is not installed: run `npm install --save-dev aws-cdk-local`');
    return 1;
  }
  const health = await readLocalStackHealth(url);
  if (health === undefined) {
    say(
      `LocalStack does not answer at ${url} (/_localstack/health): start it with \`docker compose up -d --wait\` (or set LOCALSTACK_URL)`,
    );
    if (!env.LOCALSTACK_AUTH_TOKEN?.trim()) say(AUTH_TOKEN_HINT);
    return 1;
  }
  const problem = localStackProblem(health, url);
  if (problem !== undefined) {
    say(problem);
    return 1;
  }
  const cdkEnv = cdklocalEnv(env, { url, s3: await localStackS3Endpoint(url) });
  const work = mkdtempSync(join(tmpdir(), 'localstack-deploy-'));
  const where = health.version !== undefined ? `LocalStack ${health.version} at ${url}` : `LocalStack at ${url}`;
  const failed = (step: string, code: number): number => {
    say(
      `cdklocal ${step} failed (exit ${code}) against ${where}: the ❌ line above says why; LocalStack's own log: \`docker compose logs localstack\``,
    );
    return 1;
  };
  try {
    // In an empty directory, so that no cdk.json makes bootstrap synthesize an app first.
    say(`cdklocal bootstrap (${where})…`);
    const bootstrap = await runCdklocal(cdklocal, ['bootstrap', `aws://${LOCAL_ACCOUNT_ID}/${LOCAL_REGION}`, '--no-notices'], work, cdkEnv);
    if (bootstrap !== 0) return failed('bootstrap', bootstrap);

    say('synthesizing the rotation functions…');
    const assembly = join(work, 'assembly');
    try {
      buildLocalStackApp(new App({ outdir: assembly })).app.synth();
    } catch (err) {
      say(`synth failed: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }

    say('cdklocal deploy…');
    const deployed = await runCdklocal(
      cdklocal,
      ['deploy', LOCALSTACK_STACK_NAME, '--app', assembly, '--require-approval', 'never', '--no-notices'],
      work,
      cdkEnv,
    );
    if (deployed !== 0) return failed('deploy', deployed);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  say(
    `done: ${selectScenarios()
      .map((s) => rotationFunctionName(s.engine, s.strategy))
      .join(', ')}. Now: LOCALSTACK_URL=${url} npm run rotate:local`,
  );
  return 0;
}

/** What `--help` prints. */
export const LOCALSTACK_DEPLOY_USAGE = `Usage: npm run localstack:deploy [-- --synth]

Deploys the four rotation functions into LocalStack with cdklocal, as <engine>-<strategy>-rotation, then
prints the rotate:local command that rotates through them.
  --synth     be the CDK app itself (cdklocal synth --app "npx tsx bin/localstack-deploy.ts --synth")
  -h, --help  print this and exit
Environment: LOCALSTACK_URL (default ${DEFAULT_LOCALSTACK_URL}); LOCALSTACK_AUTH_TOKEN for LocalStack 4.15 and later.`;

/** The command: `--help`, `--synth`, or the deploy; one line on any failure, never a trace. */
async function localStackDeployCli(argv: readonly string[]): Promise<number> {
  let line: ReturnType<typeof parseCommandLine<{ synth: { type: 'boolean' } }>>;
  try {
    line = parseCommandLine(argv, { synth: { type: 'boolean' } });
  } catch (err) {
    say(`${describeError(err)}\n${LOCALSTACK_DEPLOY_USAGE}`);
    return 2;
  }
  if (line.help) {
    process.stdout.write(`${LOCALSTACK_DEPLOY_USAGE}\n`);
    return 0;
  }
  if (line.flags.synth === true) {
    buildLocalStackApp().app.synth();
    return 0;
  }
  try {
    return await deploy(process.env);
  } catch (err) {
    // One line, never a trace, and no values (describeError keeps a foreign error's class and code).
    say(`failed: ${describeError(err)}`);
    return 1;
  }
}

if (require.main === module) runMain(localStackDeployCli);
