#!/usr/bin/env node
/**
 * `npm run localstack:deploy`: deploys the four rotation functions into LocalStack with `cdklocal`
 * (from `aws-cdk-local`), under the names `rotate:local` attaches: `<engine>-<strategy>-rotation`.
 * Afterwards `LOCALSTACK_URL=… npm run rotate:local` rotates through them and verifies from outside.
 *
 * LocalStack's CloudFormation rotation schedule does nothing on deploy, so this stack attaches no
 * secret: rotate:local calls RotateSecret itself. The functions are not in a VPC: LocalStack runs each
 * in a container on LAMBDA_DOCKER_NETWORK (docker-compose.yml), which reaches the databases by service
 * name. TLS is off because the compose databases have none. Never run here (no Docker on the project's
 * machines): only synthesized by test/local/localstack-deploy.test.ts.
 *
 * With `--synth` this file is the CDK app itself (cdklocal runs it as `--app`).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App, Stack, type StackProps } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { DbTlsMode, RotationEngine, RotationStrategy } from '../lib/rotation-engine';
import { RotationFunction } from '../lib/rotation-function';
import {
  LOCAL_ACCOUNT_ID,
  LOCAL_REGION,
  rotationFunctionName,
  selectScenarios,
  type DemoEngine,
  type DemoStrategy,
} from '../local/rotate-local/scenarios';

export const LOCALSTACK_STACK_NAME = 'DbSecretRotationLocalStack';
const DEFAULT_LOCALSTACK_URL = 'http://localhost:4566';
const ROOT = join(__dirname, '..');

const ENGINES: Readonly<Record<DemoEngine, RotationEngine>> = { postgres: RotationEngine.POSTGRES, mysql: RotationEngine.MYSQL };
const STRATEGIES: Readonly<Record<DemoStrategy, RotationStrategy>> = {
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

/** The environment cdklocal needs: LocalStack's endpoint and its fixed test account. */
export function cdklocalEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const url = env.LOCALSTACK_URL?.trim() || DEFAULT_LOCALSTACK_URL;
  // A profile or session token from the shell would send the deploy to a real account.
  const { AWS_PROFILE: _profile, AWS_SESSION_TOKEN: _token, ...rest } = env;
  return {
    ...rest,
    AWS_ENDPOINT_URL: url,
    AWS_REGION: LOCAL_REGION,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    CDK_DEFAULT_ACCOUNT: LOCAL_ACCOUNT_ID,
    CDK_DEFAULT_REGION: LOCAL_REGION,
  };
}

async function deploy(): Promise<number> {
  const env = cdklocalEnv(process.env);
  const cdklocal = join(ROOT, 'node_modules', '.bin', 'cdklocal');
  if (!existsSync(cdklocal)) {
    console.error('localstack:deploy: cdklocal is not installed: run `npm install --save-dev aws-cdk-local`');
    return 1;
  }
  try {
    const health = await fetch(`${env.AWS_ENDPOINT_URL}/_localstack/health`);
    if (!health.ok) throw new Error(`HTTP ${health.status}`);
  } catch {
    console.error(`localstack:deploy: LocalStack is not reachable at ${env.AWS_ENDPOINT_URL}: start it with \`docker compose up -d --wait\``);
    return 1;
  }
  const app = `npx tsx ${join('bin', 'localstack-deploy.ts')} --synth`;
  for (const args of [
    ['bootstrap', `aws://${LOCAL_ACCOUNT_ID}/${LOCAL_REGION}`, '--app', app],
    ['deploy', LOCALSTACK_STACK_NAME, '--app', app, '--require-approval', 'never'],
  ]) {
    console.error(`localstack:deploy: cdklocal ${args[0]}…`);
    const run = spawnSync(cdklocal, args, { cwd: ROOT, env, stdio: 'inherit' });
    if (run.status !== 0) {
      console.error(`localstack:deploy: cdklocal ${args[0]} failed (exit ${run.status ?? 'signal'})`);
      return 1;
    }
  }
  console.error(`localstack:deploy: done. Now: LOCALSTACK_URL=${env.AWS_ENDPOINT_URL} npm run rotate:local`);
  return 0;
}

if (require.main === module) {
  if (process.argv.includes('--synth')) {
    buildLocalStackApp().app.synth();
  } else {
    void deploy().then((code) => {
      process.exitCode = code;
    });
  }
}
