/**
 * The LocalStack stack cannot be deployed here (no Docker); its synthesized template is checked for
 * what `rotate:local` relies on when LOCALSTACK_URL is set.
 */
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { buildLocalStackApp, cdklocalEnv } from '../../bin/localstack-deploy';
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
      selectScenarios().map((s) => rotationFunctionName(s.engine, s.strategy)).sort(),
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

  it("points cdklocal at LocalStack's test account, whatever credentials the shell has", () => {
    const env = cdklocalEnv({ LOCALSTACK_URL: 'http://127.0.0.1:4566', AWS_PROFILE: 'prod', AWS_ACCESS_KEY_ID: 'AKIAREAL', AWS_SESSION_TOKEN: 't' });
    expect(env.AWS_PROFILE).toBeUndefined();
    expect(env.AWS_SESSION_TOKEN).toBeUndefined();
    expect(env).toMatchObject({
      AWS_ENDPOINT_URL: 'http://127.0.0.1:4566',
      AWS_ACCESS_KEY_ID: 'test',
      CDK_DEFAULT_ACCOUNT: '000000000000',
      CDK_DEFAULT_REGION: 'us-east-1',
    });
  });
});
