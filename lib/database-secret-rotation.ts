/**
 * Attaches rotation to one database secret: the invoke permission (with aws:SourceAccount AND
 * aws:SourceArn), least-privilege IAM on the exact secret ARNs, database ingress, the schedule and window,
 * failure alarms and success notifications. Everything secret-specific is created HERE, in the secret's
 * stack, referring to the function only by ARN/role name: a function in a shared rotation stack never
 * points back at an app stack, so there is no dependency cycle (aws-cdk #33336).
 */
import { ArnFormat, Names, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { ConfigError } from '../shared/errors';
import { acknowledgeNagFinding, nagResourceName } from './nag-acknowledgement';
import { RotationEngine, RotationStrategy, assertEnumProp } from './rotation-engine';
import { RotationFunction, type RotationFunctionOptions } from './rotation-function';
import {
  RotationSucceededNotification,
  type RotationSucceededDeliveryOptions,
  type RotationSucceededTarget,
} from './rotation-succeeded-notification';
import { type RotationScheduleOptions, rotationRules } from './schedule';

/** The secret to rotate, how (engine, strategy, master) and when, plus the function's options. */
export interface DatabaseSecretRotationProps extends RotationFunctionOptions, RotationScheduleOptions {
  /** The secret to rotate (RDS JSON: engine, host, port, username, password, dbname?, masterarn?). */
  readonly secret: secretsmanager.ISecret;
  /** The database engine of the secret. */
  readonly engine: RotationEngine;
  /** @default RotationStrategy.SINGLE_USER */
  readonly strategy?: RotationStrategy;
  /**
   * The master (admin) secret the function may read, found through the rotated secret's `masterarn` field
   * as AWS's templates do (`rds.DatabaseSecret({ masterSecret })` writes it). Required for alternating users,
   * which create and grant the second user. Optional for single user: there the master is used only to
   * diagnose a refused login from the catalogs, heal a proven password drift, reach a MySQL user's other
   * host entries and renew an expired MySQL password; without it those cases fail with a typed error.
   * @default none (single user); required (alternating users)
   */
  readonly masterSecret?: secretsmanager.ISecret;
  /** Share one function among many secrets of the same engine and strategy. @default a dedicated function */
  readonly rotationFunction?: RotationFunction;
  /** The DB instance, cluster or proxy: its security group admits the function on its default port. */
  readonly target?: ec2.IConnectable;
  /** @default CloudFormation's default (true) */
  readonly rotateImmediatelyOnUpdate?: boolean;
  /**
   * The master is an RDS-managed secret (`rds!db-…`, value without host): the function may DescribeSecret it
   * and call rds:DescribeDBInstances/DescribeDBClusters to find the host, as AWS's templates do.
   * @default false
   */
  readonly resolveRdsManagedMaster?: boolean;
  /**
   * The secret's host is a reader of the master's database (an Aurora reader endpoint or reader
   * instance, an RDS read replica) rather than the master's own host: the function may call
   * rds:DescribeDBInstances/DescribeDBClusters to confirm it, as AWS's templates do. The password is
   * still changed on the master's host, the writer. Alternating users only (it needs the master).
   * @default false
   */
  readonly readerHost?: boolean;
  /**
   * The RDS ARNs the describe calls may name: the master's instance or cluster and, with `readerHost`,
   * the reader or replica instances.
   * @default every DB instance and cluster of the account and region
   */
  readonly rdsResourceArns?: string[];
  /** Send function-error alarms and Secrets Manager `RotationFailed` events for this secret to this topic. */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Send this secret's `RotationSucceeded` events to one target (an SNS topic, a Lambda function or an
   * event bus) through an EventBridge rule, so applications refresh their pools at once; see
   * `RotationSucceededNotification`.
   * @default no notification
   */
  readonly rotationSucceeded?: RotationSucceededTarget & RotationSucceededDeliveryOptions;
}

/** The migration path from `addRotationSingleUser/MultiUser`: same option names where they exist. */
export interface DatabaseRotationOptions extends Omit<
  DatabaseSecretRotationProps,
  'secret' | 'engine' | 'target' | 'vpc' | 'masterSecret' | 'securityGroups'
