/**
 * One scenario end to end: demo user (and master), secret in the RDS format, the rotation function
 * attached through RotateSecret, and each rotation verified from outside before the next starts.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { DescribeSecretCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { isReattemptRefusal } from '../../operator/resume-answer';
import { DEFAULT_PORTS, type DatabaseSecret } from '../../shared/database-secret';
import { fromSecretsManagerError } from '../../shared/errors';
import { canLoginMysql, canLoginPostgres } from '../admin-connections';
import { mysqlAdminSettings, postgresAdminSettings, type Env } from '../db-settings';
import { describeError } from '../../operator/cli-io';
import type { RotationStep } from '../../emulator';
import { ensureDemoMaster, ensureDemoUser } from './demo-accounts';
import { COMPOSE_DATABASE_HOSTS, demoMasterSecretName, demoSecretName, demoUsername, scenarioLabel, type Scenario } from './scenarios';
import { demoSecretString, upsertSecret } from './seed-secret';
import type { RotationTarget } from './target';
import { readVersion, verifyRotation, type Check, type LoginProbe } from './verify-rotation';
import type { EngineFamily } from '../../shared/database-secret';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';

export type StepTimes = Partial<Record<RotationStep, number>>;

export interface RotationRun {
  readonly index: number;
  /**
   * The id of the version this rotation made AWSCURRENT (or should have): the run's own token, unless the
   * endpoint answered RotateSecret with another version (see `resumed`).
   */
  readonly versionId: string;
  /**
   * Set when the endpoint finished an earlier, unfinished rotation instead of starting one under this
   * run's token: LocalStack re-runs the version AWSPENDING is on and answers with its id.
   */
  readonly resumed?: { readonly versionId: string; readonly token: string };
  readonly outcome: 'succeeded' | 'failed';
  /** Per-step durations from the endpoint's record, where it keeps one. */
  readonly steps: StepTimes;
  readonly failedStep?: RotationStep;
  readonly rotateMs: number;
  readonly verifyMs: number;
  readonly checks: readonly Check[];
  readonly error?: string;
}

export interface ScenarioResult {
  /** `unknown` for a `--secret-id` that could not be read as a database secret (missing, not JSON, another engine). */
  readonly engine: EngineFamily | 'unknown';
  readonly strategy: RotationStrategyName | 'existing';
  readonly secretId: string;
  readonly functionArn?: string;
  readonly outcome: 'succeeded' | 'failed';
  readonly setupMs: number;
  readonly rotations: readonly RotationRun[];
  /** Why the scenario failed before or outside a rotation. */
  readonly error?: string;
}

export interface ScenarioContext {
  readonly target: RotationTarget;
  readonly env: Env;
  readonly rotations: number;
  readonly progress: (line: string) => void;
}

/** Days between scheduled rotations on the demo secrets; only shown by rotation:status. */
const DEMO_ROTATION_DAYS = 30;

export async function runDemoScenario(scenario: Scenario, ctx: ScenarioContext): Promise<ScenarioResult> {
  const label = scenarioLabel(scenario);
  const secretId = demoSecretName(scenario);
  const base = { engine: scenario.engine, strategy: scenario.strategy, secretId };
  let functionArn: string | undefined;
  const started = performance.now();
  try {
    // First, so that a target without the function fails the scenario before any user or secret is made.
    functionArn = await ctx.target.rotationFunction(scenario.engine, scenario.strategy);
    ctx.progress(`${label}: preparing demo user ${demoUsername(scenario)}`);
    const { host, port } = secretEndpoint(scenario.engine, ctx);
    const login = await ensureDemoUser(scenario.engine, demoUsername(scenario), ctx.env);
    let masterarn: string | undefined;
    if (scenario.strategy === 'alternating-users') {
      const master = await ensureDemoMaster(scenario.engine, ctx.env);
      ctx.progress(`${label}: master secret for ${master.username}`);
      masterarn = await upsertSecret(
        ctx.target.client,
        demoMasterSecretName(scenario.engine),
        demoSecretString({ engine: scenario.engine, host, port, login: master }),
        `rotate:local demo master (${scenario.engine})`,
      );
    }
    ctx.progress(`${label}: writing secret ${secretId}`);
    await upsertSecret(
      ctx.target.client,
      secretId,
      demoSecretString({ engine: scenario.engine, host, port, login, ...(masterarn !== undefined ? { masterarn } : {}) }),
      `rotate:local demo secret (${label})`,
    );
    const setupMs = roundMs(performance.now() - started);
    const rotations = await rotateRepeatedly(secretId, functionArn, label, ctx);
    return { ...base, functionArn, outcome: allSucceeded(rotations, ctx.rotations), setupMs, rotations };
  } catch (err) {
    return {
      ...base,
      ...(functionArn !== undefined ? { functionArn } : {}),
      outcome: 'failed',
      setupMs: roundMs(performance.now() - started),
      rotations: [],
      error: describeError(err),
    };
  }
}

