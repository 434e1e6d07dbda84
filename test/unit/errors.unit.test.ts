import { inspect } from 'node:util';
import {
  AccessDeniedError,
  AuthenticationError,
  ConfigError,
  DatabaseError,
  EventValidationError,
  InvalidRequestError,
  NetworkError,
  RotationDisabledError,
  SecretNotFoundError,
  SecretValidationError,
  StageMismatchError,
  ThrottledError,
  TimeoutError,
  TlsError,
  ToolkitError,
  TransientError,
  fromSecretsManagerError,
  isRetryable,
  isToolkitError,
  summarizeCause,
  type ErrorCode,
} from '../../shared/errors';

const LEAKY = 'password=Leaky-Pw-55aa91';

/** An error as the SDK throws it: a name, a message from the service, metadata. */
function sdkError(name: string, status?: number): Error {
  const err = new Error(`${name}: ${LEAKY}`);
  err.name = name;
  Object.assign(err, { $fault: 'client', $metadata: { httpStatusCode: status, requestId: 'req-1' } });
  return err;
}

/** A Node network error: generic name, a code. */
function nodeError(code: string): Error {
  return Object.assign(new Error(`connect ${code} 10.0.0.1:443 ${LEAKY}`), { code, errno: -111, syscall: 'connect' });
}

describe('fromSecretsManagerError: KMS', () => {
  it('names the KMS key when a write cannot be encrypted (a key disabled mid-rotation), typed and not retryable', () => {
    const mapped = fromSecretsManagerError(sdkError('EncryptionFailure', 400), 'PutSecretValue(AWSPENDING)', { secretId: 'app/db' });
    expect(mapped).toBeInstanceOf(InvalidRequestError);
    expect(mapped.message).toMatch(/KMS key could not encrypt.*enabled/);
    expect(isRetryable(mapped)).toBe(false);
  });
});

describe('fromSecretsManagerError: by exception name', () => {
  it.each([
    ['ResourceNotFoundException', SecretNotFoundError, 'NOT_FOUND'],
    ['AccessDeniedException', AccessDeniedError, 'ACCESS_DENIED'],
    ['AccessDenied', AccessDeniedError, 'ACCESS_DENIED'],
    ['UnrecognizedClientException', AccessDeniedError, 'ACCESS_DENIED'],
    ['InvalidSignatureException', AccessDeniedError, 'ACCESS_DENIED'],
    ['ExpiredTokenException', AccessDeniedError, 'ACCESS_DENIED'],
    ['DecryptionFailure', AccessDeniedError, 'ACCESS_DENIED'],
    ['ThrottlingException', ThrottledError, 'THROTTLED'],
    ['TooManyRequestsException', ThrottledError, 'THROTTLED'],
    ['RequestLimitExceeded', ThrottledError, 'THROTTLED'],
    ['Throttling', ThrottledError, 'THROTTLED'],
    ['RequestThrottledException', ThrottledError, 'THROTTLED'],
    ['SlowDown', ThrottledError, 'THROTTLED'],
    ['InvalidRequestException', InvalidRequestError, 'INVALID_REQUEST'],
    ['InvalidParameterException', InvalidRequestError, 'INVALID_REQUEST'],
    ['ResourceExistsException', InvalidRequestError, 'INVALID_REQUEST'],
    ['MalformedPolicyDocumentException', InvalidRequestError, 'INVALID_REQUEST'],
    ['PreconditionNotMetException', InvalidRequestError, 'INVALID_REQUEST'],
    ['EncryptionFailure', InvalidRequestError, 'INVALID_REQUEST'],
    ['InternalServiceError', TransientError, 'TRANSIENT'],
    ['InternalFailure', TransientError, 'TRANSIENT'],
    ['ServiceUnavailable', TransientError, 'TRANSIENT'],
    ['TimeoutError', TimeoutError, 'TIMEOUT'],
    ['RequestTimeoutException', TimeoutError, 'TIMEOUT'],
  ] as const)('%s → %p', (name, type, code) => {
    const mapped = fromSecretsManagerError(sdkError(name, 400), 'GetSecretValue', { secretId: 'app/db', step: 'createSecret' });
    expect(mapped).toBeInstanceOf(type);
    expect(mapped.code).toBe(code);
    expect(mapped.message).toContain('GetSecretValue');
    expect(mapped.message).toContain('secret app/db');
    expect(mapped.message).toContain('step createSecret');
    expect(mapped.secretId).toBe('app/db');
    expect(mapped.step).toBe('createSecret');
    expect(mapped.causeSummary).toEqual({ name });
  });

  it('names the exception where it helps, and the name wins over the status', () => {
    const mapped = fromSecretsManagerError(sdkError('ThrottlingException', 500), 'PutSecretValue');
    expect(mapped).toBeInstanceOf(ThrottledError);
    expect(mapped.message).toContain('ThrottlingException');
  });
});

