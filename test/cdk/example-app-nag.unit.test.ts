/**
 * The example app under cdk-nag v3's AwsSolutions pack. v3 reports through CDK's Validations: `synth()`
 * throws on an unacknowledged finding and writes validation-report.json; annotations see nothing.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildApp } from '../../bin/app';
import { DatabaseSecretRotation, RotationEngine, RotationStrategy } from '../../lib';
import { STUB_ENTRY } from '../support/cdk-test-helpers';

interface Violation {
  ruleName: string;
  reason?: string;
  acknowledgedId?: string;
  violatingConstructs: { constructPath: string }[];
}
interface Report {
  pluginReports: { pluginName: string; conclusion: string; violations: Violation[]; suppressedViolations?: Violation[] }[];
}

describe('the example app under cdk-nag AwsSolutionsChecks', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-nag-'));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const { rotation, example } = buildApp(app);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  let synthError: unknown;
  try {
    app.synth();
  } catch (err) {
    synthError = err;
  }
  const reportFile = path.join(outdir, 'validation-report.json');
  const report = JSON.parse(fs.readFileSync(reportFile, 'utf8')) as Report;
  const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('synthesizes with zero unacknowledged findings', () => {
    expect(synthError).toBeUndefined();
    expect(nag.conclusion).toBe('success');
    expect(nag.violations).toEqual([]);
  });

  it('acknowledges exactly the expected findings, each with its reason', () => {
    const acknowledged = (nag.suppressedViolations ?? []).flatMap((v) =>
      v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath.replace(/\/Resource$/, '')}`),
    );
    const functions = ['PostgresSingleUser', 'PostgresAlternatingUsers', 'MysqlSingleUser', 'MysqlAlternatingUsers'];
    expect(acknowledged.sort()).toEqual(
      [
        ...functions.flatMap((f) => [`AwsSolutions-IAM5[Resource::*] DbSecretRotation/${f}/VpcNetworkInterfacesPolicy`]),
        ...['Postgres', 'Mysql'].flatMap((db) => [
          `AwsSolutions-RDS10 DbSecretRotationExample/${db}`,
          `AwsSolutions-RDS11 DbSecretRotationExample/${db}`,
          `AwsSolutions-RDS3 DbSecretRotationExample/${db}`,
        ]),
      ].sort(),
    );
    for (const v of nag.suppressedViolations ?? []) {
      expect(v.reason?.trim().length).toBeGreaterThan(20);
      expect(v.acknowledgedId).toBe(`AwsSolutions::${v.ruleName}`);
    }
  });

  it('rotates every secret of the example (SMG4 passes without acknowledgement)', () => {
    const template = Template.fromStack(example);
    const secrets = Object.keys(template.findResources('AWS::SecretsManager::Secret'));
    expect(secrets).toHaveLength(6);
    template.resourceCountIs('AWS::SecretsManager::RotationSchedule', 6);
  });

  it('bakes no Secrets Manager endpoint and no secret value into any template', () => {
    for (const stack of [rotation, example]) {
      const json = JSON.stringify(Template.fromStack(stack).toJSON());
      expect(json).not.toContain('SECRETS_MANAGER_ENDPOINT');
      expect(json).not.toMatch(/"SecretString"/);
      expect(json).not.toContain('AWS::Serverless');
    }
  });

  it('keeps the stacks env-agnostic (offline synth, no lookups)', () => {
    for (const stack of [rotation, example]) {
      expect(stack.environment).toBe('aws://unknown-account/unknown-region');
    }
    expect(fs.existsSync(path.join(outdir, 'cdk.context.json'))).toBe(false);
  });
});

describe('cdk-nag on the wildcards a user can opt into', () => {
  it("acknowledges an account-wide RDS describe and X-Ray tracing; an imported secret's -?????? is no finding", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-nag-'));
    try {
      const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
      const stack = new Stack(app, 'User');
      new DatabaseSecretRotation(stack, 'R', {
        secret: secretsmanager.Secret.fromSecretNameV2(stack, 'User', 'myapp/app'),
        masterSecret: secretsmanager.Secret.fromSecretNameV2(stack, 'Master', 'myapp/master'),
        engine: RotationEngine.POSTGRES,
        strategy: RotationStrategy.ALTERNATING_USERS,
        resolveRdsManagedMaster: true,
        tracing: lambda.Tracing.ACTIVE,
        entry: STUB_ENTRY,
      } as never);
      Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
      expect(() => app.synth()).not.toThrow();
      const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as Report;
      const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
      expect(nag.violations).toEqual([]);
      expect((nag.suppressedViolations ?? []).map((v) => v.ruleName).sort()).toEqual([
        'AwsSolutions-IAM5[Resource::*]', // X-Ray, on the role's default policy
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:cluster:*]',
        'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:rds:<AWS::Region>:<AWS::AccountId>:db:*]',
      ]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});
