import { CfnResource, Duration, Stack } from 'aws-cdk-lib';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as rds from 'aws-cdk-lib/aws-rds';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import { DatabaseSecretRotation, RotationEngine, RotationFunction, RotationStrategy } from '../../lib';
import { STUB_ENTRY, policyStatements, unbundledApp, unbundledStack } from '../support/cdk-test-helpers';

const SECRET_ACTIONS = [
  'secretsmanager:DescribeSecret',
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:UpdateSecretVersionStage',
];

/** A VPC with NAT, a Postgres instance and its secret: the common ground of most tests. */
function database(stack: Stack) {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const db = new rds.DatabaseInstance(stack, 'Db', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
    vpc,
    port: 6543,
    storageEncrypted: true,
  });
  return { vpc, db };
}

const ref = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => ({
  Ref: stack.getLogicalId(construct.node.defaultChild as never),
});

/** The statements of the DatabaseSecretRotation's own policy. */
function rotationPolicy(template: Template, rotationId: string): unknown[] {
  const [id] = Object.keys(policyStatements(template)).filter((k) => k.startsWith(`${rotationId}Policy`));
  return policyStatements(template)[id];
}

describe('DatabaseSecretRotation, single user, dedicated function', () => {
  const stack = unbundledStack();
  const { vpc, db } = database(stack);
  const rotation = new DatabaseSecretRotation(stack, 'Rotation', {
    secret: db.secret!,
    engine: RotationEngine.POSTGRES,
    vpc,
    target: db,
    entry: STUB_ENTRY,
    rotateImmediatelyOnUpdate: false,
  } as never);
  const template = Template.fromStack(stack);
  const secretRef = { Ref: stack.getLogicalId(db.secret!.node.defaultChild as never) };

  it('permits Secrets Manager to invoke with BOTH aws:SourceAccount and aws:SourceArn = the secret', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      FunctionName: {
        'Fn::GetAtt': [stack.getLogicalId(rotation.rotationFunction.function.node.defaultChild as lambda.CfnFunction), 'Arn'],
      },
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: secretRef,
    });
  });

  it('grants the four secret actions on exactly the secret, and nothing on any master', () => {
    expect(rotationPolicy(template, 'Rotation')).toEqual([{ Action: SECRET_ACTIONS, Effect: 'Allow', Resource: secretRef }]);
  });

  it('opens the database port, and only it, to the function security group', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: { 'Fn::GetAtt': [stack.getLogicalId(db.node.defaultChild as never), 'Endpoint.Port'] },
      ToPort: { 'Fn::GetAtt': [stack.getLogicalId(db.node.defaultChild as never), 'Endpoint.Port'] },
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DbSecurityGroup'), 'GroupId'] },
      SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^RotationRotationFunctionSecurityGroup'), 'GroupId'] },
    });
    expect(db.connections.defaultPort?.toString()).toContain('{IndirectPort}');
  });

  it('schedules every 30 days on the secret, after the grants exist', () => {
    const schedules = template.findResources('AWS::SecretsManager::RotationSchedule');
    const [schedule] = Object.values(schedules);
    expect(schedule.Properties).toEqual({
      SecretId: secretRef,
      RotationLambdaARN: { 'Fn::GetAtt': [stack.getLogicalId(rotation.rotationFunction.function.node.defaultChild as never), 'Arn'] },
      RotationRules: { ScheduleExpression: 'rate(30 days)' },
      RotateImmediatelyOnUpdate: false,
    });
    expect(schedule.DependsOn).toEqual(
      expect.arrayContaining([stack.getLogicalId(rotation.policy.node.defaultChild as never), stack.getLogicalId(rotation.permission!)]),
    );
  });

  it('deploys no SAR application, no transform and no hosted rotation', () => {
    expect(template.toJSON().Transform).toBeUndefined();
    template.resourceCountIs('AWS::Serverless::Application', 0);
  });
});

