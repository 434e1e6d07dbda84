import { Duration, Stack } from 'aws-cdk-lib';
import * as path from 'path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { DbTlsMode, RotationEngine, RotationFunction, RotationStrategy } from '../../lib';
import { ROTATION_BUNDLING_TARGET, ROTATION_RUNTIME, esbuildTargetFor } from '../../lib/runtime';
import { VPC_NETWORK_INTERFACE_ACTIONS } from '../../lib/rotation-function';
import { isEsbuildInstalled, findLockFile, resolveRotationEntry } from '../../lib/local-bundling';
import { STUB_ENTRY, policyStatements, unbundledStack, wildcardActions } from '../support/cdk-test-helpers';

const base = { entry: STUB_ENTRY, engine: RotationEngine.POSTGRES, strategy: RotationStrategy.SINGLE_USER };

describe('RotationFunction defaults (one synth shared by the assertions)', () => {
  const stack = unbundledStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const fn = new RotationFunction(stack, 'Rotation', { ...base, vpc });
  const template = Template.fromStack(stack);

  it('uses the one runtime constant, the newest Node.js runtime aws-cdk-lib knows', () => {
    const newest = lambda.Runtime.ALL.filter((r) => r.family === lambda.RuntimeFamily.NODEJS && /^nodejs\d+\.x$/.test(r.name))
      .map((r) => Number(/\d+/.exec(r.name)![0]))
      .sort((a, b) => b - a)[0];
    expect(ROTATION_RUNTIME.name).toBe(`nodejs${newest}.x`);
    expect(ROTATION_BUNDLING_TARGET).toBe(`node${newest}`);
    expect(esbuildTargetFor(lambda.Runtime.NODEJS_22_X)).toBe('node22');
    expect(() => esbuildTargetFor(lambda.Runtime.NODEJS_LATEST)).not.toThrow();
  });

  it('is arm64, 60 s, 256 MB, on the runtime constant, with index.handler', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: ROTATION_RUNTIME.name,
      Architectures: ['arm64'],
      Timeout: 60,
      MemorySize: 256,
      Handler: 'index.handler',
    });
  });

  it('sets exactly the strategy, TLS mode, CA bundle and resolved password policy, and no endpoint', () => {
    const [fnResource] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(fnResource.Properties.Environment.Variables).toEqual({
      ROTATION_STRATEGY: 'single-user',
      DB_TLS_MODE: 'verify-full',
      NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
      PASSWORD_LENGTH: '32',
      EXCLUDE_CHARACTERS: ':/@"\'\\',
      EXCLUDE_NUMBERS: 'false',
      EXCLUDE_PUNCTUATION: 'false',
      EXCLUDE_UPPERCASE: 'false',
      EXCLUDE_LOWERCASE: 'false',
      REQUIRE_EACH_INCLUDED_TYPE: 'true',
    });
  });

  it('logs to its own log group with a retention, not through the logRetention custom resource', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    template.hasResourceProperties('AWS::Lambda::Function', {
      LoggingConfig: { LogGroup: { Ref: stack.getLogicalId(fn.logGroup.node.defaultChild as logs.CfnLogGroup) } },
    });
    template.resourceCountIs('Custom::LogRetention', 0);
  });

  it('runs in the VPC private subnets with its own security group', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: {
        SubnetIds: vpc.privateSubnets.map((s) => ({ Ref: stack.getLogicalId(s.node.defaultChild as ec2.CfnSubnet) })),
        SecurityGroupIds: [{ 'Fn::GetAtt': [stack.getLogicalId(fn.securityGroup!.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] }],
      },
    });
    expect(fn.securityGroup).toBeDefined();
  });

  it('has a role with no managed policies and exactly these statements', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } }] },
      ManagedPolicyArns: Match.absent(),
    });
    const statements = Object.values(policyStatements(template)).flat();
    expect(statements).toEqual(
      expect.arrayContaining([
        { Action: [...VPC_NETWORK_INTERFACE_ACTIONS], Effect: 'Allow', Resource: '*' },
        {
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Effect: 'Allow',
          Resource: { 'Fn::GetAtt': [stack.getLogicalId(fn.logGroup.node.defaultChild as logs.CfnLogGroup), 'Arn'] },
        },
      ]),
    );
    expect(statements).toHaveLength(2);
  });

  it('grants "*" only to the VPC network-interface actions (passwords are generated in the function)', () => {
    expect(wildcardActions(template)).toEqual([...VPC_NETWORK_INTERFACE_ACTIONS].sort());
  });

  it('is created only after the policies Lambda checks at CreateFunction', () => {
    const [fnResource] = Object.values(template.findResources('AWS::Lambda::Function'));
    const policyIds = Object.keys(template.findResources('AWS::IAM::Policy'));
    expect(fnResource.DependsOn).toEqual(expect.arrayContaining(policyIds));
  });

  it('adds no invoke permission unless shared', () => {
    template.resourceCountIs('AWS::Lambda::Permission', 0);
  });
});

