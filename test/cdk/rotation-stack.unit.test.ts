import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RotationEngine, RotationStack, RotationStrategy, VPC_CONTEXT } from '../../lib';
import { buildApp } from '../../bin/app';
import { STUB_ENTRY } from '../support/cdk-test-helpers';

const entries = { [RotationEngine.POSTGRES]: STUB_ENTRY, [RotationEngine.MYSQL]: STUB_ENTRY };

describe('RotationStack', () => {
  it('imports the VPC named by context without a lookup and deploys one function per engine and strategy', () => {
    const app = new App({
      context: {
        'aws:cdk:bundling-stacks': [],
        [VPC_CONTEXT.vpcId]: 'vpc-0123456789abcdef0',
        [VPC_CONTEXT.availabilityZones]: 'eu-west-1a,eu-west-1b',
        [VPC_CONTEXT.privateSubnetIds]: ['subnet-aaaa', 'subnet-bbbb'],
      },
    });
    const stack = new RotationStack(app, 'Rotation', { entries });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.resourceCountIs('AWS::Lambda::Function', 4);
    template.allResourcesProperties('AWS::Lambda::Function', {
      VpcConfig: Match.objectLike({ SubnetIds: ['subnet-aaaa', 'subnet-bbbb'] }),
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroup', { VpcId: 'vpc-0123456789abcdef0' });
    expect(stack.functionFor(RotationEngine.MYSQL, RotationStrategy.ALTERNATING_USERS).strategy).toBe(RotationStrategy.ALTERNATING_USERS);
    template.resourceCountIs('AWS::Lambda::Permission', 0);
  });

  it("the repository's app synthesizes on a context VPC, as deploy.md shows: the example databases go in its private subnets", () => {
    const app = new App({
      context: {
        'aws:cdk:bundling-stacks': [],
        [VPC_CONTEXT.vpcId]: 'vpc-0123456789abcdef0',
        [VPC_CONTEXT.availabilityZones]: 'eu-west-1a,eu-west-1b',
        [VPC_CONTEXT.privateSubnetIds]: 'subnet-aaaa,subnet-bbbb',
      },
    });
    const { example } = buildApp(app);
    const template = Template.fromStack(example);
    template.resourceCountIs('AWS::RDS::DBInstance', 2);
    template.allResourcesProperties('AWS::RDS::DBSubnetGroup', { SubnetIds: ['subnet-aaaa', 'subnet-bbbb'] });
  });

  it('refuses a context VPC without its subnets', () => {
    const app = new App({ context: { [VPC_CONTEXT.vpcId]: 'vpc-1', [VPC_CONTEXT.availabilityZones]: ['a'] } });
    expect(() => new RotationStack(app, 'Rotation', { entries })).toThrow(/rotation:privateSubnetIds must list at least one value/);
  });

  it('creates an isolated VPC with flow logs, and then insists on a Secrets Manager endpoint', () => {
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new RotationStack(app, 'Rotation', {
      entries,
      engines: [RotationEngine.POSTGRES],
      strategies: [RotationStrategy.SINGLE_USER],
      sharedSecretNamePattern: 'app/*',
    });
    expect(() => Template.fromStack(stack)).toThrow(/cannot reach Secrets Manager/);
    expect(() => stack.functionFor(RotationEngine.MYSQL, RotationStrategy.SINGLE_USER)).toThrow(
      /has no mysql single-user rotation function/,
    );

    const withEndpoint = new RotationStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Rotation', {
      entries,
      engines: [RotationEngine.POSTGRES],
      strategies: [RotationStrategy.SINGLE_USER],
      sharedSecretNamePattern: 'app/*',
      functionOptions: { createSecretsManagerEndpoint: true },
    });
    const template = Template.fromStack(withEndpoint);
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
    template.resourceCountIs('AWS::Lambda::Permission', 1);
  });
});
