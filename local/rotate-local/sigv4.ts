/**
 * AWS Signature Version 4 for the one bodiless request `rotate:local` makes outside Secrets Manager's
 * SDK client (Lambda GetFunction). Emulators do not check the signature, but LocalStack picks the
 * service from the credential scope, so the request must carry a well-formed one; signing it properly
 * costs no more. Query strings are not supported (the request has none).
 */
import { createHash, createHmac } from 'node:crypto';

/** What to sign: a GET/HEAD/DELETE without a body or query string. */
export interface SignableRequest {
  readonly method: string;
  readonly url: URL;
  /** The signing region, e.g. us-east-1. */
  readonly region: string;
  /** The signing name, e.g. lambda. */
  readonly service: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** @default now */
  readonly date?: Date;
}

const sha256Hex = (data: string): string => createHash('sha256').update(data, 'utf8').digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** Each path segment percent-encoded once more, as SigV4 requires for every service but S3. */
function canonicalPath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('/');
}

/**
 * The headers to send: `host`, `x-amz-date` and `authorization`.
 * @throws Error when the URL has a query string (not supported here)
 */
export function signRequest(request: SignableRequest): Record<string, string> {
  if (request.url.search !== '') throw new Error('signRequest: query strings are not supported');
  const amzDate = (request.date ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers = { host: request.url.host, 'x-amz-date': amzDate };
  const signedHeaders = Object.keys(headers).sort().join(';');
  const canonicalHeaders = Object.entries(headers)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}:${v.trim()}\n`)
    .join('');
  const canonicalRequest = [request.method, canonicalPath(request.url.pathname), '', canonicalHeaders, signedHeaders, sha256Hex('')].join('\n');
  const scope = `${day}/${request.region}/${request.service}/aws4_request`;
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  const key = [day, request.region, request.service, 'aws4_request'].reduce<Buffer | string>(
    (k, part) => hmac(k, part),
    `AWS4${request.secretAccessKey}`,
  );
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return {
    ...headers,
    authorization: `AWS4-HMAC-SHA256 Credential=${request.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`,
  };
}