describe('DatabaseSecretRotation, single user with a master secret', () => {
  // The master lets a single-user function diagnose a refused login and heal proven drift: it may read
  // the master, and nothing more.
  const stack = unbundledStack();
  const master = new secretsmanager.Secret(stack, 'Master');
  const user = new secretsmanager.Secret(stack, 'User');
  new DatabaseSecretRotation(stack, 'Rotation', {
    secret: user,
    masterSecret: master,
    engine: RotationEngine.MYSQL,
    entry: STUB_ENTRY,
  } as never);
  const template = Template.fromStack(stack);

  it('grants the secret actions on the secret and only GetSecretValue on the master', () => {
    expect(rotationPolicy(template, 'Rotation')).toEqual([
      { Action: SECRET_ACTIONS, Effect: 'Allow', Resource: ref(stack, user) },
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: ref(stack, master) },
    ]);
  });
});

describe('DatabaseSecretRotation, alternating users with customer KMS keys', () => {
  const stack = unbundledStack();
  const { vpc, db } = database(stack);
  const userKey = new kms.Key(stack, 'UserKey');
  const masterKey = new kms.Key(stack, 'MasterKey');
  const master = new secretsmanager.Secret(stack, 'Master', { encryptionKey: masterKey });
  const user = new secretsmanager.Secret(stack, 'User', { encryptionKey: userKey });
  new DatabaseSecretRotation(stack, 'Rotation', {
    secret: user,
    masterSecret: master,
    engine: RotationEngine.POSTGRES,
    strategy: RotationStrategy.ALTERNATING_USERS,
    vpc,
    target: db,
    entry: STUB_ENTRY,
    scheduleExpression: 'cron(0 3 ? * SUN *)',
    windowDuration: Duration.hours(2),
  } as never);
  const template = Template.fromStack(stack);
  const viaSecretsManager = {
    StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['secretsmanager.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
  };
  const arnOf = (k: kms.Key) => ({ 'Fn::GetAtt': [stack.getLogicalId(k.node.defaultChild as never), 'Arn'] });

  it('grants exactly: the secret actions, GetSecretValue on the master, the keys through Secrets Manager only', () => {
    expect(rotationPolicy(template, 'Rotation')).toEqual([
      { Action: SECRET_ACTIONS, Effect: 'Allow', Resource: ref(stack, user) },
      { Action: 'secretsmanager:GetSecretValue', Effect: 'Allow', Resource: ref(stack, master) },
      { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: arnOf(userKey), Condition: viaSecretsManager },
      { Action: 'kms:Decrypt', Effect: 'Allow', Resource: arnOf(masterKey), Condition: viaSecretsManager },
    ]);
  });

  it('sets the cron schedule and the window', () => {
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationRules: { ScheduleExpression: 'cron(0 3 ? * SUN *)', Duration: '2h' },
    });
  });

  it('builds the function for the alternating strategy', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ROTATION_STRATEGY: 'alternating-users' }) },
    });
  });
});

