/**
 * One rotation Lambda for one engine and strategy: our own handler (no SAR, no transform), pre-built
 * inside the package at prepack, or bundled from source by the local esbuild when asked (or in a source
 * checkout), with the same esbuild options either way (lib/rotation-bundling.ts); an explicit role (no
 * managed policies), its own log group, and the password policy and TLS mode as environment variables.
 * It bakes in no Secrets Manager endpoint: the SDK's own endpoint chain then works on AWS, on LocalStack
 * (which injects AWS_ENDPOINT_URL) and on the embedded endpoint.
 */
import * as path from 'path';
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { EngineFamily } from '../shared/database-secret';
import { ConfigError } from '../shared/errors';
import { ROTATION_ENV } from '../shared/rotation/rotation-settings';
import {
  type PasswordPolicy,
  passwordPolicyToEnv,
  resolvePasswordPolicy,
  validatePasswordPolicy,
} from '../shared/rotation/password-policy';
import { assertLocalEsbuild, findLockFile, resolveRotationEntry } from './local-bundling';
import { acknowledgeNagFinding } from './nag-acknowledgement';
import {
  ROTATION_EXTERNAL_MODULES,
  aliasArgs,
  hasPrebuiltBundle,
  prebuiltBundleDirectory,
  rotationBundleSettings,
  shimAliases,
  toNodejsBundlingOptions,
} from './rotation-bundling';
import { DbTlsMode, RotationEngine, RotationStrategy, assertEnumProp } from './rotation-engine';
import { ROTATION_RUNTIME } from './runtime';
import { isIsolatedSelection, noRouteMessage } from './secrets-manager-route';

/** The function settings a user may need to own; everything else is the toolkit's. */
export interface RotationFunctionOptions {
  /** @default a new role with exactly the statements this toolkit needs, no managed policies */
  readonly role?: iam.IRole;
  /** Applied to the role this construct creates (and to `role` when it is a Role of this app). */
  readonly permissionsBoundary?: iam.IManagedPolicy;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default Duration.seconds(60): a VPC cold start, a TLS login and four steps fit with room to spare */
  readonly timeout?: Duration;
  /** @default lambda.Architecture.ARM_64 */
  readonly architecture?: lambda.Architecture;
  /** @default lambda.Tracing.DISABLED */
  readonly tracing?: lambda.Tracing;
  /** @default no reservation */
  readonly reservedConcurrentExecutions?: number;
  /** The VPC of the database. @default not in a VPC (the database must then be publicly reachable) */
  readonly vpc?: ec2.IVpc;
  /** @default the VPC's default selection (private subnets with egress when it has them) */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** @default a new security group, exposed as `securityGroup` */
  readonly securityGroups?: ec2.ISecurityGroup[];
  /** @default CloudFormation-generated */
  readonly functionName?: string;
  /** Retention of the function's own log group. @default logs.RetentionDays.THREE_MONTHS */
  readonly logRetention?: logs.RetentionDays;
  /** The password generator's settings, validated for the engine at synth. @default the engine's AWS defaults */
  readonly passwordPolicy?: PasswordPolicy;
  /** @default DbTlsMode.VERIFY_FULL */
  readonly tlsMode?: DbTlsMode;
  /** The SQL testSecret runs with the new password. @default the handler's own (`SELECT 1`-like) */
  readonly testQuery?: string;
  /** An existing Secrets Manager interface endpoint the function uses (its security group is opened to it). */
  readonly endpoint?: ec2.IInterfaceVpcEndpoint;
  /** Create a Secrets Manager interface endpoint in the function's subnets. @default false */
  readonly createSecretsManagerEndpoint?: boolean;
  /** Alarm on the function's errors, sent to this topic. @default no alarm */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Bundle the handler from source with the esbuild installed in your project (and pg / mysql2
   * resolvable), instead of using the bundle pre-built inside the package. The esbuild options are the
   * same either way. Giving `entry` implies it.
   * @default false when the package ships its pre-built bundles (installed from npm, or from git after
   *   `prepare`); true in a source checkout of the toolkit, which has none, so it bundles its current code
   */
  readonly bundleFromSource?: boolean;
}