describe('RotationFunction overrides', () => {
  it('takes every function option a user may need', () => {
    const stack = unbundledStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const sg = new ec2.SecurityGroup(stack, 'Sg', { vpc });
    const boundary = new iam.ManagedPolicy(stack, 'Boundary', {
      statements: [new iam.PolicyStatement({ actions: ['secretsmanager:*'], resources: ['*'] })],
    });
    const fn = new RotationFunction(stack, 'Rotation', {
      ...base,
      engine: RotationEngine.MYSQL,
      strategy: RotationStrategy.ALTERNATING_USERS,
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [sg],
      memorySize: 512,
      timeout: Duration.seconds(90),
      architecture: lambda.Architecture.X86_64,
      tracing: lambda.Tracing.ACTIVE,
      reservedConcurrentExecutions: 2,
      permissionsBoundary: boundary,
      functionName: 'rotate-mysql',
      logRetention: logs.RetentionDays.ONE_YEAR,
      tlsMode: DbTlsMode.REQUIRE,
      testQuery: 'SELECT 2',
      passwordPolicy: { length: 40, excludeCharacters: '/@"\'\\`', excludePunctuation: true },
      createSecretsManagerEndpoint: true,
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'rotate-mysql',
      MemorySize: 512,
      Timeout: 90,
      Architectures: ['x86_64'],
      TracingConfig: { Mode: 'Active' },
      ReservedConcurrentExecutions: 2,
      Environment: {
        Variables: Match.objectLike({
          ROTATION_STRATEGY: 'alternating-users',
          DB_TLS_MODE: 'require',
          TEST_QUERY: 'SELECT 2',
          PASSWORD_LENGTH: '40',
          EXCLUDE_CHARACTERS: '/@"\'\\`',
          EXCLUDE_PUNCTUATION: 'true',
          NODE_EXTRA_CA_CERTS: '/var/runtime/ca-cert.pem',
        }),
      },
      VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [stack.getLogicalId(sg.node.defaultChild as ec2.CfnSecurityGroup), 'GroupId'] }] },
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365 });
    template.hasResourceProperties('AWS::IAM::Role', {
      PermissionsBoundary: { Ref: stack.getLogicalId(boundary.node.defaultChild as iam.CfnManagedPolicy) },
    });
    expect(fn.securityGroup).toBeUndefined();
    // Tracing adds X-Ray, the second and last wildcard.
    expect(wildcardActions(template)).toEqual(
      [...VPC_NETWORK_INTERFACE_ACTIONS, 'xray:PutTelemetryRecords', 'xray:PutTraceSegments'].sort(),
    );
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('secretsmanager')])] }),
      PrivateDnsEnabled: true,
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 443, ToPort: 443 });
  });

  it('uses a given role as-is (no role of its own) and adds its statements to it', () => {
    const stack = unbundledStack();
    const role = new iam.Role(stack, 'Mine', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const fn = new RotationFunction(stack, 'Rotation', { ...base, role });
    expect(fn.role).toBe(role);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::IAM::Role', 1);
    expect(wildcardActions(template)).toEqual([]);
  });

  it('shares one invoke permission with BOTH SourceAccount and an ArnLike SourceArn prefix', () => {
    const stack = unbundledStack();
    const fn = new RotationFunction(stack, 'Rotation', { ...base, sharedSecretNamePattern: 'myapp/*' });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Lambda::Permission', 1);
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'secretsmanager.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: {
        'Fn::Join': [
          '',
          [
            'arn:',
            { Ref: 'AWS::Partition' },
            ':secretsmanager:',
            { Ref: 'AWS::Region' },
            ':',
            { Ref: 'AWS::AccountId' },
            ':secret:myapp/*',
          ],
        ],
      },
    });
    expect(fn.sharedSourceArn).toBeDefined();
  });

  it('matches an exact shared secret name with its random ARN suffix', () => {
    const stack = new Stack(undefined, 'S', { env: { account: '111122223333', region: 'eu-west-1' } });
    const fn = new RotationFunction(stack, 'Rotation', { ...base, sharedSecretNamePattern: 'myapp/db' });
    expect(JSON.stringify(stack.resolve(fn.sharedSourceArn))).toContain(':secretsmanager:eu-west-1:111122223333:secret:myapp/db-??????"');
  });
});