describe('DatabaseSecretRotation.forInstance / forCluster', () => {
  it('derives VPC, port, engine and secret from the instance, and resolves an RDS-managed master narrowly', () => {
    const stack = unbundledStack();
    const { db } = database(stack);
    const user = new rds.DatabaseSecret(stack, 'AppUser', { username: 'app', masterSecret: db.secret }).attach(db);
    DatabaseSecretRotation.forInstance(stack, 'Single', db, {
      entry: STUB_ENTRY,
      excludeCharacters: ':/@"\'\\%',
      automaticallyAfter: Duration.hours(12),
    } as never);
    DatabaseSecretRotation.forInstance(stack, 'Alternating', db, {
      entry: STUB_ENTRY,
      strategy: RotationStrategy.ALTERNATING_USERS,
      secret: user,
      resolveRdsManagedMaster: true,
    } as never);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ ROTATION_STRATEGY: 'single-user', EXCLUDE_CHARACTERS: ':/@"\'\\%' }) },
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      SecretId: ref(stack, db.secret!),
      RotationRules: { ScheduleExpression: 'rate(12 hours)' },
    });
    expect(rotationPolicy(template, 'Alternating')).toEqual([
      { Action: SECRET_ACTIONS, Effect: 'Allow', Resource: ref(stack, user) },
      { Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Effect: 'Allow', Resource: ref(stack, db.secret!) },
      // forInstance knows the instance: the describe calls name it, no wildcard.
      { Action: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'], Effect: 'Allow', Resource: stack.resolve(db.instanceArn) },
    ]);
    // Both functions open the same instance port.
    expect(Object.keys(template.findResources('AWS::EC2::SecurityGroupIngress'))).toHaveLength(2);
  });

  it('needs the user secret for alternating users and refuses an RDS-managed master password', () => {
    const stack = unbundledStack();
    const { db, vpc } = database(stack);
    expect(() =>
      DatabaseSecretRotation.forInstance(stack, 'A', db, { strategy: RotationStrategy.ALTERNATING_USERS, entry: STUB_ENTRY } as never),
    ).toThrow(/pass `secret`/);
    const managed = new rds.DatabaseInstance(stack, 'Managed', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
      vpc,
      credentials: rds.Credentials.fromUsername('dbadmin'),
      manageMasterUserPassword: true,
    });
    expect(() => DatabaseSecretRotation.forInstance(stack, 'M', managed, { entry: STUB_ENTRY } as never)).toThrow(
      /master password is managed by RDS, which rotates it itself/,
    );
  });

  it('resolves an RDS-managed master through the RDS API for alternating users', () => {
    const stack = unbundledStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const managed = new rds.DatabaseInstance(stack, 'Managed', {
      engine: rds.DatabaseInstanceEngine.mysql({ version: rds.MysqlEngineVersion.VER_8_4_3 }),
      vpc,
      credentials: rds.Credentials.fromUsername('dbadmin'),
      manageMasterUserPassword: true,
    });
    const user = new rds.DatabaseSecret(stack, 'AppUser', { username: 'app', masterSecret: managed.secret }).attach(managed);
    DatabaseSecretRotation.forInstance(stack, 'R', managed, {
      entry: STUB_ENTRY,
      strategy: RotationStrategy.ALTERNATING_USERS,
      secret: user,
    } as never);
    const statements = rotationPolicy(Template.fromStack(stack), 'R');
    expect(statements[1]).toEqual(expect.objectContaining({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'] }));
    expect(statements[2]).toEqual({
      Action: ['rds:DescribeDBInstances', 'rds:DescribeDBClusters'],
      Effect: 'Allow',
      Resource: stack.resolve(managed.instanceArn),
    });
  });

  it('derives a MySQL engine from an Aurora MySQL cluster and its subnets', () => {
    const stack = unbundledStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const cluster = new rds.DatabaseCluster(stack, 'Cluster', {
      engine: rds.DatabaseClusterEngine.auroraMysql({ version: rds.AuroraMysqlEngineVersion.VER_3_08_0 }),
      vpc,
      writer: rds.ClusterInstance.serverlessV2('Writer'),
    });
    DatabaseSecretRotation.forCluster(stack, 'Rotation', cluster, { entry: STUB_ENTRY } as never);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EXCLUDE_CHARACTERS: '/@"\'\\' }) },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Cluster'), 'Endpoint.Port'] },
    });
  });
});

describe('alarms', () => {
  it("alarms on function errors once per function and sends each secret's RotationFailed event to the topic", () => {
    const stack = unbundledStack();
    const { vpc } = database(stack);
    const topic = new sns.Topic(stack, 'Topic');
    const shared = new RotationFunction(stack, 'Shared', {
      entry: STUB_ENTRY,
      engine: RotationEngine.MYSQL,
      strategy: RotationStrategy.SINGLE_USER,
      vpc,
    });
    const a = new secretsmanager.Secret(stack, 'A');
    const b = secretsmanager.Secret.fromSecretPartialArn(stack, 'B', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:imported');
    new DatabaseSecretRotation(stack, 'RotA', { secret: a, engine: RotationEngine.MYSQL, rotationFunction: shared, alarmTopic: topic });
    new DatabaseSecretRotation(stack, 'RotB', { secret: b, engine: RotationEngine.MYSQL, rotationFunction: shared, alarmTopic: topic });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: ref(stack, shared.function) }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [ref(stack, topic)],
    });
    template.resourceCountIs('AWS::Events::Rule', 2);
    const pattern = (secretId: unknown) => ({
      EventPattern: {
        source: ['aws.secretsmanager'],
        'detail-type': ['AWS Service Event via CloudTrail'],
        detail: {
          eventSource: ['secretsmanager.amazonaws.com'],
          eventName: ['RotationFailed'],
          additionalEventData: { SecretId: secretId },
        },
      },
      Targets: [Match.objectLike({ Arn: ref(stack, topic) })],
    });
    template.hasResourceProperties('AWS::Events::Rule', pattern([ref(stack, a)]));
    template.hasResourceProperties(
      'AWS::Events::Rule',
      pattern([{ prefix: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:imported' }]),
    );
    // The imported secret is known only by a partial ARN: IAM and the invoke condition match its random suffix.
    expect(rotationPolicy(template, 'RotB')).toEqual([
      { Action: SECRET_ACTIONS, Effect: 'Allow', Resource: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:imported-??????' },
    ]);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      SourceArn: 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:imported-??????',
      SourceAccount: { Ref: 'AWS::AccountId' },
    });
  });
});