describe('fromSecretsManagerError: by network code and status', () => {
  it.each(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])('%s → NetworkError', (code) => {
    const mapped = fromSecretsManagerError(nodeError(code), 'DescribeSecret');
    expect(mapped).toBeInstanceOf(NetworkError);
    expect(mapped.code).toBe('NETWORK');
    expect(mapped.message).toContain(code);
    expect(mapped.causeSummary).toEqual({ name: 'Error', code });
  });

  it.each(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'TimeoutError', 'RequestTimeout'])('code %s → TimeoutError', (code) => {
    expect(fromSecretsManagerError(nodeError(code), 'DescribeSecret')).toBeInstanceOf(TimeoutError);
  });

  it.each([500, 502, 503, 504])('an unnamed %d → TransientError', (status) => {
    const mapped = fromSecretsManagerError(sdkError('Error', status), 'GetSecretValue');
    expect(mapped).toBeInstanceOf(TransientError);
    expect(mapped.message).toContain(String(status));
  });

  it('an unnamed 429 → ThrottledError', () => {
    expect(fromSecretsManagerError(sdkError('Error', 429), 'GetSecretValue')).toBeInstanceOf(ThrottledError);
  });

  it.each([
    ['a thrown string', 'boom'],
    ['undefined', undefined],
    ['null', null],
    ['a bare object', {}],
  ])('%s → TransientError "unexpected failure"', (_name, value) => {
    const mapped = fromSecretsManagerError(value, 'GetSecretValue');
    expect(mapped).toBeInstanceOf(TransientError);
    expect(mapped.message).toContain('unexpected failure');
  });

  it('passes a toolkit error through untouched', () => {
    const original = new StageMismatchError('token is not AWSPENDING', { secretId: 's' });
    expect(fromSecretsManagerError(original, 'GetSecretValue', { secretId: 'other' })).toBe(original);
  });

  it('never carries the SDK message, the raw error or its metadata', () => {
    const inputs = [sdkError('AccessDeniedException', 400), sdkError('Weird', 418), nodeError('ECONNRESET'), sdkError('Error', 503)];
    for (const input of inputs) {
      const mapped = fromSecretsManagerError(input, 'GetSecretValue');
      for (const out of [mapped.message, String(mapped.stack), JSON.stringify(mapped), inspect(mapped, { showHidden: true, depth: 9 })]) {
        expect(out).not.toContain(LEAKY);
        expect(out).not.toContain('req-1');
      }
      expect((mapped as Error & { cause?: unknown }).cause).toBeUndefined();
    }
  });
});

describe('summarizeCause', () => {
  it.each([
    ['a TypeError', new TypeError(LEAKY), { name: 'TypeError' }],
    ['a plain Error', new Error(LEAKY), { name: 'Error' }],
    ['an error with a string code', nodeError('ECONNREFUSED'), { name: 'Error', code: 'ECONNREFUSED' }],
    ['a pg error (code = SQLSTATE)', Object.assign(new Error(LEAKY), { name: 'error', code: '28P01' }), { name: 'error', code: '28P01' }],
    [
      'a mysql2 error (numeric errno)',
      Object.assign(new Error(LEAKY), { errno: 1045, sql: `SET PASSWORD = '${LEAKY}'` }),
      { name: 'Error', code: '1045' },
    ],
    ['a numeric code', Object.assign(new Error(LEAKY), { code: 42 }), { name: 'Error', code: '42' }],
    ['a toolkit error', new ConfigError('bad'), { name: 'ConfigError', code: 'CONFIG' }],
    ['a custom class', new (class DriverFailure extends Error {})(LEAKY), { name: 'DriverFailure' }],
    ['a string', LEAKY, { name: 'string' }],
    ['undefined', undefined, { name: 'undefined' }],
    ['null', null, { name: 'object' }],
  ])('%s → %p, no message', (_name, input, expected) => {
    const summary = summarizeCause(input);
    expect(summary).toEqual(expected);
    expect(JSON.stringify(summary)).not.toContain(LEAKY);
  });
});

