/**
 * A Secrets Manager client for the rotation Lambdas: the four operations a rotation uses, as signed
 * JSON POSTs over a keep-alive connection, signed by the SDK's own SigV4 signer (`@smithy/signature-v4`)
 * with credentials from the environment or the SDK's own provider chain.
 *
 * Why not the SDK client: measured in one run against the embedded endpoint (bench/secrets-api.ts, see
 * BENCHMARKS.md), the SDK's middleware stack, schema serde and user-agent building cost about 2 ms of CPU
 * per request, several times what the request itself costs; a rotation makes 11 of them. The SDK stays
 * the reader's client and is one `sdkSecretsApi` away for anyone who injects one.
 *
 * Kept from the SDK: its error shape (`name`, `$metadata.httpStatusCode`, so `fromSecretsManagerError`
 * types errors identically), its standard retry mode (3 attempts; throttling, 5xx and dropped connections
 * retried with full-jitter back-off) and idempotent retries (PutSecretValue carries its
 * ClientRequestToken), with a server's Retry-After honoured as the SDK does (retry-after.ts). Not kept: clock-skew correction (Lambda's clock is synchronised) and endpoint
 * rules beyond `aws-endpoint.ts`.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { SignatureV4 } from '@smithy/signature-v4';
import { fullJitterDelayMs } from '../backoff';
import { NodeSha256 } from './node-sha256';
import { retryAfterMs, retryDelayMs } from './retry-after';
import type { CallOptions, SecretsApi } from './secrets-api';

/** How to reach and sign for Secrets Manager. */
export interface SignedClientOptions {
  /** The endpoint's base URL, e.g. `https://secretsmanager.eu-west-1.amazonaws.com`. */
  readonly endpoint: string;
  readonly region: string;
  /** Static credentials or a provider (called per request; providers cache and refresh themselves). */
  readonly credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  /** Attempts per call, the first included. @default 3 (the SDK's standard mode) */
  readonly maxAttempts?: number;
}

/** The SDK's standard retry mode: base 100 ms, at most 20 s between attempts. */
const BACKOFF = { baseMs: 100, maxMs: 20_000 } as const;
const DEFAULT_MAX_ATTEMPTS = 3;
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'ThrottledException',
  'SlowDown',
  'PriorRequestNotComplete',
]);
const TRANSIENT = new Set(['InternalServiceError', 'InternalFailure', 'ServiceUnavailable', 'RequestTimeout', 'RequestTimeoutException']);
const RETRYABLE_NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);
/** Response fields the service sends as epoch seconds and the SDK returns as Dates. */
const DATE_FIELDS = new Set(['CreatedDate', 'LastRotatedDate', 'LastChangedDate', 'LastAccessedDate', 'DeletedDate', 'NextRotationDate']);

/** A service error in the SDK's shape. */
type ServiceError = Error & { $metadata: { httpStatusCode: number }; $fault: 'client' | 'server' };

/**
 * The signed client.
 *
 * @throws nothing at construction; each call rejects with an SDK-shaped service error, a network error
 *   (Node's `code`), or an `AbortError` when `abortSignal` fired.
 * @example
 *   const api = createSignedSecretsApi({ endpoint: secretsManagerEndpoint('eu-west-1'), region: 'eu-west-1', credentials });
 *   const out = await api.getSecretValue({ SecretId: 'app', VersionStage: 'AWSCURRENT' });
 */
export function createSignedSecretsApi(options: SignedClientOptions): SecretsApi {
  const url = new URL(options.endpoint);
  const secure = url.protocol === 'https:';
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
  const signer = new SignatureV4({
    credentials: options.credentials,
    region: options.region,
    service: 'secretsmanager',
    sha256: NodeSha256,
  });
  const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  const path = url.pathname === '' ? '/' : url.pathname;

  const once = async (
    operation: string,
    body: string,
    signal: AbortSignal | undefined,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> => {
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port !== '' ? { port: Number(url.port) } : {}),
      path,
      query: {},
      headers: { host: url.host, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `secretsmanager.${operation}` },
      body,
    });
    return new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        {
          hostname: url.hostname,
          port: url.port,
          path,
          method: 'POST',
          agent,
          headers: signed.headers,
          ...(signal !== undefined ? { signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  };

  const call = async <T>(operation: string, input: object, callOptions: CallOptions | undefined): Promise<T> => {
    const signal = callOptions?.abortSignal;
    const body = JSON.stringify(input, encodeBinary);
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortError();
      let failure: unknown;
      let hintMs: number | undefined;
      try {
        const res = await once(operation, body, signal);
        if (res.status >= 200 && res.status < 300) return decode(res.text) as T;
        failure = serviceError(res.status, res.headers, res.text);
        hintMs = retryAfterMs(res.headers);
      } catch (err) {
        if (signal?.aborted) throw abortError();
        failure = err;
      }
      if (attempt >= maxAttempts || !isRetryable(failure)) throw failure;
      // A throttled endpoint's Retry-After is honoured as the SDK does; the caller's signal still ends the wait.
      await sleep(retryDelayMs(fullJitterDelayMs(attempt, BACKOFF), hintMs), signal);
    }
  };

  return {
    describeSecret: (input, o) => call('DescribeSecret', input, o),
    getSecretValue: (input, o) => call('GetSecretValue', input, o),
    putSecretValue: (input, o) => call('PutSecretValue', input, o),
    updateSecretVersionStage: (input, o) => call('UpdateSecretVersionStage', input, o),
  };
}

function isRetryable(err: unknown): boolean {
  if (err === null || typeof err !== 'object') return false;
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined) return THROTTLING.has(e.name ?? '') || TRANSIENT.has(e.name ?? '') || status === 429 || status >= 500;
  return e.code !== undefined && RETRYABLE_NETWORK_CODES.has(e.code);
}

/** The service's error in the SDK's shape: the exception's short name from `__type` or the header. */
function serviceError(status: number, headers: http.IncomingHttpHeaders, text: string): ServiceError {
  let parsed: { __type?: unknown; message?: unknown; Message?: unknown } = {};
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    // A proxy's HTML page: the status alone decides.
  }
  const header = headers['x-amzn-errortype'];
  const raw = typeof parsed.__type === 'string' ? parsed.__type : typeof header === 'string' ? header : '';
  const name = raw.split(':')[0]!.split('#').pop() || (status >= 500 ? 'ServiceUnavailable' : 'UnknownError');
  const message = typeof parsed.message === 'string' ? parsed.message : typeof parsed.Message === 'string' ? parsed.Message : name;
  return Object.assign(new Error(message), {
    name,
    $metadata: { httpStatusCode: status },
    $fault: status >= 500 ? ('server' as const) : ('client' as const),
  });
}

/**
 * The answer's JSON, dates and binary revived. An answer that is not JSON throws a SyntaxError of its
 * own: V8's quotes the text around the fault, which in a GetSecretValue answer is the secret.
 */
function decode(text: string): unknown {
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text, (key, value: unknown) => {
      if (DATE_FIELDS.has(key) && typeof value === 'number') return new Date(value * 1000);
      if (key === 'SecretBinary' && typeof value === 'string') return new Uint8Array(Buffer.from(value, 'base64'));
      return value;
    });
  } catch {
    throw Object.assign(new Error('The answer is not valid JSON'), { name: 'SyntaxError' });
  }
}

function encodeBinary(_key: string, value: unknown): unknown {
  return value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value;
}

function abortError(): Error {
  return Object.assign(new Error('The request was aborted'), { name: 'AbortError' });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