describe('RotationFunction synth-time errors', () => {
  it.each([
    [{ excludeCharacters: 'x'.repeat(4097) }, /excludeCharacters may hold at most 4096 characters/],
    [{ excludeNumbers: true, excludePunctuation: true, excludeUppercase: true, excludeLowercase: true }, /every character type/],
    [{ length: 2 }, /shorter than the 4 character types/],
    [{ length: 0 }, /length must be an integer/],
  ])('refuses the password policy %o', (passwordPolicy, message) => {
    const stack = unbundledStack();
    expect(() => new RotationFunction(stack, 'Rotation', { ...base, passwordPolicy })).toThrow(message);
  });

  it('fails in isolated subnets with no endpoint, naming the fixes', () => {
    const stack = unbundledStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      natGateways: 0,
      subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    new RotationFunction(stack, 'Rotation', { ...base, vpc });
    expect(() => Template.fromStack(stack)).toThrow(/isolated subnets \(no NAT\).*endpoint.*createSecretsManagerEndpoint/s);
  });

  it('accepts isolated subnets once an endpoint is registered, even after construction', () => {
    const stack = unbundledStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', {
      natGateways: 0,
      subnetConfiguration: [{ name: 'db', subnetType: ec2.SubnetType.PRIVATE_ISOLATED }],
    });
    const fn = new RotationFunction(stack, 'Rotation', { ...base, vpc });
    fn.useSecretsManagerEndpoint(vpc.addInterfaceEndpoint('Sm', { service: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER }));
    expect(() => Template.fromStack(stack)).not.toThrow();
  });

  it('refuses network options without a vpc', () => {
    const stack = unbundledStack();
    expect(() => new RotationFunction(stack, 'Rotation', { ...base, createSecretsManagerEndpoint: true })).toThrow(/need a vpc/);
  });
});

describe('local bundling inputs', () => {
  it('finds the repository lock file above an entry', () => {
    expect(findLockFile(__dirname)).toMatch(/package-lock\.json$/);
  });

  it('names every place it looked when no handler exists', () => {
    expect(() => resolveRotationEntry(RotationEngine.MYSQL, ['/nowhere/a.ts', '/nowhere/a.js'])).toThrow(
      'No mysql rotation handler found; looked for /nowhere/a.ts, /nowhere/a.js',
    );
  });

  it('detects esbuild from the project and reports it missing elsewhere', () => {
    expect(isEsbuildInstalled([__dirname])).toBe(true);
    expect(isEsbuildInstalled(['/'])).toBe(false);
  });
});

describe('RotationFunction excludeCharacters: whatever GetRandomPassword accepts', () => {
  // aws-cdk-lib's own default for addRotationSingleUser/MultiUser, read from the installed version.
  /* eslint-disable @typescript-eslint/no-require-imports -- the installed aws-cdk-lib's own constant */
  const cdkDefault = (
    require(path.join(__dirname, '../../node_modules/aws-cdk-lib/aws-rds/lib/private/util.js')) as {
      DEFAULT_PASSWORD_EXCLUDE_CHARS: string;
    }
  ).DEFAULT_PASSWORD_EXCLUDE_CHARS;
  /* eslint-enable @typescript-eslint/no-require-imports */

  it.each([
    ["aws-cdk-lib's default, which holds a space", cdkDefault],
    ['4096 characters', '~'.repeat(4096)],
    ['characters outside every class (non-ASCII, a tab)', 'é€\t'],
    ['an astral character counted once', '😀'.repeat(4096)],
  ])('accepts %s and passes it on unchanged', (_name, excludeCharacters) => {
    const stack = unbundledStack();
    new RotationFunction(stack, 'Rotation', { ...base, passwordPolicy: { excludeCharacters } });
    const fnResource = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function'))[0] as {
      Properties: { Environment: { Variables: Record<string, string> } };
    };
    expect(fnResource.Properties.Environment.Variables.EXCLUDE_CHARACTERS).toBe(excludeCharacters);
  });

  it("holds a space: aws-cdk-lib's default really is the case this guards", () => {
    expect(cdkDefault).toContain(' ');
  });
});
