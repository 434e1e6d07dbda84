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