describe('ToolkitError', () => {
  const classes: Array<[new (message: string) => ToolkitError, ErrorCode]> = [
    [ConfigError, 'CONFIG'],
    [EventValidationError, 'EVENT_INVALID'],
    [SecretNotFoundError, 'NOT_FOUND'],
    [AccessDeniedError, 'ACCESS_DENIED'],
    [ThrottledError, 'THROTTLED'],
    [TransientError, 'TRANSIENT'],
    [InvalidRequestError, 'INVALID_REQUEST'],
    [RotationDisabledError, 'ROTATION_DISABLED'],
    [StageMismatchError, 'STAGE_MISMATCH'],
    [AuthenticationError, 'AUTH_FAILED'],
    [NetworkError, 'NETWORK'],
    [TimeoutError, 'TIMEOUT'],
    [TlsError, 'TLS'],
    [DatabaseError, 'DATABASE'],
    [SecretValidationError, 'SECRET_INVALID'],
  ];

  it.each(classes)('%p has code %s, its own name, and is a ToolkitError and an Error', (Type, code) => {
    const err = new Type('something failed');
    expect(err.code).toBe(code);
    expect(err.name).toBe(Type.name);
    expect(err).toBeInstanceOf(ToolkitError);
    expect(err).toBeInstanceOf(Error);
    expect(isToolkitError(err)).toBe(true);
  });

  it('isToolkitError is false for other errors', () => {
    expect(isToolkitError(new Error('x'))).toBe(false);
    expect(isToolkitError({ code: 'CONFIG' })).toBe(false);
  });

  it('appends the secret and step to the message, and keeps only a summary of the cause', () => {
    const err = new AuthenticationError('login refused', {
      secretId: 'arn:aws:secretsmanager:eu-west-1:1:secret:app-AbCdEf',
      step: 'setSecret',
      cause: Object.assign(new Error(LEAKY), { code: '28P01' }),
    });
    expect(err.message).toBe('login refused [secret arn:aws:secretsmanager:eu-west-1:1:secret:app-AbCdEf, step setSecret]');
    expect(err.causeSummary).toEqual({ name: 'Error', code: '28P01' });
    expect(inspect(err, { showHidden: true, depth: 9 })).not.toContain(LEAKY);
  });

  it('leaves the message alone without context', () => {
    expect(new DatabaseError('permission denied').message).toBe('permission denied');
  });

  it('toJSON gives name, code, message, secretId, step and the cause summary', () => {
    const err = new TlsError('certificate rejected', { secretId: 'app/db', step: 'testSecret', cause: nodeError('ECONNRESET') });
    expect(err.toJSON()).toEqual({
      name: 'TlsError',
      code: 'TLS',
      message: 'certificate rejected [secret app/db, step testSecret]',
      secretId: 'app/db',
      step: 'testSecret',
      cause: { name: 'Error', code: 'ECONNRESET' },
    });
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      name: 'TlsError',
      code: 'TLS',
      message: 'certificate rejected [secret app/db, step testSecret]',
      secretId: 'app/db',
      step: 'testSecret',
      cause: { name: 'Error', code: 'ECONNRESET' },
    });
    expect(JSON.stringify(err)).not.toContain(LEAKY);
  });

  it('SecretValidationError lists every issue by path, the root as (root)', () => {
    const err = new SecretValidationError(
      'Secret is invalid',
      [
        { path: '', problem: 'is not valid JSON' },
        { path: 'port', problem: 'must be between 1 and 65535' },
      ],
      { secretId: 'app/db' },
    );
    expect(err.message).toBe('Secret is invalid: (root) is not valid JSON; port must be between 1 and 65535 [secret app/db]');
    expect(err.issues).toHaveLength(2);
    expect(new SecretValidationError('Secret is invalid').message).toBe('Secret is invalid');
  });
});

describe('isRetryable', () => {
  it.each([
    [new ThrottledError('x'), true],
    [new TransientError('x'), true],
    [new NetworkError('x'), true],
    [new TimeoutError('x'), true],
    [new SecretNotFoundError('x'), false],
    [new AccessDeniedError('x'), false],
    [new InvalidRequestError('x'), false],
    [new AuthenticationError('x'), false],
    [new SecretValidationError('x'), false],
    [new ConfigError('x'), false],
    [new TlsError('x'), false],
    [new Error('ECONNRESET'), false],
    ['ThrottlingException', false],
  ])('%p → %p', (err, expected) => {
    expect(isRetryable(err)).toBe(expected);
  });

  it('agrees with the mapping of SDK errors', () => {
    expect(isRetryable(fromSecretsManagerError(sdkError('ThrottlingException'), 'x'))).toBe(true);
    expect(isRetryable(fromSecretsManagerError(nodeError('ECONNREFUSED'), 'x'))).toBe(true);
    expect(isRetryable(fromSecretsManagerError(sdkError('ResourceNotFoundException', 400), 'x'))).toBe(false);
    expect(isRetryable(fromSecretsManagerError(sdkError('AccessDeniedException', 400), 'x'))).toBe(false);
  });
});