> {
  /**
   * The secret to rotate. Single-user default: the database's own (master) secret. Alternating users: the
   * application user's secret (`rds.DatabaseSecret({ masterSecret: db.secret }).attach(db)`); the database's
   * secret is then the master.
   */
  readonly secret?: secretsmanager.ISecret;
  /** The password characters to avoid (as in addRotationSingleUser); merged into passwordPolicy. */
  readonly excludeCharacters?: string;
  /** The function's security group (as in addRotationSingleUser). @default a new one */
  readonly securityGroup?: ec2.ISecurityGroup;
}

/** The options that shape a function; they conflict with a shared `rotationFunction`. */
const FUNCTION_OPTION_KEYS = [
  'role',
  'permissionsBoundary',
  'memorySize',
  'timeout',
  'architecture',
  'tracing',
  'reservedConcurrentExecutions',
  'vpc',
  'vpcSubnets',
  'securityGroups',
  'functionName',
  'logRetention',
  'passwordPolicy',
  'tlsMode',
  'testQuery',
  'createSecretsManagerEndpoint',
] as const satisfies readonly (keyof RotationFunctionOptions)[];

const SECRET_ROTATION_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];

/**
 * Rotation for one database secret, as `rds.DatabaseInstance.addRotationSingleUser` /
 * `addRotationMultiUser` would set it up, but with this toolkit's function: the rotation schedule, a
 * dedicated (or shared) `RotationFunction`, its permissions on the secret (and the master's), and the
 * database's security group opened to it.
 *
 * @throws ConfigError at synth: no `secret`, an `engine` or `strategy` outside its enum, alternating users
 *   without `masterSecret`, the master used as the rotated secret, an RDS-managed master rotated by this
 *   toolkit, a shared function of another engine or strategy.
 * @example
 * import { DatabaseSecretRotation, RotationStrategy } from 'db-secret-rotation-toolkit';
 *
 * // Beside an rds.DatabaseInstance `db` and the application user's secret `appSecret`:
 * DatabaseSecretRotation.forInstance(this, 'AppRotation', db, {
 *   secret: appSecret,
 *   strategy: RotationStrategy.ALTERNATING_USERS,
 * });
 */
export class DatabaseSecretRotation extends Construct {
  /** Rotation for an `rds.DatabaseInstance`: VPC, port, engine and (single-user) secret come from the instance. */
  static forInstance(
    scope: Construct,
    id: string,
    instance: rds.DatabaseInstance,
    options: DatabaseRotationOptions = {},
  ): DatabaseSecretRotation {
    return DatabaseSecretRotation.forDatabase(
      scope,
      id,
      {
        kind: 'instance',
        vpc: instance.vpc,
        target: instance,
        secret: instance.secret,
        engineFamily: instance.engine?.engineFamily,
        arn: instance.instanceArn,
        rdsManagedMaster: (instance.node.defaultChild as rds.CfnDBInstance).manageMasterUserPassword === true,
      },
      options,
    );
  }

  /** Rotation for an `rds.DatabaseCluster`: VPC, subnets, port, engine and (single-user) secret come from the cluster. */
  static forCluster(
    scope: Construct,
    id: string,
    cluster: rds.DatabaseCluster,
    options: DatabaseRotationOptions = {},
  ): DatabaseSecretRotation {
    return DatabaseSecretRotation.forDatabase(
      scope,
      id,
      {
        kind: 'cluster',
        vpc: cluster.vpc,
        vpcSubnets: cluster.vpcSubnets,
        target: cluster,
        secret: cluster.secret,
        engineFamily: cluster.engine?.engineFamily,
        arn: cluster.clusterArn,
        rdsManagedMaster: (cluster.node.defaultChild as rds.CfnDBCluster).manageMasterUserPassword === true,
      },
      options,
    );
  }

