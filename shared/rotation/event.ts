/**
 * The rotation event as Secrets Manager sends it. Our own type: @types/aws-lambda's lacks RotationToken.
 * The step stays a plain string here: an unknown step is rejected only after the staging-label gate, as
 * in the AWS templates.
 */
import { EventValidationError } from '../errors';

export const ROTATION_STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;
/** One of AWS's four rotation steps, in the order Secrets Manager calls them. */
export type RotationStep = (typeof ROTATION_STEPS)[number];

/** The raw event: the field names Secrets Manager uses. */
export interface SecretsManagerRotationEvent {
  readonly SecretId: string;
  readonly ClientRequestToken: string;
  readonly Step: string;
  /** Present in newer invocations; forwarded to PutSecretValue. Sensitive: never logged. */
  readonly RotationToken?: string;
}

export interface RotationEvent {
  /** A name or an ARN (LocalStack sends the name). */
  readonly secretId: string;
  readonly token: string;
  readonly step: string;
  readonly rotationToken?: string;
}

/** Lambda's context: only the deadline is used. */
export interface RotationInvocationContext {
  getRemainingTimeInMillis(): number;
}

/**
 * The Lambda handler `createRotationHandler` returns. Resolves when the step succeeded (or was already
 * done); rejects with a `ToolkitError` otherwise.
 */
export type RotationHandler = (event: SecretsManagerRotationEvent, context?: RotationInvocationContext) => Promise<void>;

export function isRotationStep(step: string): step is RotationStep {
  return (ROTATION_STEPS as readonly string[]).includes(step);
}

/** Checks the event's shape; field names only in errors, never values other than the secret id. */
export function parseRotationEvent(raw: unknown): RotationEvent {
  if (raw === null || typeof raw !== 'object') throw new EventValidationError('The rotation event is not an object');
  const e = raw as Record<string, unknown>;
  const secretId = requiredString(e, 'SecretId');
  const context = { secretId };
  const token = requiredString(e, 'ClientRequestToken', context);
  const step = typeof e.Step === 'string' ? e.Step : '';
  const rotationToken = e.RotationToken;
  if (rotationToken !== undefined && rotationToken !== null && typeof rotationToken !== 'string') {
    throw new EventValidationError('RotationToken must be a string when present', context);
  }
  return {
    secretId,
    token,
    step,
    ...(typeof rotationToken === 'string' && rotationToken !== '' ? { rotationToken } : {}),
  };
}

function requiredString(e: Record<string, unknown>, key: string, context?: { secretId: string }): string {
  const v = e[key];
  if (typeof v !== 'string' || v.trim() === '') {
    throw new EventValidationError(`The rotation event's ${key} must be a non-empty string`, context);
  }
  return v;
}