/** `--secret-id`: rotates a secret that already exists, through its attached function or the one for its engine. */
export async function runExistingSecret(
  secretId: string,
  strategy: RotationStrategyName | undefined,
  ctx: ScenarioContext,
): Promise<ScenarioResult> {
  const started = performance.now();
  let engine: EngineFamily | 'unknown' = 'unknown';
  try {
    const current = await readVersion(ctx.target.client, secretId, { stage: 'AWSCURRENT' });
    const family = current.secret.family;
    engine = family;
    let described;
    try {
      described = await ctx.target.client.send(new DescribeSecretCommand({ SecretId: secretId }));
    } catch (err) {
      throw fromSecretsManagerError(err, 'DescribeSecret', { secretId });
    }
    const functionArn =
      strategy !== undefined || !described.RotationLambdaARN
        ? await ctx.target.rotationFunction(family, strategy ?? 'single-user')
        : described.RotationLambdaARN;
    const setupMs = roundMs(performance.now() - started);
    const rotations = await rotateRepeatedly(secretId, functionArn, secretId, ctx);
    return {
      engine,
      strategy: strategy ?? 'existing',
      secretId,
      functionArn,
      outcome: allSucceeded(rotations, ctx.rotations),
      setupMs,
      rotations,
    };
  } catch (err) {
    return {
      engine,
      strategy: strategy ?? 'existing',
      secretId,
      outcome: 'failed',
      setupMs: roundMs(performance.now() - started),
      rotations: [],
      error: describeError(err),
    };
  }
}

async function rotateRepeatedly(secretId: string, functionArn: string, label: string, ctx: ScenarioContext): Promise<RotationRun[]> {
  const runs: RotationRun[] = [];
  for (let index = 1; index <= ctx.rotations; index += 1) {
    ctx.progress(`${label}: rotation ${index}/${ctx.rotations}`);
    const run = await rotateOnce(secretId, functionArn, index, ctx);
    runs.push(run);
    ctx.progress(`${label}: rotation ${index}/${ctx.rotations} ${run.outcome}${run.error ? `: ${run.error}` : ''}`);
    if (run.outcome === 'failed') break;
  }
  return runs;
}

async function rotateOnce(secretId: string, functionArn: string, index: number, ctx: ScenarioContext): Promise<RotationRun> {
  const token = randomUUID();
  const before = await readVersion(ctx.target.client, secretId, { stage: 'AWSCURRENT' });
  const rotateStarted = performance.now();
  let callError: string | undefined;
  // The version the endpoint says it rotated: the token on AWS and the embedded endpoint; LocalStack,
  // finding an unfinished rotation, re-runs that one and answers with its version instead.
  let rotated: string = token;
  try {
    const answer = await ctx.target.client.send(
      new RotateSecretCommand({
        SecretId: secretId,
        ClientRequestToken: token,
        RotationLambdaARN: functionArn,
        RotationRules: { AutomaticallyAfterDays: DEMO_ROTATION_DAYS },
      }),
    );
    if (answer.VersionId !== undefined && answer.VersionId !== '') rotated = answer.VersionId;
  } catch (err) {
    callError = rotateSecretError(err, secretId, functionArn, ctx.target.endpoint);
  }
  const rotateMs = performance.now() - rotateStarted;
  const verifyStarted = performance.now();
  const verification = await verifyRotation({
    client: ctx.target.client,
    secretId,
    before,
    token: rotated,
    canLogin: loginProbe(ctx),
    ...(ctx.target.history ? { history: ctx.target.history } : {}),
  });
  const verifyMs = performance.now() - verifyStarted;
  const steps: StepTimes = {};
  for (const step of verification.record?.steps ?? []) steps[step.step] = roundMs(step.durationMs);
  const failedChecks = verification.checks.filter((c) => !c.ok).map((c) => c.name);
  const record = verification.record;
  const stepError = record?.failedStep
    ? `step ${record.failedStep} failed (${record.steps.find((s) => s.step === record.failedStep)?.errorName ?? 'error'})`
    : undefined;
  const checksError = failedChecks.length
    ? `failed checks: ${failedChecks.join('; ')}${record === undefined ? functionLogHint(ctx.target, functionArn) : ''}`
    : undefined;
  const error = callError ?? stepError ?? checksError;
  const resumed = rotated !== token ? { versionId: rotated, token } : undefined;
  if (resumed) {
    ctx.progress(
      `rotation ${index}: ${ctx.target.endpoint} finished the earlier unfinished rotation of version ${rotated} instead of starting one under ${token}`,
    );
  }
  return {
    index,
    versionId: rotated,
    ...(resumed ? { resumed } : {}),
    outcome: error === undefined ? 'succeeded' : 'failed',
    steps,
    ...(record?.failedStep ? { failedStep: record.failedStep } : {}),
    rotateMs: roundMs(rotateMs),
    verifyMs: roundMs(verifyMs),
    checks: verification.checks,
    ...(error !== undefined ? { error } : {}),
  };
}