describe('across stacks: shared functions in a rotation stack, secrets in an app stack', () => {
  const app = unbundledApp();
  const rotationStack = new Stack(app, 'Rotation');
  const appStack = new Stack(app, 'App');
  const vpc = new ec2.Vpc(rotationStack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const shared = new RotationFunction(rotationStack, 'PgSingle', {
    entry: STUB_ENTRY,
    engine: RotationEngine.POSTGRES,
    strategy: RotationStrategy.SINGLE_USER,
    vpc,
    sharedSecretNamePattern: 'myapp/*',
  });
  const db = new rds.DatabaseInstance(appStack, 'Db', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_17 }),
    vpc,
    credentials: rds.Credentials.fromGeneratedSecret('admin', { secretName: 'myapp/master' }),
  });
  const rotation = DatabaseSecretRotation.forInstance(appStack, 'Rotation', db, { rotationFunction: shared });
  const rotationTemplate = Template.fromStack(rotationStack);
  const appTemplate = Template.fromStack(appStack);

  it('has no dependency cycle: the rotation stack never refers to the app stack', () => {
    expect(appStack.dependencies).toContain(rotationStack);
    expect(rotationStack.dependencies).not.toContain(appStack);
    expect(JSON.stringify(rotationTemplate.toJSON())).not.toContain('Fn::ImportValue');
  });

  it('puts the per-secret grants and the ingress in the app stack, and relies on the shared permission', () => {
    appTemplate.resourceCountIs('AWS::Lambda::Permission', 0);
    rotationTemplate.resourceCountIs('AWS::Lambda::Permission', 1);
    appTemplate.resourceCountIs('AWS::EC2::SecurityGroupIngress', 1);
    appTemplate.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ 'Fn::ImportValue': Match.stringLikeRegexp('PgSingleServiceRole') }],
    });
    appTemplate.hasResourceProperties('AWS::SecretsManager::RotationSchedule', {
      RotationLambdaARN: { 'Fn::ImportValue': Match.stringLikeRegexp('PgSingleFunction') },
    });
    expect(rotation.permission).toBeUndefined();
  });
});