/** One rotation function: its engine and strategy, plus the options every function shares. */
export interface RotationFunctionProps extends RotationFunctionOptions {
  /** The database engine the function rotates. */
  readonly engine: RotationEngine;
  /** Single user or alternating users (the function's ROTATION_STRATEGY). */
  readonly strategy: RotationStrategy;
  /**
   * Share this function among many secrets: ONE invoke permission for every secret whose name matches this
   * pattern (e.g. `myapp/*`; a name without wildcards matches that secret only), instead of one statement per
   * secret, which would overflow the function's 20 KB resource policy.
   * @default no shared permission: each `DatabaseSecretRotation` adds one for its secret
   */
  readonly sharedSecretNamePattern?: string;
  /** Your own handler file, bundled from source. @default the toolkit's handler for the engine */
  readonly entry?: string;
  /** Only when bundling from source. @default the nearest lock file at or above the entry */
  readonly depsLockFilePath?: string;
}

const DEFAULT_TIMEOUT = Duration.seconds(60);
const DEFAULT_MEMORY_MB = 256;
/** Where the Lambda Node.js runtimes keep a CA bundle that includes the Amazon RDS CAs. */
export const LAMBDA_CA_BUNDLE = '/var/runtime/ca-cert.pem';

export { ROTATION_EXTERNAL_MODULES };

/**
 * One rotation Lambda for one engine and strategy: the toolkit's own handler (no SAR application, no
 * CloudFormation transform), its role, log group, optional alarm and VPC wiring. Share it among many
 * secrets through `DatabaseSecretRotation`'s `rotationFunction` and `sharedSecretNamePattern`.
 *
 * @throws ConfigError at synth for settings that cannot work (an `engine`, `strategy` or `tlsMode` outside
 *   its enum, VPC options without a VPC, an invalid password policy, no route to Secrets Manager from
 *   isolated subnets, a missing pre-built bundle).
 * @example
 * const fn = new RotationFunction(this, 'PostgresRotation', {
 *   engine: RotationEngine.POSTGRES,
 *   strategy: RotationStrategy.SINGLE_USER,
 *   vpc,
 *   sharedSecretNamePattern: 'myapp/*',
 * });
 * new DatabaseSecretRotation(this, 'AppRotation', {
 *   secret: appSecret,
 *   engine: RotationEngine.POSTGRES,
 *   rotationFunction: fn,
 * });
 */
export class RotationFunction extends Construct implements ec2.IConnectable {
  readonly engine: RotationEngine;
  readonly strategy: RotationStrategy;
  /** A `NodejsFunction` when bundled from source, a plain `lambda.Function` on the pre-built bundle. */
  readonly function: lambda.Function;
  /** Whether this function's code was bundled from source at synth (false: the pre-built bundle). */
  readonly bundledFromSource: boolean;
  readonly role: iam.IRole;
  readonly logGroup: logs.LogGroup;
  /** The security group this construct created, when it created one. */
  readonly securityGroup?: ec2.ISecurityGroup;
  /** The ArnLike pattern of the shared invoke permission, when the function is shared. */
  readonly sharedSourceArn?: string;
  readonly vpc?: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  private readonly endpoints: ec2.IInterfaceVpcEndpoint[] = [];

