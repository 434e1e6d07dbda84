/**
 * RotationSucceeded notifications: the EventBridge rule's pattern and its one target (SNS topic, Lambda
 * function, event bus), the DatabaseSecretRotation prop beside the failure rule, synth-time validation,
 * and cdk-nag staying clean.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DatabaseSecretRotation, RotationEngine, RotationSucceededNotification } from '../../lib';
import { acknowledgeNagFinding } from '../../lib/nag-acknowledgement';
import { ConfigError } from '../../shared/errors';
import { STUB_ENTRY, unbundledStack } from '../support/cdk-test-helpers';

const ref = (stack: Stack, construct: { node: { defaultChild?: unknown } }) => ({
  Ref: stack.getLogicalId(construct.node.defaultChild as never),
});
const IMPORTED = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:imported';

function pattern(secretIds: unknown[]) {
  return {
    source: ['aws.secretsmanager'],
    'detail-type': ['AWS Service Event via CloudTrail'],
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: ['RotationSucceeded'],
      additionalEventData: { SecretId: secretIds },
    },
  };
}

function handler(stack: Stack, id = 'Fn'): lambda.Function {
  return new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => {};'),
  });
}

describe('RotationSucceededNotification', () => {
  it('routes RotationSucceeded of several secrets to an SNS topic, an imported secret matched by its name and dash', () => {
    const stack = unbundledStack();
    const a = new secretsmanager.Secret(stack, 'A');
    const b = secretsmanager.Secret.fromSecretPartialArn(stack, 'B', IMPORTED);
    const topic = new sns.Topic(stack, 'Topic');
    new RotationSucceededNotification(stack, 'N', { secrets: [a, b], topic });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: pattern([ref(stack, a), { prefix: `${IMPORTED}-` }]),
      Targets: [Match.objectLike({ Arn: ref(stack, topic) })],
      Description: 'Secrets Manager rotated one of 2 secrets',
    });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } })] },
    });
  });

  it('invokes a Lambda function, allowed from this rule only, with the delivery options', () => {
    const stack = unbundledStack();
    const fn = handler(stack);
    const dlq = new sqs.Queue(stack, 'Dlq');
    const n = new RotationSucceededNotification(stack, 'N', {
      secrets: [new secretsmanager.Secret(stack, 'A')],
      function: fn,
      deadLetterQueue: dlq,
      retryAttempts: 4,
      maxEventAge: Duration.hours(2),
    });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [stack.getLogicalId(fn.node.defaultChild as never), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 4, MaximumEventAgeInSeconds: 7200 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [stack.getLogicalId(dlq.node.defaultChild as never), 'Arn'] } },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [stack.getLogicalId(n.rule.node.defaultChild as never), 'Arn'] },
    });
  });

  it('forwards to another event bus through a role that may put events on that bus only', () => {
    const stack = unbundledStack();
    const bus = events.EventBus.fromEventBusArn(stack, 'Bus', 'arn:aws:events:us-east-1:444455556666:event-bus/platform');
    new RotationSucceededNotification(stack, 'N', { secrets: [new secretsmanager.Secret(stack, 'A')], eventBus: bus });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      Targets: [Match.objectLike({ Arn: 'arn:aws:events:us-east-1:444455556666:event-bus/platform', RoleArn: Match.anyValue() })],
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [{ Action: 'events:PutEvents', Effect: 'Allow', Resource: 'arn:aws:events:us-east-1:444455556666:event-bus/platform' }],
      },
    });
  });

  describe('refuses at synth', () => {
    const cases: [string, (stack: Stack) => object, RegExp][] = [
      ['no target', () => ({}), /exactly one target.*none/],
      ['two targets', (s) => ({ topic: new sns.Topic(s, 'T'), function: handler(s) }), /topic and function/],
      ['no secret', (s) => ({ topic: new sns.Topic(s, 'T'), secrets: [] }), /secrets is empty/],
      [
        'a secret twice',
        (s) => {
          const secret = new secretsmanager.Secret(s, 'Twice');
          return { topic: new sns.Topic(s, 'T'), secrets: [secret, secret] };
        },
        /listed twice/,
      ],
      ['retryAttempts out of range', (s) => ({ topic: new sns.Topic(s, 'T'), retryAttempts: 186 }), /0 to 185/],
      ['maxEventAge under a minute', (s) => ({ topic: new sns.Topic(s, 'T'), maxEventAge: Duration.seconds(30) }), /1 minute to 24 hours/],
      [
        'retries on a bus target',
        (s) => ({ eventBus: new events.EventBus(s, 'Bus'), retryAttempts: 2 }),
        /event bus target takes no retryAttempts/,
      ],
    ];
    it.each(cases)('%s', (_label, props, message) => {
      const stack = unbundledStack();
      let thrown: unknown;
      try {
        new RotationSucceededNotification(stack, 'N', { secrets: [new secretsmanager.Secret(stack, 'A')], ...props(stack) } as never);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(ConfigError);
      expect((thrown as Error).message).toMatch(message);
    });
  });
});

describe('DatabaseSecretRotation rotationSucceeded', () => {
  it('adds the success rule beside the failure rule, for the rotated secret', () => {
    const stack = unbundledStack();
    const secret = new secretsmanager.Secret(stack, 'S');
    const alarms = new sns.Topic(stack, 'Alarms');
    const fn = handler(stack, 'Refresh');
    const rotation = new DatabaseSecretRotation(stack, 'R', {
      secret,
      engine: RotationEngine.POSTGRES,
      entry: STUB_ENTRY,
      alarmTopic: alarms,
      rotationSucceeded: { function: fn },
    } as never);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::Rule', 2);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: Match.objectLike({ eventName: ['RotationFailed'] }) }),
    });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: pattern([ref(stack, secret)]),
      Description: 'Secrets Manager rotated the secret',
    });
    expect(rotation.rotationSucceededNotification?.rule).toBeDefined();
  });

  it('adds no success rule by default', () => {
    const stack = unbundledStack();
    new DatabaseSecretRotation(stack, 'R', {
      secret: new secretsmanager.Secret(stack, 'S'),
      engine: RotationEngine.MYSQL,
      entry: STUB_ENTRY,
    } as never);
    Template.fromStack(stack).resourceCountIs('AWS::Events::Rule', 0);
  });
});

it('leaves cdk-nag AwsSolutions clean for all three targets', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-nag-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
    const stack = new Stack(app, 'Notify');
    const secret = secretsmanager.Secret.fromSecretNameV2(stack, 'S', 'myapp/app');
    const topic = sns.Topic.fromTopicArn(stack, 'T', 'arn:aws:sns:us-east-1:111122223333:rotations');
    const fn = lambda.Function.fromFunctionArn(stack, 'F', 'arn:aws:lambda:us-east-1:111122223333:function:refresh-pools');
    const bus = events.EventBus.fromEventBusArn(stack, 'B', 'arn:aws:events:us-east-1:444455556666:event-bus/platform');
    new RotationSucceededNotification(stack, 'ToTopic', { secrets: [secret], topic });
    new RotationSucceededNotification(stack, 'ToFunction', { secrets: [secret], function: fn });
    new RotationSucceededNotification(stack, 'ToBus', { secrets: [secret], eventBus: bus });
    // A control: a bare topic's known finding (no SSL-only policy), acknowledged, proves the plugin ran over this stack.
    const control = new sns.Topic(stack, 'Control');
    acknowledgeNagFinding(control, 'AwsSolutions-SNS3', 'The control resource of this test, never deployed');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
    const report = JSON.parse(fs.readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: {
        pluginName: string;
        violations: unknown[];
        suppressedViolations?: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
      }[];
    };
    const nag = report.pluginReports.find((r) => r.pluginName === 'AwsSolutions')!;
    expect(nag.violations).toEqual([]);
    const suppressed = (nag.suppressedViolations ?? []).flatMap((v) =>
      v.violatingConstructs.map((c) => `${v.ruleName} ${c.constructPath}`),
    );
    expect(suppressed).toEqual(['AwsSolutions-SNS3 Notify/Control/Resource']);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
