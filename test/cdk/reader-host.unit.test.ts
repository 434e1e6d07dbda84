/** `readerHost`: the function may ask the RDS API whether the secret's host reads from the master's database. */
import { Template } from 'aws-cdk-lib/assertions';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { DatabaseSecretRotation, RotationEngine, RotationStrategy } from '../../lib';
import { STUB_ENTRY, policyStatements, unbundledStack } from '../support/cdk-test-helpers';

function rotationPolicy(template: Template): { Action: unknown; Resource: unknown }[] {
  const [id] = Object.keys(policyStatements(template)).filter((k) => k.startsWith('RPolicy'));
  return policyStatements(template)[id!] as { Action: unknown; Resource: unknown }[];
}

describe('DatabaseSecretRotation readerHost', () => {
  it('grants the RDS describe calls on the given ARNs, and nothing more for the master', () => {
    const stack = unbundledStack();
    const arns = ['arn:aws:rds:us-east-1:111122223333:cluster:orders', 'arn:aws:rds:us-east-1:111122223333:db:orders-2'];
    new DatabaseSecretRotation(stack, 'R', {
      secret: new secretsmanager.Secret(stack, 'User'),
      masterSecret: new secretsmanager.Secret(stack, 'Master'),
      engine: RotationEngine.MYSQL,
      strategy: RotationStrategy.ALTERNATING_USERS,
      readerHost: true,
      rdsResourceArns: arns,
      entry: STUB_ENTRY,
    } as never);
    const statements = rotationPolicy(Template.fromStack(stack));
    expect(statements[1]).toMatchObject({ Action: 'secretsmanager:GetSecretValue' });
    expect(statements[2]).toEqual({ Action: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'], Effect: 'Allow', Resource: arns });
  });

  it('grants no RDS call without it', () => {
    const stack = unbundledStack();
    new DatabaseSecretRotation(stack, 'R', {
      secret: new secretsmanager.Secret(stack, 'User'),
      masterSecret: new secretsmanager.Secret(stack, 'Master'),
      engine: RotationEngine.MYSQL,
      strategy: RotationStrategy.ALTERNATING_USERS,
      entry: STUB_ENTRY,
    } as never);
    expect(JSON.stringify(rotationPolicy(Template.fromStack(stack)))).not.toContain('rds:');
  });

  it('is refused for single-user rotation', () => {
    const stack = unbundledStack();
    expect(
      () =>
        new DatabaseSecretRotation(stack, 'R', {
          secret: new secretsmanager.Secret(stack, 'User'),
          engine: RotationEngine.MYSQL,
          readerHost: true,
          entry: STUB_ENTRY,
        } as never),
    ).toThrow(/readerHost applies to alternating users only/);
  });
});