  private static forDatabase(scope: Construct, id: string, db: DatabaseFacts, options: DatabaseRotationOptions): DatabaseSecretRotation {
    const { excludeCharacters, securityGroup, secret, ...rest } = options;
    const strategy = options.strategy ?? RotationStrategy.SINGLE_USER;
    const where = `${scope.node.path}/${id}`;
    if (!db.secret) throw new ConfigError(`${where}: the ${db.kind} has no secret; pass the secret to rotate to DatabaseSecretRotation`);
    const alternating = strategy === RotationStrategy.ALTERNATING_USERS;
    if (alternating && !secret) {
      throw new ConfigError(
        `${where}: alternating users rotate an application user's secret; pass \`secret\` (the ${db.kind}'s secret is its master)`,
      );
    }
    if (db.rdsManagedMaster && !secret) {
      throw new ConfigError(
        `${where}: the ${db.kind}'s master password is managed by RDS, which rotates it itself; pass an application user's \`secret\``,
      );
    }
    // An RDS-managed master holds no host: the function must resolve it through the RDS API.
    const resolveRdsManagedMaster = options.resolveRdsManagedMaster ?? (alternating && db.rdsManagedMaster ? true : undefined);
    const shared = options.rotationFunction !== undefined;
    return new DatabaseSecretRotation(scope, id, {
      ...rest,
      strategy,
      engine: engineFromFamily(where, db.engineFamily),
      secret: secret ?? db.secret,
      masterSecret: alternating ? db.secret : undefined,
      target: db.target,
      resolveRdsManagedMaster,
      rdsResourceArns: options.rdsResourceArns ?? (resolveRdsManagedMaster ? [db.arn] : undefined),
      securityGroups: securityGroup ? [securityGroup] : undefined,
      passwordPolicy: excludeCharacters !== undefined ? { ...options.passwordPolicy, excludeCharacters } : options.passwordPolicy,
      // A shared function already sits in its VPC; anything else here would be a conflicting function option.
      ...(shared ? {} : { vpc: db.vpc, vpcSubnets: options.vpcSubnets ?? db.vpcSubnets }),
    });
  }

  readonly rotationFunction: RotationFunction;
  readonly schedule: secretsmanager.CfnRotationSchedule;
  /** The secret-specific role statements, attached to the function's role from this stack. */
  readonly policy: iam.Policy;
  /** The per-secret invoke permission; undefined when the shared function's pattern covers the secret. */
  readonly permission?: lambda.CfnPermission;
  /** The rule sending `RotationSucceeded` to the `rotationSucceeded` target, when one was given. */
  readonly rotationSucceededNotification?: RotationSucceededNotification;

  constructor(scope: Construct, id: string, props: DatabaseSecretRotationProps) {
    super(scope, id);
    // Before anything is built: a missing secret or a wrong engine or strategy would fail later, and less clearly.
    if (!props.secret) throw new ConfigError(`${this.node.path}: secret is required (the secretsmanager.ISecret to rotate)`);
    assertEnumProp(this.node.path, 'engine', props.engine, RotationEngine);
    const strategy = props.strategy ?? RotationStrategy.SINGLE_USER;
    assertEnumProp(this.node.path, 'strategy', strategy, RotationStrategy);
    const alternating = strategy === RotationStrategy.ALTERNATING_USERS;
    validateMasterSecret(this.node.path, props, alternating);
    const rules = rotationRules(props);

    this.rotationFunction = props.rotationFunction
      ? useSharedFunction(this.node.path, props.rotationFunction, props, strategy)
      : new RotationFunction(this, 'RotationFunction', { ...props, strategy, alarmTopic: undefined });
    const fn = this.rotationFunction;
    if (props.endpoint) fn.useSecretsManagerEndpoint(props.endpoint);

    if (props.target) allowDatabaseAccess(this.node.path, props.target, fn);

    this.policy = new iam.Policy(this, 'Policy', { statements: this.statements(props) });
    this.policy.attachToRole(fn.role);

    if (fn.sharedSourceArn === undefined) {
      this.permission = new lambda.CfnPermission(this, 'InvokePermission', {
        action: 'lambda:InvokeFunction',
        functionName: fn.functionArn,
        principal: 'secretsmanager.amazonaws.com',
        sourceAccount: Stack.of(this).account,
        sourceArn: fullSecretArn(props.secret),
      });
    } else {
      assertSecretMatchesSharedPattern(this.node.path, props.secret, fn);
    }

    this.schedule = new secretsmanager.CfnRotationSchedule(this, 'Schedule', {
      secretId: props.secret.secretArn,
      rotationLambdaArn: fn.functionArn,
      rotationRules: rules,
      rotateImmediatelyOnUpdate: props.rotateImmediatelyOnUpdate,
    });
    // Secrets Manager invokes the function as soon as the schedule exists: grants first (aws-cdk #26481).
    this.schedule.node.addDependency(this.policy);
    if (this.permission) this.schedule.node.addDependency(this.permission);

    if (props.alarmTopic) {
      this.addRotationFailedRule(props.secret, props.alarmTopic);
      addFunctionErrorAlarmOnce(Stack.of(this), fn, props.alarmTopic);
    }
    if (props.rotationSucceeded) {
      this.rotationSucceededNotification = new RotationSucceededNotification(this, 'RotationSucceeded', {
        ...props.rotationSucceeded,
        secrets: [props.secret],
      });
    }
  }

