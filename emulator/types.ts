/** The public types of the embedded Secrets Manager endpoint. */

import type { RotationStep, SecretsManagerRotationEvent } from '../shared/rotation/event';

export { ROTATION_STEPS, type RotationStep } from '../shared/rotation/event';

/** What Secrets Manager sends a rotation function for each step: the handlers' own event type. */
export type RotationEvent = SecretsManagerRotationEvent;

/** A rotation function as this endpoint invokes it in process, in place of a Lambda. */
export type RotationFunction = (event: RotationEvent) => Promise<unknown>;

export interface RotationStepRecord {
  readonly step: RotationStep;
  readonly outcome: 'succeeded' | 'failed';
  /** The thrown error's class name and code; its message is not kept (it may quote a value). */
  readonly errorName?: string;
  readonly errorCode?: string;
  readonly durationMs: number;
}

/** How a rotation run was started. */
export type RotationTrigger = 'RotateSecret' | 'retryRotation' | 'testOnly';

export interface RotationRecord {
  readonly secretArn: string;
  readonly secretName: string;
  readonly lambdaArn: string;
  /** The ClientRequestToken: the id of the version the rotation creates. */
  readonly token: string;
  readonly trigger: RotationTrigger;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly outcome: 'succeeded' | 'failed';
  readonly failedStep?: RotationStep;
  readonly steps: readonly RotationStepRecord[];
}

export interface LocalSecretsManagerOptions {
  /** 0 (the default) picks a free port. The endpoint binds 127.0.0.1 only. */
  readonly port?: number;
  readonly region?: string;
  readonly accountId?: string;
  /**
   * False (the default) answers RotateSecret as AWS does even when a step fails, leaving the failure to
   * `rotationHistory` and the log; true makes the call fail with the step's error (for tests).
   */
  readonly surfaceRotationErrors?: boolean;
  /** Where failures are logged, one line each, never with a secret value. Defaults to stderr. */
  readonly log?: (line: string) => void;
  /** The clock; tests of dates inject one. */
  readonly now?: () => Date;
  /**
   * Milliseconds every request waits before it is served: models the network round trip to the real
   * service (benchmarks use 5 ms, a VPC endpoint's round trip). @default 0 (answered at once)
   */
  readonly requestLatencyMs?: number;
  /**
   * Called once per request after its answer is sent (benchmarks count requests per operation on the
   * endpoint side with it). Gets no input or output, which may carry secret values. @default none
   */
  readonly onRequest?: (record: EndpointRequestRecord) => void;
}

/** What `onRequest` learns about one request: its operation, status and time in the endpoint. */
export interface EndpointRequestRecord {
  /** The X-Amz-Target action (e.g. `GetSecretValue`), or `unknown` when there is none. */
  readonly action: string;
  /** The HTTP status answered. */
  readonly status: number;
  /** From the request's arrival to its answer, injected latency included, in milliseconds. */
  readonly durationMs: number;
}

export interface LocalSecretsManager {
  /** `http://127.0.0.1:<port>`, to give the SDK as `endpoint`. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
  readonly accountId: string;
  /** Stops accepting requests and closes open connections. */
  close(): Promise<void>;
  /** Makes `arn` (a Lambda function ARN) invocable by RotateSecret; replaces an earlier registration. */
  registerRotationFunction(arn: string, handler: RotationFunction): void;
  /** The ARNs registered so far. */
  registeredRotationFunctions(): readonly string[];
  /** Every rotation run on the secret (by name or ARN), oldest first; empty for an unknown secret. */
  rotationHistory(secretId: string): readonly RotationRecord[];
  /** Re-runs the four steps of the unfinished rotation with the same token, as the service's retries do. */
  retryRotation(secretId: string): Promise<RotationRecord>;
}
