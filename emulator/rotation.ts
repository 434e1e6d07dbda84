/**
 * RotateSecret and CancelRotateSecret, driving in-process rotation functions registered under Lambda
 * ARNs. Where AWS invokes the function asynchronously, this runs the steps before answering, so callers
 * can check the outcome at once; like AWS it does not turn a failing step into an API error unless
 * `surfaceErrors` is set. Every run is recorded (steps, outcomes, error names, durations) and failures
 * are logged, naming the secret, the token and the step, never a value.
 *
 * RotateSecret while an earlier rotation is unfinished is refused as AWS refuses it ("That rotation will
 * be reattempted") and, as AWS does, re-attempts that rotation with its own token before answering.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ConfigError, InvalidRequestError, SecretNotFoundError, summarizeCause, ToolkitError } from '../shared/errors';
import { isLambdaArn, lambdaArn } from './arn';
import type { EndpointContext, OperationTable } from './context';
import { optBoolean, optObject, optString, type JsonObject } from './input';
import { readClientRequestToken, readSecretId, requireLive } from './operations/secret-lifecycle';
import { parseRotationRules } from './rotation-schedule';
import type { SecretRecord, SecretVersion } from './store';
import {
  ROTATION_STEPS,
  type RotationFunction,
  type RotationRecord,
  type RotationStep,
  type RotationStepRecord,
  type RotationTrigger,
} from './types';
import { AWSCURRENT, AWSPENDING, attachStage, detachStage, pendingRotationVersion, stageHolder } from './version-stages';
import { compact } from './wire-shapes';
import { invalidRequest, WireError } from './wire-errors';

export interface RotationCoordinatorOptions extends EndpointContext {
  readonly region: string;
  readonly accountId: string;
  readonly surfaceErrors: boolean;
  readonly log: (line: string) => void;
}

interface RunResult {
  readonly record: RotationRecord;
  readonly error?: unknown;
}

const LAMBDA_NOT_INVOCABLE =
  'Secrets Manager cannot invoke the specified Lambda function. Ensure that the function policy grants access to the principal secretsmanager.amazonaws.com.';

/** A thrown value's description that is safe to log: class, code, and the message only of toolkit errors. */
function describeFailure(err: unknown): string {
  const { name, code } = summarizeCause(err);
  const detail = err instanceof ToolkitError ? `: ${err.message}` : '';
  return `${name}${code !== undefined ? ` (${code})` : ''}${detail}`;
}

function wireTypeFor(err: unknown): string {
  const { name } = summarizeCause(err);
  return /^[A-Za-z][A-Za-z0-9_]*$/.test(name) ? name : 'RotationFunctionError';
}

export class RotationCoordinator {
  private readonly functions = new Map<string, RotationFunction>();
  private readonly history = new Map<string, RotationRecord[]>();
  private readonly arnByName = new Map<string, string>();
  /** The RotationToken of each rotation, by secret ARN and version token, reused by retries. */
  private readonly rotationTokens = new Map<string, string>();
  /** Runs in progress by secret ARN: while one runs, "that rotation" is still running and nothing is re-attempted. */
  private readonly running = new Map<string, number>();

  constructor(private readonly options: RotationCoordinatorOptions) {}

  register(arn: string, handler: RotationFunction): void {
    if (!isLambdaArn(arn)) {
      throw new ConfigError('registerRotationFunction needs a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:<name>)');
    }
    this.functions.set(arn, handler);
  }

  registered(): readonly string[] {
    return [...this.functions.keys()];
  }

  historyOf(secretId: string): readonly RotationRecord[] {
    const arn = this.options.store.find(secretId)?.arn ?? this.arnByName.get(secretId) ?? secretId;
    return [...(this.history.get(arn) ?? [])];
  }

  async retry(secretId: string): Promise<RotationRecord> {
    const secret = this.options.store.find(secretId);
    if (!secret) throw new SecretNotFoundError('retryRotation: no such secret', { secretId });
    const pending = pendingRotationVersion(secret);
    if (!pending) throw new InvalidRequestError('retryRotation: the secret has no unfinished rotation', { secretId });
    const arn = secret.rotation?.lambdaArn;
    const handler = arn === undefined ? undefined : this.resolveFunction(arn);
    if (arn === undefined || !handler) {
      throw new ConfigError('retryRotation: the secret has no registered rotation function', { secretId });
    }
    const { record } = await this.rerun(secret, arn, handler, pending, 'retryRotation');
    return record;
  }