/**
 * Where the cause of a failed rotation is, when this process cannot read the endpoint's history: the
 * checks only say that the labels did not move, and both LocalStack and `npm run local:endpoint` answer
 * RotateSecret without the function's error (LocalStack swallows it), writing it to their own log.
 */
function functionLogHint(target: Pick<RotationTarget, 'kind' | 'endpoint'>, functionArn: string): string {
  if (target.kind === 'localstack') {
    const name = functionArn.split(':').pop() ?? functionArn;
    return ` (LocalStack does not pass the rotation function's error on: it is in the function's log, \`aws --endpoint-url ${target.endpoint} logs tail /aws/lambda/${name}\`)`;
  }
  return ' (the endpoint does not pass the rotation function\'s error on: `npm run local:endpoint` prints it on its own stderr, "[local-secrets-manager] rotation of … failed at <step>")';
}

/**
 * RotateSecret's failure in one line. Its ResourceNotFoundException right after the secret was read is
 * about the function (LocalStack and moto answer so when it is not deployed there), not the secret.
 * @param err what the SDK threw
 * @param functionArn the function the call named
 * @param endpoint where the call went, for the message
 */
export function rotateSecretError(err: unknown, secretId: string, functionArn: string, endpoint: string): string {
  if ((err as { name?: unknown } | null)?.name === 'ResourceNotFoundException') {
    return `RotateSecret: ${endpoint} has no rotation function ${functionArn} (ResourceNotFoundException): deploy it there under that name [secret ${secretId}]`;
  }
  if (isReattemptRefusal(err)) {
    // AWS and the embedded endpoint refuse while AWSPENDING is on another version than AWSCURRENT;
    // LocalStack refuses so only after re-running that rotation and seeing it fail again.
    return (
      `RotateSecret: ${endpoint} refused to start a rotation of ${secretId}: an earlier rotation is unfinished (AWSPENDING on a version ` +
      `that is not AWSCURRENT) and did not complete when retried; find why in the rotation function's log, then ` +
      `\`npm run rotation:status -- --secret-id ${secretId} --endpoint ${endpoint}\` shows it and rotation:repair clears it`
    );
  }
  return fromSecretsManagerError(err, 'RotateSecret', { secretId }).message;
}

/**
 * Where the secret says the server is. LocalStack's Lambdas reach it by its compose service name; the
 * other targets run the handlers on this machine, so the admin settings' host serves both.
 */
function secretEndpoint(engine: EngineFamily, ctx: ScenarioContext): { host: string; port: number } {
  if (ctx.target.composeHosts) {
    const override = engine === 'postgres' ? ctx.env.LOCALSTACK_PG_HOST : ctx.env.LOCALSTACK_MYSQL_HOST;
    return { host: override?.trim() || COMPOSE_DATABASE_HOSTS[engine], port: DEFAULT_PORTS[engine] };
  }
  const settings = engine === 'postgres' ? postgresAdminSettings(ctx.env) : mysqlAdminSettings(ctx.env);
  return { host: settings.host, port: settings.port };
}

/** Logs in from this machine: to the secret's host, except under LocalStack, whose host names are the network's. */
function loginProbe(ctx: ScenarioContext): LoginProbe {
  return async (secret: DatabaseSecret) => {
    const viaSecret = !ctx.target.composeHosts;
    if (secret.family === 'postgres') {
      const env = viaSecret ? { ...ctx.env, PGHOST: secret.host, PGPORT: String(secret.port) } : ctx.env;
      return canLoginPostgres(secret.username, secret.password, env, secret.dbname ?? 'postgres');
    }
    const env = viaSecret ? { ...ctx.env, MYSQL_HOST: secret.host, MYSQL_PORT: String(secret.port) } : ctx.env;
    return canLoginMysql(secret.username, secret.password, env);
  };
}

function allSucceeded(runs: readonly RotationRun[], expected: number): 'succeeded' | 'failed' {
  return runs.length === expected && runs.every((r) => r.outcome === 'succeeded') ? 'succeeded' : 'failed';
}

/** Tenths of a millisecond: enough for the report, without float noise in the JSON. */
function roundMs(ms: number): number {
  return Math.round(ms * 10) / 10;
}
