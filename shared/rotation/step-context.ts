/** Everything one rotation step needs, built per invocation by the handler. */
import type { DescribeSecretCommandOutput } from '@aws-sdk/client-secrets-manager';
import type { SecretsApi } from '../secrets-api/secrets-api';
import type { Deadline } from './deadline';
import type { Connector, DatabaseEngine } from './database-engine';
import type { RotationEvent, RotationStep } from './event';
import type { RotationLogger } from './logger';
import type { RdsEndpointLookup } from './rds-endpoint';
import type { RdsTopology } from './rds-replica';
import type { RotationSettings } from './rotation-settings';

export interface StepContext {
  readonly client: SecretsApi;
  /** The database engine whose SQL the step speaks (not the rotation strategy, which is `settings.strategy`). */
  readonly engine: DatabaseEngine;
  readonly settings: RotationSettings;
  readonly event: RotationEvent;
  readonly step: RotationStep;
  /** The ARN from DescribeSecret (the event may carry a name). */
  readonly secretArn: string;
  /**
   * The DescribeSecret the handler's gate made in this invocation. A step reads the staging labels from
   * it instead of asking again: the answer cannot be older than the gate's decision that let it run.
   */
  readonly description: DescribeSecretCommandOutput;
  readonly connector: Connector;
  readonly deadline: Deadline;
  readonly logger: RotationLogger;
  readonly rdsLookup?: RdsEndpointLookup;
  /** The RDS calls of the replica check (a child on another host than its master's), bounded by the deadline. */
  readonly rdsTopology?: RdsTopology;
}

/** What a step reports: it changed something, or found the work already done. */
export type StepResult = 'success' | 'skipped';