  /** The unfinished rotation's four steps again, under its own version token and RotationToken. */
  private rerun(
    secret: SecretRecord,
    arn: string,
    handler: RotationFunction,
    pending: SecretVersion,
    trigger: RotationTrigger,
  ): Promise<RunResult> {
    const rotationToken = this.rotationTokens.get(`${secret.arn} ${pending.versionId}`) ?? randomUUID();
    return this.run(secret, arn, handler, pending.versionId, rotationToken, ROTATION_STEPS, trigger);
  }

  /**
   * The refusal of RotateSecret while a rotation is unfinished, after re-attempting that rotation with
   * the function stored on the secret. Nothing is re-attempted while a run of the secret is in progress
   * (a concurrent RotateSecret), nor when no function was ever stored (a label put by hand). With
   * `surfaceErrors`, a failing reattempt is what the call reports.
   */
  private async refuseAndReattempt(secret: SecretRecord, pending: SecretVersion): Promise<never> {
    const refusal = invalidRequest("A previous rotation isn't complete. That rotation will be reattempted.");
    const arn = secret.rotation?.lambdaArn;
    const handler = arn === undefined ? undefined : this.resolveFunction(arn);
    if (arn === undefined || !handler || (this.running.get(secret.arn) ?? 0) > 0) throw refusal;
    const result = await this.rerun(secret, arn, handler, pending, 'RotateSecret');
    this.surface(result);
    throw refusal;
  }

  operations(): OperationTable {
    return {
      RotateSecret: (input) => this.rotateSecret(input),
      CancelRotateSecret: (input) => this.cancelRotateSecret(input),
    };
  }

  private resolveFunction(arn: string): RotationFunction | undefined {
    if (arn.startsWith('arn:')) return this.functions.get(arn);
    return this.functions.get(lambdaArn(this.options.region, this.options.accountId, arn));
  }

  private async rotateSecret(input: JsonObject): Promise<JsonObject> {
    const secretId = readSecretId(input);
    const token = readClientRequestToken(input);
    const requestedArn = optString(input, 'RotationLambdaARN', { max: 2048 });
    const rawRules = optObject(input, 'RotationRules');
    const rules = rawRules === undefined ? undefined : parseRotationRules(rawRules);
    const immediately = optBoolean(input, 'RotateImmediately') ?? true;

    // Everything up to the first handler call is synchronous: a concurrent RotateSecret sees the
    // AWSPENDING version this one creates and is refused.
    const secret = requireLive(this.options.store.resolve(secretId));
    const arn = requestedArn ?? secret.rotation?.lambdaArn;
    if (arn === undefined) throw invalidRequest('No Lambda rotation function ARN is associated with this secret.');
    const handler = this.resolveFunction(arn);
    if (!handler) throw new WireError('AccessDeniedException', LAMBDA_NOT_INVOCABLE);
    const unfinished = pendingRotationVersion(secret);
    if (unfinished) return this.refuseAndReattempt(secret, unfinished);
    const versionId = token ?? randomUUID();
    const existing = secret.versions.get(versionId);
    if (existing) {
      // A retried call whose rotation already completed answers as the first call did.
      if (existing.stages.includes(AWSCURRENT)) return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
      throw new WireError('ResourceExistsException', `A version with ClientRequestToken ${versionId} already exists.`);
    }

    const now = this.options.now();
    const previous = secret.rotation;
    secret.rotation = {
      enabled: true,
      lambdaArn: arn,
      rules: rules ?? previous?.rules,
      lastRotatedDate: previous?.lastRotatedDate,
      scheduleBase: now,
    };
    secret.lastChangedDate = now;
    this.arnByName.set(secret.name, secret.arn);

    if (!immediately) return this.testOnly(secret, arn, handler, versionId, now);

    const version: SecretVersion = { versionId, createdDate: now, stages: [] };
    secret.versions.set(versionId, version);
    attachStage(secret, AWSPENDING, version);
    const rotationToken = randomUUID();
    this.rotationTokens.set(`${secret.arn} ${versionId}`, rotationToken);
    const result = await this.run(secret, arn, handler, versionId, rotationToken, ROTATION_STEPS, 'RotateSecret');
    this.surface(result);
    return { ARN: secret.arn, Name: secret.name, VersionId: versionId };
  }