describe('synth-time errors', () => {
  const secretIn = (stack: Stack) => new secretsmanager.Secret(stack, 'Secret');

  it('alternating users without a master secret', () => {
    const stack = unbundledStack();
    expect(
      () =>
        new DatabaseSecretRotation(stack, 'R', {
          secret: secretIn(stack),
          engine: RotationEngine.POSTGRES,
          strategy: RotationStrategy.ALTERNATING_USERS,
          entry: STUB_ENTRY,
        } as never),
    ).toThrow(/alternating users need masterSecret/);
  });

  it('a missing secret, or an engine, strategy or TLS mode outside its enum (JavaScript callers), before anything is built', () => {
    const stack = unbundledStack();
    const secretIn = (stack: Stack) => new secretsmanager.Secret(stack, `Secret${stack.node.children.length}`);
    const cases: [string, object, RegExp][] = [
      ['NoSecret', { engine: RotationEngine.POSTGRES }, /NoSecret: secret is required/],
      ['Oracle', { secret: secretIn(stack), engine: 'oracle' }, /Oracle: engine must be one of postgres, mysql; got "oracle"/],
      ['NoEngine', { secret: secretIn(stack) }, /NoEngine: engine must be one of postgres, mysql; got nothing/],
      [
        'Multi',
        { secret: secretIn(stack), engine: RotationEngine.MYSQL, strategy: 'multi-user' },
        /Multi: strategy must be one of single-user, alternating-users; got "multi-user"/,
      ],
      [
        'Tls',
        { secret: secretIn(stack), engine: RotationEngine.MYSQL, tlsMode: 'verify-ca' },
        /Tls\/RotationFunction: tlsMode must be one of/,
      ],
    ];
    for (const [id, props, message] of cases) {
      expect(() => new DatabaseSecretRotation(stack, id, { entry: STUB_ENTRY, ...props } as never)).toThrow(message);
      const built = stack.node.tryFindChild(id)?.node.findAll() ?? [];
      expect(built.filter((c) => c instanceof CfnResource)).toEqual([]);
    }
    expect(() => new RotationFunction(stack, 'Fn', { engine: RotationEngine.POSTGRES, entry: STUB_ENTRY } as never)).toThrow(
      /Fn: strategy must be one of single-user, alternating-users; got nothing/,
    );
  });

  it('a shared function of another strategy or engine', () => {
    const stack = unbundledStack();
    const fn = new RotationFunction(stack, 'Fn', {
      entry: STUB_ENTRY,
      engine: RotationEngine.POSTGRES,
      strategy: RotationStrategy.SINGLE_USER,
    });
    const master = new secretsmanager.Secret(stack, 'Master');
    expect(
      () =>
        new DatabaseSecretRotation(stack, 'R1', {
          secret: secretIn(stack),
          masterSecret: master,
          engine: RotationEngine.POSTGRES,
          strategy: RotationStrategy.ALTERNATING_USERS,
          rotationFunction: fn,
        }),
    ).toThrow(/rotates postgres \(single-user\), this secret needs postgres \(alternating-users\)/);
    expect(
      () =>
        new DatabaseSecretRotation(stack, 'R2', {
          secret: new secretsmanager.Secret(stack, 'Other'),
          engine: RotationEngine.MYSQL,
          rotationFunction: fn,
        }),
    ).toThrow(/needs mysql \(single-user\)/);
  });

  it('function options next to a shared function', () => {
    const stack = unbundledStack();
    const fn = new RotationFunction(stack, 'Fn', {
      entry: STUB_ENTRY,
      engine: RotationEngine.POSTGRES,
      strategy: RotationStrategy.SINGLE_USER,
    });
    expect(
      () =>
        new DatabaseSecretRotation(stack, 'R', {
          secret: secretIn(stack),
          engine: RotationEngine.POSTGRES,
          rotationFunction: fn,
          memorySize: 1024,
          passwordPolicy: { length: 20 },
        }),
    ).toThrow(/memorySize, passwordPolicy configure a function/);
  });

  it("a secret outside the shared function's name pattern", () => {
    const stack = unbundledStack();
    const fn = new RotationFunction(stack, 'Fn', {
      entry: STUB_ENTRY,
      engine: RotationEngine.POSTGRES,
      strategy: RotationStrategy.SINGLE_USER,
      sharedSecretNamePattern: 'myapp/*',
    });
    const secret = new secretsmanager.Secret(stack, 'S', { secretName: 'otherapp/db' });
    expect(() => new DatabaseSecretRotation(stack, 'R', { secret, engine: RotationEngine.POSTGRES, rotationFunction: fn })).toThrow(
      /otherapp\/db does not match .*myapp\/\*/,
    );
  });

  it('isolated subnets without a Secrets Manager endpoint, and the two ways to fix it', () => {
    const isolated = (stack: Stack) =>
      new ec2.Vpc(stack, 'Vpc', {
        natGateways: 0,
        subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
      });
    const broken = unbundledStack();
    new DatabaseSecretRotation(broken, 'R', {
      secret: secretIn(broken),
      engine: RotationEngine.MYSQL,
      vpc: isolated(broken),
      entry: STUB_ENTRY,
    } as never);
    expect(() => Template.fromStack(broken)).toThrow(/isolated subnets \(no NAT\) and cannot reach Secrets Manager. Pass `endpoint`/);

    const withEndpoint = unbundledStack();
    const vpc = isolated(withEndpoint);
    const endpoint = vpc.addInterfaceEndpoint('Sm', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER, open: false });
    new DatabaseSecretRotation(withEndpoint, 'R', {
      secret: secretIn(withEndpoint),
      engine: RotationEngine.MYSQL,
      vpc,
      endpoint,
      entry: STUB_ENTRY,
    } as never);
    const template = Template.fromStack(withEndpoint);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 443,
      ToPort: 443,
      GroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^VpcSmSecurityGroup'), 'GroupId'] },
    });

    const created = unbundledStack();
    new DatabaseSecretRotation(created, 'R', {
      secret: secretIn(created),
      engine: RotationEngine.MYSQL,
      vpc: isolated(created),
      createSecretsManagerEndpoint: true,
      entry: STUB_ENTRY,
    } as never);
    Template.fromStack(created).resourceCountIs('AWS::EC2::VPCEndpoint', 1);
  });

  it('an exclude set that leaves no character to use', () => {
    const stack = unbundledStack();
    expect(
      () =>
        new DatabaseSecretRotation(stack, 'R', {
          secret: secretIn(stack),
          engine: RotationEngine.MYSQL,
          entry: STUB_ENTRY,
          passwordPolicy: { excludeCharacters: 'abcdefghijklmnopqrstuvwxyz0123456789', excludeUppercase: true, excludePunctuation: true },
        } as never),
    ).toThrow(/invalid password policy for mysql: the policy excludes every character type/);
  });

  it('a target while the function is outside any VPC', () => {
    const stack = unbundledStack();
    const { db } = database(stack);
    expect(
      () =>
        new DatabaseSecretRotation(stack, 'R', {
          secret: db.secret!,
          engine: RotationEngine.POSTGRES,
          target: db,
          entry: STUB_ENTRY,
        } as never),
    ).toThrow(/target needs the rotation function in a VPC/);
  });

  it('an invalid schedule', () => {
    const stack = unbundledStack();
    expect(
      () =>
        new DatabaseSecretRotation(stack, 'R', {
          secret: secretIn(stack),
          engine: RotationEngine.MYSQL,
          entry: STUB_ENTRY,
          scheduleExpression: 'rate(1 hours)',
        } as never),
    ).toThrow(/at most every 4 hours/);
  });
});

