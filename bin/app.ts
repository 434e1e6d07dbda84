/**
 * The CDK app: the shared rotation functions and the example databases that use them. Env-agnostic, no
 * lookups, local esbuild: `npx cdk synth` works offline on a fresh clone with no credentials and no Docker.
 * Pass `-c nag=true` to run cdk-nag's AwsSolutions checks during synth.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { EXAMPLE_SECRET_PREFIX, ExampleDatabaseStack } from '../lib/example-database-stack';
import { RotationStack, type RotationStackProps } from '../lib/rotation-stack';

export interface ExampleApp {
  readonly app: App;
  readonly rotation: RotationStack;
  readonly example: ExampleDatabaseStack;
}

export function buildApp(app: App = new App(), rotationProps: RotationStackProps = {}): ExampleApp {
  const rotation = new RotationStack(app, 'DbSecretRotation', {
    description: 'Shared rotation functions for PostgreSQL and MySQL secrets',
    sharedSecretNamePattern: `${EXAMPLE_SECRET_PREFIX}/*`,
    ...rotationProps,
  });
  const example = new ExampleDatabaseStack(app, 'DbSecretRotationExample', {
    description: 'Example RDS PostgreSQL and MySQL with rotated master and application secrets',
    rotation,
  });
  return { app, rotation, example };
}

if (require.main === module) {
  const { app } = buildApp();
  const nag: unknown = app.node.tryGetContext('nag');
  if (nag === true || nag === 'true') Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}
