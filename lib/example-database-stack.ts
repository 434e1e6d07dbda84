/**
 * A complete example: RDS PostgreSQL and RDS MySQL; per engine the master secret (single-user, the way
 * `addRotationSingleUser` did it), an application user with single-user rotation and one with alternating
 * users; a Secrets Manager interface endpoint; an encrypted alarm topic. All rotation goes through the
 * shared functions of a RotationStack, and every resource here refers to that stack, never the reverse.
 */
import { Stack, type StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import { DatabaseSecretRotation } from './database-secret-rotation';
import { acknowledgeNagFinding } from './nag-acknowledgement';
import { RotationEngine, RotationStrategy } from './rotation-engine';
import type { RotationStack } from './rotation-stack';

export interface ExampleDatabaseStackProps extends StackProps {
  readonly rotation: RotationStack;
  /** Prefix of every secret name; the rotation stack's sharedSecretNamePattern should be `${prefix}/*`. */
  readonly secretNamePrefix?: string;
}

export const EXAMPLE_SECRET_PREFIX = 'rotation-example';

export class ExampleDatabaseStack extends Stack {
  readonly postgres: rds.DatabaseInstance;
  readonly mysql: rds.DatabaseInstance;
  readonly alarmTopic: sns.Topic;
  readonly endpoint: ec2.InterfaceVpcEndpoint;
  readonly rotations: DatabaseSecretRotation[] = [];

  constructor(scope: Construct, id: string, props: ExampleDatabaseStackProps) {
    super(scope, id, props);
    const vpc = props.rotation.vpc;
    const prefix = props.secretNamePrefix ?? EXAMPLE_SECRET_PREFIX;

    this.endpoint = new ec2.InterfaceVpcEndpoint(this, 'SecretsManagerEndpoint', {
      vpc,
      service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
      privateDnsEnabled: true,
      open: false,
    });
    this.alarmTopic = createAlarmTopic(this);

    this.postgres = createDatabase(
      this,
      'Postgres',
      vpc,
      rds.DatabaseInstanceEngine.postgres({
        version: rds.PostgresEngineVersion.VER_17,
      }),
      `${prefix}/postgres/master`,
    );
    this.mysql = createDatabase(
      this,
      'Mysql',
      vpc,
      rds.DatabaseInstanceEngine.mysql({
        version: rds.MysqlEngineVersion.VER_8_4_3,
      }),
      `${prefix}/mysql/master`,
    );

    for (const [name, db, engine] of [
      ['Postgres', this.postgres, RotationEngine.POSTGRES],
      ['Mysql', this.mysql, RotationEngine.MYSQL],
    ] as const) {
      const common = { endpoint: this.endpoint, alarmTopic: this.alarmTopic };
      const single = props.rotation.functionFor(engine, RotationStrategy.SINGLE_USER);
      const alternating = props.rotation.functionFor(engine, RotationStrategy.ALTERNATING_USERS);
      this.rotations.push(
        DatabaseSecretRotation.forInstance(this, `${name}MasterRotation`, db, {
          ...common,
          rotationFunction: single,
        }),
      );
      const appSingle = new rds.DatabaseSecret(this, `${name}AppSingleUserSecret`, {
        username: 'app_single',
        secretName: `${prefix}/${engine}/app-single`,
      }).attach(db);
      this.rotations.push(
        DatabaseSecretRotation.forInstance(this, `${name}AppSingleUserRotation`, db, {
          ...common,
          rotationFunction: single,
          secret: appSingle,
        }),
      );
      // masterSecret makes rds.DatabaseSecret write `masterarn` into the value: the function finds the master there.
      // PostgreSQL 16+ (this example runs 17): RDS's master is CREATEROLE, not superuser, so it may change
      // `app_alt` (and grant it to `app_alt_clone`) only with ADMIN OPTION on it. Create the role AS the
      // master (`dbadmin`: the creator holds ADMIN OPTION implicitly), or have whoever created it run
      // GRANT app_alt TO dbadmin WITH ADMIN OPTION, INHERIT FALSE, SET FALSE. Otherwise the rotation
      // fails before any change with that statement in its error.
      const appAlternating = new rds.DatabaseSecret(this, `${name}AppAlternatingSecret`, {
        username: 'app_alt',
        secretName: `${prefix}/${engine}/app-alternating`,
        masterSecret: db.secret,
      }).attach(db);
      this.rotations.push(
        DatabaseSecretRotation.forInstance(this, `${name}AppAlternatingRotation`, db, {
          ...common,
          rotationFunction: alternating,
          strategy: RotationStrategy.ALTERNATING_USERS,
          secret: appAlternating,
        }),
      );
    }
  }
}

function createDatabase(
  scope: Construct,
  id: string,
  vpc: ec2.IVpc,
  engine: rds.IInstanceEngine,
  secretName: string,
): rds.DatabaseInstance {
  const db = new rds.DatabaseInstance(scope, id, {
    engine,
    vpc,
    // The VPC this app creates has isolated subnets only; one named by context (`rotation:privateSubnetIds`)
    // is imported with private subnets only, and the databases go beside the functions there.
    vpcSubnets: { subnetType: vpc.isolatedSubnets.length > 0 ? ec2.SubnetType.PRIVATE_ISOLATED : ec2.SubnetType.PRIVATE_WITH_EGRESS },
    instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.MICRO),
    credentials: rds.Credentials.fromGeneratedSecret('dbadmin', { secretName }),
    storageEncrypted: true,
    multiAz: false,
    deletionProtection: false,
  });
  acknowledgeNagFinding(db, 'AwsSolutions-RDS3', 'An example database: single-AZ keeps its cost down; production sets multiAz');
  acknowledgeNagFinding(
    db,
    'AwsSolutions-RDS10',
    'An example database meant to be destroyed with its stack; production sets deletionProtection',
  );
  acknowledgeNagFinding(
    db,
    'AwsSolutions-RDS11',
    'The default port is kept so the example reads like a real deployment; it is reachable only from the rotation functions',
  );
  return db;
}

/** KMS-encrypted (SNS2) and TLS-only (SNS3); CloudWatch and EventBridge may use the key to publish. */
function createAlarmTopic(scope: Construct): sns.Topic {
  const key = new kms.Key(scope, 'AlarmTopicKey', { enableKeyRotation: true, description: 'Rotation alarm topic' });
  for (const service of ['cloudwatch.amazonaws.com', 'events.amazonaws.com']) {
    key.grant(new iam.ServicePrincipal(service), 'kms:Decrypt', 'kms:GenerateDataKey*');
  }
  return new sns.Topic(scope, 'AlarmTopic', { masterKey: key, enforceSSL: true, displayName: 'Database rotation alarms' });
}