  constructor(scope: Construct, id: string, props: RotationFunctionProps) {
    super(scope, id);
    assertEnumProp(this.node.path, 'engine', props.engine, RotationEngine);
    assertEnumProp(this.node.path, 'strategy', props.strategy, RotationStrategy);
    if (props.tlsMode !== undefined) assertEnumProp(this.node.path, 'tlsMode', props.tlsMode, DbTlsMode);
    this.engine = props.engine;
    this.strategy = props.strategy;
    this.vpc = props.vpc;
    this.vpcSubnets = props.vpcSubnets;
    assertValidPasswordPolicy(this.node.path, props.engine, props.passwordPolicy ?? {});
    if (!props.vpc && (props.vpcSubnets || props.securityGroups || props.endpoint || props.createSecretsManagerEndpoint)) {
      throw new ConfigError(`${this.node.path}: vpcSubnets, securityGroups and endpoints need a vpc`);
    }

    const prebuilt = prebuiltBundleDirectory(props.engine);
    this.bundledFromSource = props.entry !== undefined || (props.bundleFromSource ?? !hasPrebuiltBundle(prebuilt));
    if (!this.bundledFromSource && !hasPrebuiltBundle(prebuilt)) {
      throw new ConfigError(
        `${this.node.path}: no pre-built ${props.engine} rotation bundle at ${prebuilt}: build the package ` +
          '(`npm run build`), or set bundleFromSource: true to bundle with your own esbuild',
      );
    }

    this.role =
      props.role ??
      new iam.Role(this, 'ServiceRole', {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        description: `Rotation function for ${props.engine} (${props.strategy})`,
      });
    if (props.permissionsBoundary) iam.PermissionsBoundary.of(this.role).apply(props.permissionsBoundary);

    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.THREE_MONTHS,
    });

    if (props.vpc && !props.securityGroups) {
      this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
        vpc: props.vpc,
        description: `Rotation function for ${props.engine} (${props.strategy})`,
        allowAllOutbound: true,
      });
    }

    const policies = this.createWildcardPolicies(props.vpc !== undefined);
    const common = {
      runtime: ROTATION_RUNTIME,
      architecture: props.architecture ?? lambda.Architecture.ARM_64,
      timeout: props.timeout ?? DEFAULT_TIMEOUT,
      memorySize: props.memorySize ?? DEFAULT_MEMORY_MB,
      role: this.role,
      logGroup: this.logGroup,
      tracing: props.tracing,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      functionName: props.functionName,
      description: `Rotates ${props.engine} credentials (${props.strategy})`,
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets,
      securityGroups: props.securityGroups ?? (this.securityGroup ? [this.securityGroup] : undefined),
      environment: rotationEnvironment(props),
    };
    if (this.bundledFromSource) {
      const entry = props.entry ?? resolveRotationEntry(props.engine);
      const depsLockFilePath = props.depsLockFilePath ?? findLockFile(path.dirname(entry));
      assertLocalEsbuild(this, path.dirname(depsLockFilePath));
      this.function = new nodejs.NodejsFunction(this, 'Function', {
        ...common,
        entry,
        handler: 'handler',
        depsLockFilePath,
        bundling: toNodejsBundlingOptions(rotationBundleSettings(props.engine, entry)),
      });
    } else {
      // The asset is the directory of index.js and its map: no bundling, no esbuild, no drivers at synth.
      this.function = new lambda.Function(this, 'Function', { ...common, code: lambda.Code.fromAsset(prebuilt), handler: 'index.handler' });
    }
    // The role's own policies must exist before Lambda checks them at CreateFunction (ENI actions) and first run.
    for (const policy of policies) this.function.node.addDependency(policy);
    this.logGroup.grantWrite(this.role);
    if (props.tracing !== undefined && props.tracing !== lambda.Tracing.DISABLED) {
      acknowledgeNagFinding(
        this.role,
        'AwsSolutions-IAM5[Resource::*]',
        'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions (added by Lambda tracing)',
      );
    }

    if (props.sharedSecretNamePattern !== undefined) {
      this.sharedSourceArn = secretArnPattern(this, props.sharedSecretNamePattern);
      this.function.addPermission('InvokeBySecretsManager', {
        principal: new iam.ServicePrincipal('secretsmanager.amazonaws.com'),
        action: 'lambda:InvokeFunction',
        sourceAccount: Stack.of(this).account,
        sourceArn: this.sharedSourceArn,
      });
    }

    if (props.endpoint) this.useSecretsManagerEndpoint(props.endpoint);
    if (props.createSecretsManagerEndpoint && props.vpc) {
      this.useSecretsManagerEndpoint(
        new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
          vpc: props.vpc,
          service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
          subnets: props.vpcSubnets,
          privateDnsEnabled: true,
          open: false,
        }),
      );
    }
    if (props.alarmTopic) this.addErrorAlarm(this, 'ErrorsAlarm', props.alarmTopic);

    this.node.addValidation({ validate: () => this.validateNetwork() });
  }

  get connections(): ec2.Connections {
    return this.function.connections;
  }

  get functionArn(): string {
    return this.function.functionArn;
  }

  get isInVpc(): boolean {
    return this.vpc !== undefined;
  }

  /** Lets the function reach Secrets Manager through this interface endpoint (HTTPS from its security groups). */
  useSecretsManagerEndpoint(endpoint: ec2.IInterfaceVpcEndpoint): void {
    if (this.endpoints.includes(endpoint)) return;
    this.endpoints.push(endpoint);
    if (this.isInVpc) endpoint.connections.allowDefaultPortFrom(this.function, 'Rotation function to Secrets Manager');
  }

  /** An alarm on any function error in a 5-minute period, created in `scope` (the topic's side of a cross-stack app). */
  addErrorAlarm(scope: Construct, id: string, topic: sns.ITopic): cloudwatch.Alarm {
    const alarm = new cloudwatch.Alarm(scope, id, {
      alarmDescription: `Rotation function for ${this.engine} (${this.strategy}) failed`,
      metric: this.function.metricErrors({ period: Duration.minutes(5), statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    alarm.addAlarmAction(new cloudwatchActions.SnsAction(topic));
    return alarm;
  }

  /**
   * The statements AWS allows on no narrower resource than `*`: only a VPC function's network-interface
   * actions. (Passwords are generated in the function, so GetRandomPassword is not granted.)
   */
  private createWildcardPolicies(inVpc: boolean): iam.Policy[] {
    if (!inVpc) return [];
    const networkInterfaces = new iam.Policy(this, 'VpcNetworkInterfacesPolicy', {
      roles: [this.role],
      statements: [new iam.PolicyStatement({ actions: [...VPC_NETWORK_INTERFACE_ACTIONS], resources: ['*'] })],
    });
    acknowledgeNagFinding(
      networkInterfaces,
      'AwsSolutions-IAM5[Resource::*]',
      'A VPC Lambda manages its ENIs before they exist; EC2 supports only "*" for these actions (as AWSLambdaVPCAccessExecutionRole)',
    );
    return [networkInterfaces];
  }

  private validateNetwork(): string[] {
    if (!this.vpc || this.endpoints.length > 0) return [];
    return isIsolatedSelection(this.vpc, this.vpcSubnets) ? [noRouteMessage(this.node.path)] : [];
  }
}

/** The actions of AWSLambdaVPCAccessExecutionRole, without its broad log permissions. */
export const VPC_NETWORK_INTERFACE_ACTIONS: readonly string[] = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/** The function's environment: strategy, TLS mode, CA bundle, the resolved password policy, the test query. */
export function rotationEnvironment(props: RotationFunctionProps): Record<string, string> {
  const policy = resolvePasswordPolicy(props.passwordPolicy ?? {}, props.engine);
  return {
    [ROTATION_ENV.strategy]: props.strategy,
    [ROTATION_ENV.tlsMode]: props.tlsMode ?? DbTlsMode.VERIFY_FULL,
    NODE_EXTRA_CA_CERTS: LAMBDA_CA_BUNDLE,
    ...passwordPolicyToEnv(policy),
    ...(props.testQuery !== undefined ? { [ROTATION_ENV.testQuery]: props.testQuery } : {}),
  };
}

/**
 * Checks a password policy at synth with the rules the function applies at cold start: what
 * GetRandomPassword accepts is accepted (an `excludeCharacters` of up to 4096 characters of any kind).
 *
 * @throws ConfigError naming the construct and every problem.
 */
export function assertValidPasswordPolicy(where: string, engine: RotationEngine, policy: PasswordPolicy): void {
  const problems = validatePasswordPolicy(policy, engine);
  if (problems.length > 0) {
    throw new ConfigError(`${where}: invalid password policy for ${engine}: ${problems.join('; ')}`);
  }
}

/** The ArnLike pattern for secrets named by `namePattern`; an exact name gets the ARN's random `-??????` suffix. */
export function secretArnPattern(scope: Construct, namePattern: string): string {
  if (namePattern.length === 0) throw new ConfigError(`${scope.node.path}: sharedSecretNamePattern is empty`);
  const hasWildcard = /[*?]/.test(namePattern);
  return Stack.of(scope).formatArn({
    service: 'secretsmanager',
    resource: 'secret',
    resourceName: hasWildcard ? namePattern : `${namePattern}-??????`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * The shims of `shimAliases` as NodejsFunction `esbuildArgs` (`--alias:<name>` → shim file), for
 * callers that drive esbuild's command line. @see shimAliases in rotation-bundling.ts, the definition
 */
export function bundlingAliases(engine: EngineFamily, entry: string): Record<string, string> {
  return aliasArgs(shimAliases(engine, entry));
}