  /**
   * RotateImmediately=false: AWS checks the configuration by running testSecret against a temporary
   * AWSPENDING version and removing it. The temporary version carries a copy of AWSCURRENT's value here,
   * so that a function's testSecret can read it.
   */
  private async testOnly(secret: SecretRecord, arn: string, handler: RotationFunction, versionId: string, now: Date): Promise<JsonObject> {
    const current = stageHolder(secret, AWSCURRENT);
    const temporary: SecretVersion = { versionId, createdDate: now, stages: [] };
    if (current?.secretString !== undefined) temporary.secretString = current.secretString;
    if (current?.secretBinary !== undefined) temporary.secretBinary = current.secretBinary;
    secret.versions.set(versionId, temporary);
    attachStage(secret, AWSPENDING, temporary);
    const result = await this.run(secret, arn, handler, versionId, randomUUID(), ['testSecret'], 'testOnly');
    const left = secret.versions.get(versionId);
    if (left) {
      detachStage(left, AWSPENDING);
      if (left.stages.length === 0) secret.versions.delete(versionId);
    }
    this.surface(result);
    return { ARN: secret.arn, Name: secret.name };
  }

  private cancelRotateSecret(input: JsonObject): JsonObject {
    const secret = requireLive(this.options.store.resolve(readSecretId(input)));
    if (!secret.rotation?.lambdaArn) {
      throw invalidRequest('Rotation is not configured for this secret, so there is nothing to cancel.');
    }
    secret.rotation.enabled = false;
    secret.lastChangedDate = this.options.now();
    // As on AWS, an unfinished rotation's AWSPENDING label stays where it is.
    return compact({ ARN: secret.arn, Name: secret.name, VersionId: pendingRotationVersion(secret)?.versionId });
  }

  private async run(
    secret: SecretRecord,
    arn: string,
    handler: RotationFunction,
    token: string,
    rotationToken: string,
    stepsToRun: readonly RotationStep[],
    trigger: RotationTrigger,
  ): Promise<RunResult> {
    this.running.set(secret.arn, (this.running.get(secret.arn) ?? 0) + 1);
    try {
      return await this.runSteps(secret, arn, handler, token, rotationToken, stepsToRun, trigger);
    } finally {
      const left = (this.running.get(secret.arn) ?? 1) - 1;
      if (left > 0) this.running.set(secret.arn, left);
      else this.running.delete(secret.arn);
    }
  }

  private async runSteps(
    secret: SecretRecord,
    arn: string,
    handler: RotationFunction,
    token: string,
    rotationToken: string,
    stepsToRun: readonly RotationStep[],
    trigger: RotationTrigger,
  ): Promise<RunResult> {
    const startedAt = this.options.now();
    const steps: RotationStepRecord[] = [];
    let failure: { step: RotationStep; error: unknown } | undefined;
    for (const step of stepsToRun) {
      const started = performance.now();
      try {
        await handler({ SecretId: secret.arn, ClientRequestToken: token, Step: step, RotationToken: rotationToken });
        steps.push({ step, outcome: 'succeeded', durationMs: performance.now() - started });
      } catch (error) {
        const { name, code } = summarizeCause(error);
        const durationMs = performance.now() - started;
        steps.push({ step, outcome: 'failed', errorName: name, ...(code !== undefined ? { errorCode: code } : {}), durationMs });
        failure = { step, error };
        this.options.log(
          `[local-secrets-manager] rotation of ${secret.arn} (token ${token}, ${trigger}) failed at ${step}: ${describeFailure(error)}`,
        );
        break;
      }
    }
    const finishedAt = this.options.now();
    const record: RotationRecord = {
      secretArn: secret.arn,
      secretName: secret.name,
      lambdaArn: arn,
      token,
      trigger,
      startedAt,
      finishedAt,
      outcome: failure ? 'failed' : 'succeeded',
      ...(failure ? { failedStep: failure.step } : {}),
      steps,
    };
    const list = this.history.get(secret.arn) ?? [];
    list.push(record);
    this.history.set(secret.arn, list);
    if (!failure && trigger !== 'testOnly' && secret.rotation) {
      secret.rotation.lastRotatedDate = finishedAt;
      secret.rotation.scheduleBase = finishedAt;
    }
    if (!failure && trigger !== 'testOnly') {
      // As the service does once a rotation completes (an AWS maintainer: "the backend cleans up",
      // aws-samples/aws-secrets-manager-rotation-lambdas#145): the function's finishSecret moves only
      // AWSCURRENT, and an AWSPENDING left beside it would block the next rotation once AWSCURRENT moves
      // on by another way (a PutSecretValue), aws/aws-cdk#28539.
      const finished = secret.versions.get(token);
      if (finished?.stages.includes(AWSCURRENT)) detachStage(finished, AWSPENDING);
    }
    return failure ? { record, error: failure.error } : { record };
  }

  private surface(result: RunResult): void {
    if (!this.options.surfaceErrors || result.record.outcome === 'succeeded') return;
    const { record, error } = result;
    throw new WireError(
      wireTypeFor(error),
      `Rotation function ${record.lambdaArn} failed at step ${record.failedStep} of secret ${record.secretArn}: ${describeFailure(error)}`,
    );
  }
}