  private statements(props: DatabaseSecretRotationProps): iam.PolicyStatement[] {
    const secretArn = fullSecretArn(props.secret);
    const statements = [new iam.PolicyStatement({ actions: SECRET_ROTATION_ACTIONS, resources: [secretArn] })];
    const keys: { key: string; actions: string[] }[] = [];
    if (props.secret.encryptionKey) keys.push({ key: props.secret.encryptionKey.keyArn, actions: ['kms:Decrypt', 'kms:GenerateDataKey'] });
    if (props.masterSecret) {
      const masterArn = fullSecretArn(props.masterSecret);
      statements.push(
        new iam.PolicyStatement({
          actions: props.resolveRdsManagedMaster
            ? ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret']
            : ['secretsmanager:GetSecretValue'],
          resources: [masterArn],
        }),
      );
      if (props.masterSecret.encryptionKey) keys.push({ key: props.masterSecret.encryptionKey.keyArn, actions: ['kms:Decrypt'] });
      if (props.resolveRdsManagedMaster || props.readerHost) statements.push(this.rdsDescribeStatement(props.rdsResourceArns));
    }
    for (const { key, actions } of keys) {
      statements.push(
        new iam.PolicyStatement({
          actions,
          resources: [key],
          // Only when Secrets Manager uses the key on the function's behalf, never directly.
          conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` } },
        }),
      );
    }
    return statements;
  }

  private rdsDescribeStatement(arns: string[] | undefined): iam.PolicyStatement {
    if (arns && arns.length > 0) {
      return new iam.PolicyStatement({ actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'], resources: arns });
    }
    const stack = Stack.of(this);
    const instances = stack.formatArn({ service: 'rds', resource: 'db', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    const clusters = stack.formatArn({ service: 'rds', resource: 'cluster', resourceName: '*', arnFormat: ArnFormat.COLON_RESOURCE_NAME });
    for (const arn of [instances, clusters]) {
      acknowledgeNagFinding(
        this,
        `AwsSolutions-IAM5[Resource::${nagResourceName(this, arn)}]`,
        'The RDS-managed master (or the reader host) names its instance or cluster only at rotation time; pass rdsResourceArns to narrow it',
      );
    }
    return new iam.PolicyStatement({ actions: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'], resources: [instances, clusters] });
  }

  private addRotationFailedRule(secret: secretsmanager.ISecret, topic: sns.ITopic): void {
    new events.Rule(this, 'RotationFailedRule', {
      description: 'Secrets Manager could not rotate the secret',
      eventPattern: {
        source: ['aws.secretsmanager'],
        detailType: ['AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed'],
          additionalEventData: {
            SecretId: secret.secretFullArn ? [secret.secretFullArn] : events.Match.prefix(secret.secretArn),
          },
        },
      },
      targets: [new eventsTargets.SnsTopic(topic)],
    });
  }
}

interface DatabaseFacts {
  readonly kind: 'instance' | 'cluster';
  readonly vpc: ec2.IVpc;
  readonly vpcSubnets?: ec2.SubnetSelection;
  readonly target: ec2.IConnectable;
  readonly secret?: secretsmanager.ISecret;
  readonly engineFamily?: string;
  readonly arn: string;
  readonly rdsManagedMaster: boolean;
}

function engineFromFamily(where: string, family: string | undefined): RotationEngine {
  if (family === 'POSTGRESQL') return RotationEngine.POSTGRES;
  if (family === 'MYSQL') return RotationEngine.MYSQL;
  throw new ConfigError(`${where}: engine family ${family ?? '(unknown)'} is not rotatable by this toolkit (PostgreSQL, MySQL, MariaDB)`);
}

/** The ARN IAM and Lambda conditions need: an imported partial ARN gets the random suffix as `-??????`. */
export function fullSecretArn(secret: secretsmanager.ISecret): string {
  return secret.secretFullArn ?? `${secret.secretArn}-??????`;
}

function validateMasterSecret(where: string, props: DatabaseSecretRotationProps, alternating: boolean): void {
  if (alternating && !props.masterSecret) {
    throw new ConfigError(`${where}: alternating users need masterSecret (the superuser secret that creates and grants the second user)`);
  }
  if (props.masterSecret && props.masterSecret.secretArn === props.secret.secretArn) {
    throw new ConfigError(`${where}: masterSecret must be another secret than the one rotated`);
  }
  if (props.resolveRdsManagedMaster && !alternating) {
    throw new ConfigError(`${where}: resolveRdsManagedMaster applies to the master secret of alternating users only`);
  }
  if (props.readerHost && !alternating) {
    throw new ConfigError(`${where}: readerHost applies to alternating users only (the master changes the password on the writer)`);
  }
}

function useSharedFunction(
  where: string,
  fn: RotationFunction,
  props: DatabaseSecretRotationProps,
  strategy: RotationStrategy,
): RotationFunction {
  if (fn.engine !== props.engine || fn.strategy !== strategy) {
    throw new ConfigError(
      `${where}: the shared rotationFunction rotates ${fn.engine} (${fn.strategy}), this secret needs ${props.engine} (${strategy})`,
    );
  }
  const conflicting = FUNCTION_OPTION_KEYS.filter((key) => props[key] !== undefined);
  if (conflicting.length > 0) {
    throw new ConfigError(`${where}: ${conflicting.join(', ')} configure a function; set them on the shared rotationFunction instead`);
  }
  return fn;
}

function allowDatabaseAccess(where: string, target: ec2.IConnectable, fn: RotationFunction): void {
  if (!fn.isInVpc) throw new ConfigError(`${where}: target needs the rotation function in a VPC; pass vpc`);
  if (!target.connections.defaultPort) {
    throw new ConfigError(`${where}: target has no default port; open the database port to the rotation function yourself`);
  }
  target.connections.allowDefaultPortFrom(fn, 'Rotation function');
}

function assertSecretMatchesSharedPattern(where: string, secret: secretsmanager.ISecret, fn: RotationFunction): void {
  const cfn = secret.node.defaultChild;
  const name = cfn instanceof secretsmanager.CfnSecret ? cfn.name : undefined;
  const pattern = fn.sharedSourceArn?.split(':secret:')[1];
  if (name === undefined || pattern === undefined || Token.isUnresolved(name) || Token.isUnresolved(pattern)) return;
  const regex = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  if (!regex.test(`${name}-abcdef`)) {
    throw new ConfigError(`${where}: secret ${name} does not match the shared function's secret name pattern ${pattern}`);
  }
}

/** One error alarm per function per stack, however many of that stack's secrets share the function. */
function addFunctionErrorAlarmOnce(stack: Stack, fn: RotationFunction, topic: sns.ITopic): void {
  const id = `RotationErrorsAlarm${Names.nodeUniqueId(fn.node)}${Names.nodeUniqueId(topic.node)}`;
  if (!stack.node.tryFindChild(id)) fn.addErrorAlarm(stack, id, topic);
}
