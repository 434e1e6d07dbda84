/**
 * Security properties of every synthesized template (the example app, plus a traced VPC function and an
 * RDS-managed master of unknown instance): wildcard resources only from the acknowledged list, every
 * invoke permission for Secrets Manager bound by SourceAccount AND SourceArn, and no secret value in any
 * environment variable or anywhere in a template. Synthesized without bundling.
 */
import { Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { buildApp } from '../../bin/app';
import { DatabaseSecretRotation, RotationEngine, RotationStrategy } from '../../lib';
import { VPC_NETWORK_INTERFACE_ACTIONS } from '../../lib/rotation-function';
import { STUB_ENTRY, unbundledApp } from '../support/cdk-test-helpers';
import { recordFigure } from '../support/figures';

type Json = unknown;
interface Resource {
  readonly Type: string;
  readonly Properties?: Record<string, Json>;
}
interface Statement {
  readonly Action?: string | string[];
  readonly Resource?: Json;
  readonly Effect?: string;
}

/** Where AWS allows nothing narrower than a wildcard (the CDK issue's acknowledged list). */
const ACKNOWLEDGED_STAR_ACTIONS = new Set([...VPC_NETWORK_INTERFACE_ACTIONS, 'xray:PutTraceSegments', 'xray:PutTelemetryRecords']);
/** RDS-managed masters of unknown instance: any instance or cluster of the account, acknowledged. */
const ACKNOWLEDGED_PATTERN_ACTIONS = new Set(['rds:DescribeDBInstances', 'rds:DescribeDBClusters']);

function templates(): Array<{ name: string; resources: Record<string, Resource>; text: string }> {
  const app = unbundledApp();
  buildApp(app);
  const extra = new Stack(app, 'ReliabilityExtras');
  const vpc = new ec2.Vpc(extra, 'Vpc', { maxAzs: 2, natGateways: 1 });
  new DatabaseSecretRotation(extra, 'Traced', {
    secret: new secretsmanager.Secret(extra, 'TracedSecret'),
    engine: RotationEngine.MYSQL,
    vpc,
    entry: STUB_ENTRY,
    tracing: lambda.Tracing.ACTIVE,
  } as never);
  new DatabaseSecretRotation(extra, 'RdsManaged', {
    secret: new secretsmanager.Secret(extra, 'User'),
    masterSecret: new secretsmanager.Secret(extra, 'Master'),
    engine: RotationEngine.POSTGRES,
    strategy: RotationStrategy.ALTERNATING_USERS,
    resolveRdsManagedMaster: true,
    entry: STUB_ENTRY,
  } as never);
  const assembly = app.synth();
  return assembly.stacks.map((s) => {
    const template = s.template as { Resources?: Record<string, Resource> };
    return { name: s.stackName, resources: template.Resources ?? {}, text: JSON.stringify(s.template) };
  });
}

function statementsOf(resources: Record<string, Resource>): Array<{ id: string; statement: Statement }> {
  const out: Array<{ id: string; statement: Statement }> = [];
  for (const [id, r] of Object.entries(resources)) {
    const documents: Json[] = [];
    if (r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') documents.push(r.Properties?.PolicyDocument);
    if (r.Type === 'AWS::IAM::Role') {
      for (const p of (r.Properties?.Policies as Array<{ PolicyDocument: Json }> | undefined) ?? []) documents.push(p.PolicyDocument);
    }
    for (const d of documents) {
      for (const statement of (d as { Statement?: Statement[] } | undefined)?.Statement ?? []) out.push({ id, statement });
    }
  }
  return out;
}

/** A resource's text with every intrinsic flattened, so `…:db:*` built by Fn::Join counts as a wildcard. */
function flatten(value: Json): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(flatten).join('');
  if (value !== null && typeof value === 'object') {
    const join = (value as Record<string, Json>)['Fn::Join'];
    if (Array.isArray(join) && Array.isArray(join[1])) return (join[1] as Json[]).map(flatten).join(String(join[0]));
    return `<${Object.keys(value as object).join(',')}>`;
  }
  return String(value);
}

function resourcesOf(statement: Statement): string[] {
  const r = statement.Resource;
  return (Array.isArray(r) ? r : r === undefined ? [] : [r]).map(flatten);
}

function actionsOf(statement: Statement): string[] {
  const a = statement.Action;
  return Array.isArray(a) ? a : a === undefined ? [] : [a];
}

const synthesized = templates();

describe('synthesized templates: security properties', () => {
  it('uses "*" as a resource only for the acknowledged actions', () => {
    const unacknowledged: string[] = [];
    let stars = 0;
    for (const t of synthesized) {
      for (const { id, statement } of statementsOf(t.resources)) {
        if (!resourcesOf(statement).includes('*')) continue;
        stars += 1;
        for (const action of actionsOf(statement)) {
          if (!ACKNOWLEDGED_STAR_ACTIONS.has(action)) unacknowledged.push(`${t.name}/${id}: ${action} on *`);
        }
      }
    }
    expect(unacknowledged).toEqual([]);
    expect(stars).toBeGreaterThan(0);
    recordFigure('templates.starStatements', stars);
  });

  it("uses a wildcard inside an ARN only for a shared function's secret prefix or the acknowledged RDS describe", () => {
    const unexpected: string[] = [];
    let patterns = 0;
    for (const t of synthesized) {
      for (const { id, statement } of statementsOf(t.resources)) {
        for (const resource of resourcesOf(statement).filter((r) => r !== '*' && /[*?]/.test(r))) {
          patterns += 1;
          const actions = actionsOf(statement);
          const rdsDescribe = actions.every((a) => ACKNOWLEDGED_PATTERN_ACTIONS.has(a)) && /:rds:.*:(db|cluster):\*$/.test(resource);
          // A secret ARN's random suffix (`-??????`) or the user's shared-function name pattern.
          const secretPattern = actions.every((a) => a.startsWith('secretsmanager:')) && /:secret:[^*]*(\*|-\?{6})$/.test(resource);
          const logStreams = actions.every((a) => a.startsWith('logs:')) && /:log-group:.*:\*$|<Fn::GetAtt>:\*$/.test(resource);
          if (!rdsDescribe && !secretPattern && !logStreams) unexpected.push(`${t.name}/${id}: ${actions.join(',')} on ${resource}`);
        }
      }
    }
    expect(unexpected).toEqual([]);
    // The extras stack's RDS describe (instances and clusters); the example's secrets are named exactly.
    expect(patterns).toBeGreaterThanOrEqual(2);
    recordFigure('templates.patternResources', patterns);
  });

  it('binds every invoke permission for Secrets Manager with SourceAccount and SourceArn', () => {
    const permissions = synthesized.flatMap((t) =>
      Object.entries(t.resources)
        .filter(([, r]) => r.Type === 'AWS::Lambda::Permission' && r.Properties?.Principal === 'secretsmanager.amazonaws.com')
        .map(([id, r]) => ({ id: `${t.name}/${id}`, properties: r.Properties ?? {} })),
    );
    expect(permissions.length).toBeGreaterThanOrEqual(3);
    for (const p of permissions) {
      expect({
        id: p.id,
        sourceAccount: p.properties.SourceAccount !== undefined,
        sourceArn: p.properties.SourceArn !== undefined,
      }).toEqual({
        id: p.id,
        sourceAccount: true,
        sourceArn: true,
      });
      expect(p.properties.SourceAccount).toEqual({ Ref: 'AWS::AccountId' });
      expect(flatten(p.properties.SourceArn)).toMatch(/:secretsmanager:.*:secret:|^<Ref>$/);
    }
    recordFigure('templates.invokePermissions', permissions.length);
  });

  it('puts no secret value in any environment variable', () => {
    const findings: string[] = [];
    let variables = 0;
    for (const t of synthesized) {
      for (const [id, r] of Object.entries(t.resources)) {
        if (r.Type !== 'AWS::Lambda::Function') continue;
        const vars = ((r.Properties?.Environment as { Variables?: Record<string, Json> } | undefined)?.Variables ?? {}) as Record<
          string,
          Json
        >;
        for (const [name, value] of Object.entries(vars)) {
          variables += 1;
          if (/PASSWORD(?!_)|SECRET_?(STRING|VALUE)|CREDENTIAL|TOKEN/i.test(name)) findings.push(`${t.name}/${id}: variable ${name}`);
          if (typeof value === 'string' && /"password"\s*:/i.test(value)) findings.push(`${t.name}/${id}: ${name} holds a secret JSON`);
        }
      }
    }
    expect(findings).toEqual([]);
    expect(variables).toBeGreaterThan(0);
  });

  it('puts no secret value anywhere in a template: secrets are generated, never given as SecretString', () => {
    const findings: string[] = [];
    for (const t of synthesized) {
      for (const [id, r] of Object.entries(t.resources)) {
        if (r.Type === 'AWS::SecretsManager::Secret' && r.Properties?.SecretString !== undefined)
          findings.push(`${t.name}/${id}: SecretString`);
        if (r.Type === 'AWS::RDS::DBInstance' && typeof r.Properties?.MasterUserPassword === 'string')
          findings.push(`${t.name}/${id}: literal MasterUserPassword`);
      }
      if (/"password"\s*:\s*"[^"{]/i.test(t.text.replace(/\\"/g, '"'))) findings.push(`${t.name}: a literal "password" value`);
    }
    expect(findings).toEqual([]);
    recordFigure('templates.scanned', synthesized.length);
  });
});
