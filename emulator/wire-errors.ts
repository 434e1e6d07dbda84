/**
 * The exceptions the endpoint answers with, as Secrets Manager names them on the wire. The SDK turns the
 * `__type` of an error body into its own typed exception, so the names must be AWS's exact spelling.
 * Messages name fields, secrets and versions, never a value.
 */

export type WireErrorType =
  | 'ResourceNotFoundException'
  | 'InvalidParameterException'
  | 'InvalidRequestException'
  | 'ResourceExistsException'
  | 'InvalidNextTokenException'
  | 'LimitExceededException'
  | 'AccessDeniedException'
  | 'ValidationException'
  | 'SerializationException'
  | 'UnknownOperationException'
  | 'MissingAuthenticationTokenException'
  | 'IncompleteSignatureException'
  | 'RequestEntityTooLargeException'
  | 'InternalServiceError';

/** An error that is sent to the client as `{"__type", "message"}` with an HTTP status. */
export class WireError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: WireErrorType | string, message: string, status = 400) {
    super(message);
    this.name = 'WireError';
    this.type = type;
    this.status = status;
  }
}

export function isWireError(err: unknown): err is WireError {
  return err instanceof WireError;
}

export const SECRET_NOT_FOUND_MESSAGE = "Secrets Manager can't find the specified secret.";

export function secretNotFound(): WireError {
  return new WireError('ResourceNotFoundException', SECRET_NOT_FOUND_MESSAGE);
}

export function invalidParameter(message: string): WireError {
  return new WireError('InvalidParameterException', message);
}

export function invalidRequest(message: string): WireError {
  return new WireError('InvalidRequestException', message);
}

export function markedForDeletion(): WireError {
  return invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");
}

/** AWS's model-constraint failure; `member` is the lowerCamel field name, as AWS prints it. */
export function validation(member: string, constraint: string): WireError {
  return new WireError(
    'ValidationException',
    `1 validation error detected: Value at '${member}' failed to satisfy constraint: ${constraint}`,
  );
}

export function serialization(message: string): WireError {
  return new WireError('SerializationException', message);
}
