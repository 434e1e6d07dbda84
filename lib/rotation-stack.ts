/**
 * The shared rotation functions: one per engine and strategy, in the VPC of the databases. The VPC is
 * given as a prop, or as context (`rotation:vpcId`, `rotation:availabilityZones`, `rotation:privateSubnetIds`,
 * imported WITHOUT a lookup so synth stays offline), or created here with flow logs and isolated subnets only
 * (no NAT to pay for: the app stacks add a Secrets Manager interface endpoint, and synth fails until one exists).
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ConfigError } from '../shared/errors';
import { RotationEngine, RotationStrategy } from './rotation-engine';
import { RotationFunction, type RotationFunctionOptions } from './rotation-function';

/** Which shared functions the stack deploys, and where. */
export interface RotationStackProps extends StackProps {
  /** @default the VPC named by context, else a new one */
  readonly vpc?: ec2.IVpc;
  /** Settings shared by every function (not vpc: that is the stack's). */
  readonly functionOptions?: Omit<RotationFunctionOptions, 'vpc'>;
  /**
   * One invoke permission per function for every secret whose name matches (e.g. `myapp/*`).
   * @default each secret's DatabaseSecretRotation adds its own permission
   */
  readonly sharedSecretNamePattern?: string;
  /** @default both engines */
  readonly engines?: RotationEngine[];
  /** @default both strategies */
  readonly strategies?: RotationStrategy[];
  /** Handler entry files per engine, for a customised handler build. @default the toolkit's handlers */
  readonly entries?: Partial<Record<RotationEngine, string>>;
}

/** Context keys naming an existing VPC. */
export const VPC_CONTEXT = {
  vpcId: 'rotation:vpcId',
  availabilityZones: 'rotation:availabilityZones',
  privateSubnetIds: 'rotation:privateSubnetIds',
} as const;

/**
 * The shared rotation functions of an account: one `RotationFunction` per engine and strategy, in the
 * databases' VPC (given, named by `VPC_CONTEXT`, or new). Secrets use them through `functionFor`.
 *
 * @example
 * const rotation = new RotationStack(app, 'DbSecretRotation', { vpc, sharedSecretNamePattern: 'myapp/*' });
 * new DatabaseSecretRotation(appStack, 'AppRotation', {
 *   secret: appSecret,
 *   engine: RotationEngine.MYSQL,
 *   rotationFunction: rotation.functionFor(RotationEngine.MYSQL, RotationStrategy.SINGLE_USER),
 * });
 */
export class RotationStack extends Stack {
  readonly vpc: ec2.IVpc;
  readonly functions: readonly RotationFunction[];

  constructor(scope: Construct, id: string, props: RotationStackProps = {}) {
    super(scope, id, props);
    this.vpc = props.vpc ?? vpcFromContext(this) ?? createRotationVpc(this);
    const functions: RotationFunction[] = [];
    for (const engine of props.engines ?? [RotationEngine.POSTGRES, RotationEngine.MYSQL]) {
      for (const strategy of props.strategies ?? [RotationStrategy.SINGLE_USER, RotationStrategy.ALTERNATING_USERS]) {
        functions.push(
          new RotationFunction(this, functionId(engine, strategy), {
            ...props.functionOptions,
            vpc: this.vpc,
            engine,
            strategy,
            sharedSecretNamePattern: props.sharedSecretNamePattern,
            entry: props.entries?.[engine],
          }),
        );
      }
    }
    this.functions = functions;
  }

  /** The shared function for an engine and strategy, or a ConfigError when this stack did not deploy one. */
  functionFor(engine: RotationEngine, strategy: RotationStrategy): RotationFunction {
    const fn = this.functions.find((f) => f.engine === engine && f.strategy === strategy);
    if (!fn) throw new ConfigError(`${this.stackName} has no ${engine} ${strategy} rotation function`);
    return fn;
  }
}

function functionId(engine: RotationEngine, strategy: RotationStrategy): string {
  const pascal = (s: string): string =>
    s
      .split('-')
      .map((w) => w[0].toUpperCase() + w.slice(1))
      .join('');
  return `${pascal(engine)}${pascal(strategy)}`;
}

function vpcFromContext(scope: Construct): ec2.IVpc | undefined {
  const vpcId = scope.node.tryGetContext(VPC_CONTEXT.vpcId) as string | undefined;
  if (vpcId === undefined) return undefined;
  const list = (key: string): string[] => {
    const value: unknown = scope.node.tryGetContext(key);
    const items =
      typeof value === 'string'
        ? value
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : value;
    if (!Array.isArray(items) || items.length === 0 || !items.every((i) => typeof i === 'string')) {
      throw new ConfigError(`Context ${key} must list at least one value (JSON array or comma-separated) when ${VPC_CONTEXT.vpcId} is set`);
    }
    return items as string[];
  };
  return ec2.Vpc.fromVpcAttributes(scope, 'Vpc', {
    vpcId,
    availabilityZones: list(VPC_CONTEXT.availabilityZones),
    privateSubnetIds: list(VPC_CONTEXT.privateSubnetIds),
  });
}

function createRotationVpc(scope: Construct): ec2.Vpc {
  return new ec2.Vpc(scope, 'Vpc', {
    maxAzs: 2,
    natGateways: 0,
    subnetConfiguration: [{ name: 'isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }],
    flowLogs: {
      rejected: {
        destination: ec2.FlowLogDestination.toCloudWatchLogs(
          new logs.LogGroup(scope, 'FlowLogs', { retention: logs.RetentionDays.THREE_MONTHS }),
        ),
        trafficType: ec2.FlowLogTrafficType.REJECT,
      },
    },
  });
}
