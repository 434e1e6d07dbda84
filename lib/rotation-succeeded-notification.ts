/**
 * Rotation-succeeded notifications: Secrets Manager records a `RotationSucceeded` service event in
 * CloudTrail when a rotation finishes (AWSPENDING became AWSCURRENT), which EventBridge receives as
 * `detail-type: AWS Service Event via CloudTrail` with the secret's ARN in
 * `detail.additionalEventData.SecretId`. One EventBridge rule matches that event for the given
 * secrets and sends it to ONE target: an SNS topic, a Lambda function or an event bus. Applications
 * can then refresh their pools and caches at once instead of waiting for a refused login or a TTL.
 *
 * Delivery is best effort, as for every CloudTrail-derived event: a consumer keeps its own fallback
 * (the reader's refusal retry, `expireAtNextRotation`).
 */
import { Duration, Token } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfigError } from '../shared/errors';

/** Where the events go: exactly one of the three. */
export interface RotationSucceededTarget {
  /**
   * An SNS topic; its resource policy is extended to let EventBridge publish. An encrypted topic's
   * KMS key must also let `events.amazonaws.com` use it (kms:Decrypt, kms:GenerateDataKey*).
   * @default no topic
   */
  readonly topic?: sns.ITopic;
  /** A Lambda function; EventBridge is granted InvokeFunction from this rule only. @default no function */
  readonly function?: lambda.IFunction;
  /**
   * An event bus (this account's or another's); a role allowed events:PutEvents on that bus alone is
   * created. A bus in another account must allow this account in its resource policy.
   * @default no event bus
   */
  readonly eventBus?: events.IEventBus;
}

/** How a failed delivery is retried. */
export interface RotationSucceededDeliveryOptions {
  /** Where events that could not be delivered go. @default none: they are dropped after the retries */
  readonly deadLetterQueue?: sqs.IQueue;
  /** Delivery attempts after the first, 0–185. @default EventBridge's default (185) */
  readonly retryAttempts?: number;
  /** How long an undelivered event is retried, 1 minute to 24 hours. @default EventBridge's default (24 hours) */
  readonly maxEventAge?: Duration;
}

/** Which secrets' rotations are announced, and to which target. */
export interface RotationSucceededNotificationProps extends RotationSucceededTarget, RotationSucceededDeliveryOptions {
  /** The secrets whose successful rotations are announced; at least one, each once. */
  readonly secrets: readonly secretsmanager.ISecret[];
  /** @default 'Secrets Manager rotated the secret' (with the count for several) */
  readonly description?: string;
}

const MAX_RETRY_ATTEMPTS = 185;

/** One EventBridge rule: RotationSucceeded of these secrets, to the given target. */
export class RotationSucceededNotification extends Construct {
  readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: RotationSucceededNotificationProps) {
    super(scope, id);
    validate(this.node.path, props);
    this.rule = new events.Rule(this, 'Rule', {
      description:
        props.description ??
        (props.secrets.length === 1
          ? 'Secrets Manager rotated the secret'
          : `Secrets Manager rotated one of ${props.secrets.length} secrets`),
      eventPattern: rotationSucceededPattern(props.secrets),
      targets: [targetOf(props)],
    });
  }
}

/** The event pattern of RotationSucceeded for `secrets` (an imported secret known by a partial ARN by prefix). */
export function rotationSucceededPattern(secrets: readonly secretsmanager.ISecret[]): events.EventPattern {
  return {
    source: ['aws.secretsmanager'],
    detailType: ['AWS Service Event via CloudTrail'],
    detail: {
      eventSource: ['secretsmanager.amazonaws.com'],
      eventName: ['RotationSucceeded'],
      additionalEventData: {
        // A partial ARN lacks the 6-character suffix: match the name and its dash, not other names it begins.
        SecretId: secrets.map((s) => (s.secretFullArn !== undefined ? s.secretFullArn : { prefix: `${s.secretArn}-` })),
      },
    },
  };
}

function targetOf(props: RotationSucceededNotificationProps): events.IRuleTarget {
  const delivery = {
    ...(props.deadLetterQueue !== undefined ? { deadLetterQueue: props.deadLetterQueue } : {}),
    ...(props.retryAttempts !== undefined ? { retryAttempts: props.retryAttempts } : {}),
    ...(props.maxEventAge !== undefined ? { maxEventAge: props.maxEventAge } : {}),
  };
  if (props.topic !== undefined) return new eventsTargets.SnsTopic(props.topic, delivery);
  if (props.function !== undefined) return new eventsTargets.LambdaFunction(props.function, delivery);
  return new eventsTargets.EventBus(props.eventBus!, props.deadLetterQueue !== undefined ? { deadLetterQueue: props.deadLetterQueue } : {});
}

function validate(where: string, props: RotationSucceededNotificationProps): void {
  const given = (['topic', 'function', 'eventBus'] as const).filter((k) => props[k] !== undefined);
  if (given.length !== 1) {
    throw new ConfigError(
      `${where}: give exactly one target (topic, function or eventBus); got ${given.length === 0 ? 'none' : given.join(' and ')}`,
    );
  }
  if (props.secrets.length === 0) throw new ConfigError(`${where}: secrets is empty; name at least one secret`);
  const arns = props.secrets.map((s) => s.secretArn);
  const twice = arns.find((arn, i) => arns.indexOf(arn) !== i);
  if (twice !== undefined) {
    throw new ConfigError(`${where}: ${Token.isUnresolved(twice) ? 'a secret' : `secret ${twice}`} is listed twice`);
  }
  if (
    props.retryAttempts !== undefined &&
    (!Number.isInteger(props.retryAttempts) || props.retryAttempts < 0 || props.retryAttempts > MAX_RETRY_ATTEMPTS)
  ) {
    throw new ConfigError(`${where}: retryAttempts must be a whole number from 0 to ${MAX_RETRY_ATTEMPTS}`);
  }
  if (props.maxEventAge !== undefined && !props.maxEventAge.isUnresolved()) {
    const seconds = props.maxEventAge.toSeconds();
    if (seconds < 60 || seconds > 86_400) throw new ConfigError(`${where}: maxEventAge must be from 1 minute to 24 hours`);
  }
  if (props.eventBus !== undefined && (props.retryAttempts !== undefined || props.maxEventAge !== undefined)) {
    throw new ConfigError(
      `${where}: an event bus target takes no retryAttempts or maxEventAge (EventBridge retries bus-to-bus delivery itself); a deadLetterQueue is allowed`,
    );
  }
}
