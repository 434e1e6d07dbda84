/**
 * The rotation Lambda's handler, built once per container with injectable clients, connector and
 * logger. Configuration is read here, at cold start, so a bad environment fails the first invocation
 * before any step runs.
 *
 * `engine` is the DatabaseEngine object itself, never a name looked up at run time: importing only the
 * one engine keeps each Lambda bundle free of the other engine's driver.
 */
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AuthenticationError, EventValidationError, ToolkitError, summarizeCause, type FailureReason } from '../errors';
import { sdkSecretsApi } from '../secrets-api/sdk-adapter';
import { secretsApiFromEnvironment } from '../secrets-api/from-environment';
import type { Env } from '../secrets-client';
import { boundedRdsLookup, boundedRdsTopology, boundedSecretsApi } from './bounded-clients';
import { createSecret } from './create-secret';
import { Deadline } from './deadline';
import type { Connector, DatabaseEngine } from './database-engine';
import { isRotationStep, parseRotationEvent, type RotationHandler, type RotationStep } from './event';
import { finishSecret } from './finish-secret';
import { checkRotationGate } from './gate';
import { jsonLineLogger, type RotationLogger, type StepOutcome } from './logger';
import { defaultRdsLookup, type RdsEndpointLookup } from './rds-endpoint';
import { defaultRdsTopology, type RdsTopology } from './rds-replica';
import { rotationSettingsFromEnv, type RotationSettings, type RotationStrategyName } from './rotation-settings';
import { describeSecret } from './secret-versions';
import { setSecretAlternatingUsers } from './set-secret-alternating-users';
import { setSecretSingleUser } from './set-secret-single-user';
import type { StepContext, StepResult } from './step-context';
import { testSecret } from './test-secret';

/** What `createRotationHandler` is built from: the engine, and overrides of what it reads from the environment. */
export interface CreateRotationHandlerOptions {
  /** The database engine to rotate: `postgresEngine` or `mysqlEngine` (from `shared/engines/`). */
  readonly engine: DatabaseEngine;
  /**
   * The rotation strategy, as AWS names it: the user changes its own password, or two users alternate.
   * @default the ROTATION_STRATEGY variable, else `single-user`
   */
  readonly strategy?: RotationStrategyName;
  /**
   * An SDK client to call Secrets Manager with (tests, callers with their own configuration).
   * @default the signed client of `secretsApiFromEnvironment(env)` (no SDK client is loaded)
   */
  readonly secretsClient?: SecretsManagerClient;
  /** @default the engine's driver connector (`pg` or `mysql2`) */
  readonly connect?: Connector;
  /** The testSecret query, run as the pending user. @default the TEST_QUERY variable, else `SELECT 1` */
  readonly testQuery?: string;
  /** Where the configuration variables are read. @default process.env */
  readonly env?: Env;
  /** @default one JSON line per step on stdout (secret ARN, step, strategy, engine, outcome, ms, error code) */
  readonly logger?: RotationLogger;
  /** Finds an RDS instance's or cluster's endpoint. @default the RDS API, loaded only for RDS-managed master secrets */
  readonly rdsLookup?: RdsEndpointLookup;
  /**
   * Answers whether a secret's host is a reader of its master's database.
   * @default the RDS API, loaded only when a secret's host differs from its master's
   */
  readonly rdsTopology?: RdsTopology;
}

type StepRunner = (ctx: StepContext) => Promise<StepResult>;

/**
 * The handler for one engine. Each invocation logs one line per step (success or failure) and bounds
 * every Secrets Manager, RDS and database call by the Lambda's remaining time (`Deadline`): a call
 * still unanswered then fails the step with a TimeoutError naming it, logged while there is time.
 *
 * The handler rejects (after logging) with a `ToolkitError` naming the secret and the step; Secrets
 * Manager then retries the step.
 *
 * @param options the engine (required) and overrides of the environment's configuration.
 * @returns the Lambda handler, `(event, context) => Promise<void>`.
 * @throws ConfigError at construction for a bad environment (password policy, TLS mode, timeouts).
 * @example
 * import { createRotationHandler, postgresEngine } from 'db-secret-rotation-toolkit/shared';
 *
 * // Built once per container; ROTATION_STRATEGY, DB_TLS_MODE and the password variables come from the environment.
 * export const handler = createRotationHandler({ engine: postgresEngine, strategy: 'alternating-users' });
 */
