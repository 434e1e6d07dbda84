/**
 * What the answer to the redrive's RotateSecret (no token, a rotation unfinished) says about the stuck
 * rotation. Pure, so each reading is tested without an endpoint.
 */

/**
 * - `reattempting`: refused as AWS refuses it ("A previous rotation isn't complete. That rotation will be
 *   reattempted."), which starts the reattempt; emulators word it their own way.
 * - `started`: the endpoint answered as if rotating; the rotation named by `versionId` is the one to wait for.
 * - `reattempt-failed`: the endpoint ran the reattempt before answering and reports its failure (the
 *   embedded endpoint with `surfaceRotationErrors`): not one of Secrets Manager's own exceptions.
 * - `refused`: Secrets Manager refused the call itself, or it never got an answer: nothing was started.
 */
export type ResumeAnswer =
  | { readonly kind: 'reattempting' }
  | { readonly kind: 'started'; readonly versionId?: string }
  | { readonly kind: 'reattempt-failed'; readonly errorName: string }
  | { readonly kind: 'refused' };

/** The exceptions Secrets Manager itself answers with (API reference, common errors included). */
const SECRETS_MANAGER_EXCEPTIONS: ReadonlySet<string> = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'DecryptionFailure',
  'EncryptionFailure',
  'ExpiredTokenException',
  'IncompleteSignature',
  'InternalFailure',
  'InternalServiceError',
  'InvalidClientTokenId',
  'InvalidNextTokenException',
  'InvalidParameterException',
  'InvalidRequestException',
  'InvalidSignatureException',
  'LimitExceededException',
  'MalformedPolicyDocumentException',
  'MissingAuthenticationToken',
  'NotAuthorized',
  'PreconditionNotMetException',
  'RequestLimitExceeded',
  'ResourceExistsException',
  'ResourceNotFoundException',
  'ServiceUnavailable',
  'ThrottlingException',
  'TooManyRequestsException',
  'UnrecognizedClientException',
  'ValidationError',
]);

/** True for AWS's refusal of RotateSecret while a rotation is unfinished (and its emulators' versions). */
export function isReattemptRefusal(err: unknown): boolean {
  const { name, message } = fieldsOf(err);
  return name === 'InvalidRequestException' && typeof message === 'string' && /previous rotation/i.test(message);
}

export function readResumeAnswer(outcome: { readonly versionId?: string } | { readonly error: unknown }): ResumeAnswer {
  if (!('error' in outcome)) {
    return outcome.versionId !== undefined ? { kind: 'started', versionId: outcome.versionId } : { kind: 'started' };
  }
  const err = outcome.error;
  if (isReattemptRefusal(err)) return { kind: 'reattempting' };
  const { name, status } = fieldsOf(err);
  // Without an HTTP answer (a network failure, an SDK timeout) nothing is known to have started.
  if (status === undefined || typeof name !== 'string' || SECRETS_MANAGER_EXCEPTIONS.has(name)) return { kind: 'refused' };
  return { kind: 'reattempt-failed', errorName: name };
}

function fieldsOf(err: unknown): { name?: unknown; message?: unknown; status?: number } {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as { name?: unknown; message?: unknown; $metadata?: { httpStatusCode?: unknown } };
  const status = e.$metadata?.httpStatusCode;
  return { name: e.name, message: e.message, ...(typeof status === 'number' ? { status } : {}) };
}