it('lets an RDS-managed master of unknown instance be described account-wide, acknowledged for cdk-nag', () => {
  const stack = unbundledStack();
  new DatabaseSecretRotation(stack, 'R', {
    secret: new secretsmanager.Secret(stack, 'User'),
    masterSecret: new secretsmanager.Secret(stack, 'Master'),
    engine: RotationEngine.POSTGRES,
    strategy: RotationStrategy.ALTERNATING_USERS,
    resolveRdsManagedMaster: true,
    entry: STUB_ENTRY,
  } as never);
  const rdsStatement = rotationPolicy(Template.fromStack(stack), 'R')[2] as { Action: string[]; Resource: unknown[] };
  expect(rdsStatement.Action).toEqual(['rds:DescribeDBInstances', 'rds:DescribeDBClusters']);
  const arn = (kind: string) => ({
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':rds:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${kind}:*`]],
  });
  expect(rdsStatement.Resource).toEqual([arn('db'), arn('cluster')]);
});

describe("DatabaseSecretRotation accepts aws-cdk-lib's default excludeCharacters (hunt-08)", () => {
  // The value addRotationSingleUser/MultiUser use, with its leading space, from the installed aws-cdk-lib.
  /* eslint-disable @typescript-eslint/no-require-imports -- the installed aws-cdk-lib's own constant */
  const cdkDefault = (
    require(path.join(__dirname, '../../node_modules/aws-cdk-lib/aws-rds/lib/private/util.js')) as {
      DEFAULT_PASSWORD_EXCLUDE_CHARS: string;
    }
  ).DEFAULT_PASSWORD_EXCLUDE_CHARS;
  /* eslint-enable @typescript-eslint/no-require-imports */

  it('as passwordPolicy.excludeCharacters, and as forInstance excludeCharacters carried over from addRotationSingleUser', () => {
    const stack = unbundledStack();
    new DatabaseSecretRotation(stack, 'R', {
      secret: new secretsmanager.Secret(stack, 'Secret'),
      engine: RotationEngine.POSTGRES,
      entry: STUB_ENTRY,
      passwordPolicy: { excludeCharacters: cdkDefault },
    } as never);
    const { db } = database(stack);
    DatabaseSecretRotation.forInstance(stack, 'Single', db, { entry: STUB_ENTRY, excludeCharacters: cdkDefault } as never);
    const functions = Template.fromStack(stack).findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ EXCLUDE_CHARACTERS: cdkDefault }) } },
    });
    expect(Object.keys(functions)).toHaveLength(2);
  });
});