export function createRotationHandler(options: CreateRotationHandlerOptions): RotationHandler {
  const env = options.env ?? process.env;
  const engine = options.engine;
  const settings: RotationSettings = rotationSettingsFromEnv(env, engine.family, {
    ...(options.strategy !== undefined ? { strategy: options.strategy } : {}),
    ...(options.testQuery !== undefined ? { testQuery: options.testQuery } : {}),
  });
  const sharedClient = options.secretsClient !== undefined ? sdkSecretsApi(options.secretsClient) : secretsApiFromEnvironment(env);
  const rdsLookup = options.rdsLookup ?? defaultRdsLookup;
  const rdsTopology = options.rdsTopology ?? defaultRdsTopology;
  const connector = options.connect ?? engine.defaultConnector;
  const logger = options.logger ?? jsonLineLogger();
  const steps: Readonly<Record<RotationStep, StepRunner>> = {
    createSecret,
    setSecret: settings.strategy === 'alternating-users' ? setSecretAlternatingUsers : setSecretSingleUser,
    testSecret,
    finishSecret,
  };

  return async (rawEvent, invocation) => {
    const started = Date.now();
    const base = { strategy: settings.strategy, engine: engine.family };
    let secretArn: string | undefined;
    let step: string | undefined;
    const report = (outcome: StepOutcome, err?: unknown): void => {
      const failure = err instanceof ToolkitError ? err : undefined;
      logger.log({
        level: outcome === 'failure' ? 'error' : 'info',
        message: failure ? failure.message : err !== undefined ? 'Rotation step failed' : `Rotation step ${outcome}`,
        ...(secretArn !== undefined ? { secretArn } : {}),
        ...(step !== undefined ? { step } : {}),
        ...base,
        outcome,
        durationMs: Date.now() - started,
        ...(failure ? { errorCode: failure.code } : {}),
        ...failureReason(failure),
        ...(failure?.causeSummary ? { cause: failure.causeSummary } : err !== undefined && !failure ? { cause: summarizeCause(err) } : {}),
      });
    };
    try {
      const event = parseRotationEvent(rawEvent);
      step = event.step || undefined;
      secretArn = event.secretId;
      // Every Secrets Manager call of this invocation, the gate's included, ends by the Lambda's deadline.
      const client = boundedSecretsApi(sharedClient, new Deadline(invocation, { secretId: event.secretId, step: event.step }));
      const description = await describeSecret({ client, step: event.step }, event.secretId);
      secretArn = description.ARN ?? event.secretId;
      if (checkRotationGate(description, event.token, { secretId: secretArn, step: event.step }) === 'already-current') {
        report('already-current');
        return;
      }
      if (!isRotationStep(event.step)) {
        throw new EventValidationError(`Invalid step parameter ${JSON.stringify(event.step)}`, { secretId: secretArn });
      }
      const deadline = new Deadline(invocation, { secretId: secretArn, step: event.step });
      const ctx: StepContext = {
        client,
        engine,
        settings,
        event,
        step: event.step,
        secretArn,
        description,
        connector,
        deadline,
        logger,
        rdsLookup: boundedRdsLookup(rdsLookup, deadline, { secretId: secretArn, step: event.step }),
        rdsTopology: boundedRdsTopology(rdsTopology, deadline, { secretId: secretArn, step: event.step }),
      };
      const result = await steps[event.step](ctx);
      report(result === 'skipped' ? 'skipped' : 'success');
    } catch (err) {
      report('failure', err);
      throw err;
    }
  };
}

/**
 * The failure line's `reason`: a refused login's, `master-cannot-grant` from the MySQL refused-grant
 * error, or `not-a-clone` from an alternate user that is not a copy of the current one (read by their
 * field: engines import from here, not the other way round).
 */
function failureReason(failure: ToolkitError | undefined): { reason?: FailureReason } {
  if (failure instanceof AuthenticationError) return failure.reason !== undefined ? { reason: failure.reason } : {};
  const reason = (failure as { reason?: unknown } | undefined)?.reason;
  return reason === 'master-cannot-grant' || reason === 'not-a-clone' ? { reason } : {};
}
