/**
 * The ONE place the rotation functions' Lambda runtime is chosen. Bump it together with aws-cdk-lib:
 * cdk-nag's AwsSolutions-L1 fails as soon as the installed aws-cdk-lib knows a newer Node.js runtime,
 * which is the signal to move (and the CI run on the local Node proves the code still works).
 */
import * as lambda from 'aws-cdk-lib/aws-lambda';

export const ROTATION_RUNTIME: lambda.Runtime = lambda.Runtime.NODEJS_24_X;

/** esbuild's target for the runtime above, so the bundle uses exactly the syntax the runtime supports. */
export const ROTATION_BUNDLING_TARGET: string = esbuildTargetFor(ROTATION_RUNTIME);

export function esbuildTargetFor(runtime: lambda.Runtime): string {
  const match = /^nodejs(\d+)\.x$/.exec(runtime.name);
  if (!match) throw new Error(`${runtime.name} is not a versioned Node.js runtime`);
  return `node${match[1]}`;
}

/**
 * The first LocalStack release whose Lambda service accepts each Node.js runtime, as `major.minor.patch`
 * (read from the history of `services/lambda_/runtimes.py` in localstack/localstack: nodejs22.x arrived
 * in 4.0.3, nodejs24.x in 4.11.0). docker-compose.yml must run at least the entry for
 * {@link ROTATION_RUNTIME}, and `localstack:deploy` refuses an older LocalStack before CloudFormation
 * would reject the functions; a test ties the compose file to this table, so bumping the runtime
 * without adding its LocalStack release here fails CI.
 */
export const LOCALSTACK_FIRST_RELEASE: Readonly<Record<string, string>> = {
  'nodejs22.x': '4.0.3',
  'nodejs24.x': '4.11.0',
};

/**
 * The oldest LocalStack release that runs functions on `runtime`.
 * @param runtime defaults to {@link ROTATION_RUNTIME}
 * @throws Error when the table above does not know the runtime (add its LocalStack release first)
 */
export function localStackReleaseFor(runtime: lambda.Runtime = ROTATION_RUNTIME): string {
  const release = LOCALSTACK_FIRST_RELEASE[runtime.name];
  if (release === undefined) {
    throw new Error(`No known LocalStack release runs ${runtime.name}: add it to LOCALSTACK_FIRST_RELEASE in lib/runtime.ts`);
  }
  return release;
}
