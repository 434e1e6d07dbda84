/**
 * The rotation Lambdas' own Secrets Manager client against a scripted loopback server: signed JSON 1.1
 * requests, the SDK's error shape (so errors are typed as with the SDK), the standard retry mode, the
 * abort signal, and response dates as Dates.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fromSecretsManagerError } from '../../shared/errors';
import { secretsManagerEndpoint } from '../../shared/secrets-api/aws-endpoint';
import { secretsApiFromEnvironment } from '../../shared/secrets-api/from-environment';
import { MAX_RETRY_AFTER_EXTRA_MS, retryAfterMs, retryDelayMs } from '../../shared/secrets-api/retry-after';
import { createSignedSecretsApi } from '../../shared/secrets-api/signed-client';

interface Seen {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

type Reply = { status: number; body: string; headers?: Record<string, string> } | 'hang' | 'reset';

async function server(replies: Reply[]): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const srv = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const reply = replies.shift() ?? { status: 200, body: '{}' };
      if (reply === 'hang') return;
      if (reply === 'reset') return req.socket.destroy();
      res.writeHead(reply.status, { 'content-type': 'application/x-amz-json-1.1', ...reply.headers });
      res.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(srv.address() as AddressInfo).port}`,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        srv.closeAllConnections();
        srv.close(() => resolve());
      }),
  };
}

const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-key', sessionToken: 'session-token-1' };

describe('the signed Secrets Manager client', () => {
  it('sends a SigV4-signed JSON 1.1 POST naming the operation, and returns the parsed answer with Dates', async () => {
    const s = await server([
      { status: 200, body: JSON.stringify({ ARN: 'arn:x', CreatedDate: 1_700_000_000.5, VersionIdsToStages: { v1: ['AWSCURRENT'] } }) },
    ]);
    try {
      const api = createSignedSecretsApi({ endpoint: s.url, region: 'eu-west-1', credentials });
      const out = await api.describeSecret({ SecretId: 'app' });
      expect(out.ARN).toBe('arn:x');
      expect(out.CreatedDate).toEqual(new Date(1_700_000_000_500));
      expect(out.VersionIdsToStages).toEqual({ v1: ['AWSCURRENT'] });
      const { headers, body } = s.seen[0]!;
      expect(headers['x-amz-target']).toBe('secretsmanager.DescribeSecret');
      expect(headers['content-type']).toBe('application/x-amz-json-1.1');
      expect(headers.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request, SignedHeaders=.*x-amz-target.*, Signature=[0-9a-f]{64}$/,
      );
      expect(headers['x-amz-security-token']).toBe('session-token-1');
      expect(JSON.parse(body)).toEqual({ SecretId: 'app' });
    } finally {
      await s.close();
    }
  });

  it('raises service errors in the SDK shape, so they are typed as with the SDK, and does not retry a 4xx', async () => {
    const s = await server([
      { status: 400, body: JSON.stringify({ __type: 'com.amazonaws.secretsmanager#ResourceNotFoundException', message: 'nope' }) },
    ]);
    try {
      const api = createSignedSecretsApi({ endpoint: s.url, region: 'us-east-1', credentials });
      const err = await api.getSecretValue({ SecretId: 'app', VersionStage: 'AWSPENDING' }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
      expect(fromSecretsManagerError(err, 'GetSecretValue').code).toBe('NOT_FOUND');
      expect(s.seen).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('retries throttling, 5xx and dropped connections up to three attempts, then gives up typed', async () => {
    const throttled = { status: 400, body: JSON.stringify({ __type: 'ThrottlingException' }) };
    const s = await server([
      throttled,
      'reset',
      { status: 200, body: '{"Name":"app"}' },
      { status: 503, body: '' },
      { status: 503, body: '' },
      { status: 503, body: '' },
    ]);
    try {
      const api = createSignedSecretsApi({ endpoint: s.url, region: 'us-east-1', credentials });
      await expect(api.putSecretValue({ SecretId: 'app', ClientRequestToken: 't', SecretString: '{}' })).resolves.toMatchObject({
        Name: 'app',
      });
      expect(s.seen).toHaveLength(3);
      // Every retry of PutSecretValue carries the same ClientRequestToken: Secrets Manager makes it idempotent.
      expect(new Set(s.seen.map((r) => JSON.parse(r.body).ClientRequestToken))).toEqual(new Set(['t']));
      const err = await api.updateSecretVersionStage({ SecretId: 'app', VersionStage: 'AWSCURRENT' }).catch((e: unknown) => e);
      expect(fromSecretsManagerError(err, 'UpdateSecretVersionStage').code).toBe('TRANSIENT');
      expect(s.seen).toHaveLength(6);
    } finally {
      await s.close();
    }
  }, 30_000);

  it('stops at once when its abort signal fires, even on a server that never answers', async () => {
    const s = await server(['hang']);
    try {
      const api = createSignedSecretsApi({ endpoint: s.url, region: 'us-east-1', credentials });
      const started = Date.now();
      const err = await api.describeSecret({ SecretId: 'app' }, { abortSignal: AbortSignal.timeout(200) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'AbortError' });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await s.close();
    }
  });

  it("waits as long as a throttled endpoint's Retry-After asks before retrying, and its abort signal still ends the wait", async () => {
    const throttled = { status: 400, body: JSON.stringify({ __type: 'ThrottlingException' }), headers: { 'retry-after': '3600' } };
    const s = await server([throttled, { status: 200, body: '{"Name":"app"}' }]);
    try {
      const api = createSignedSecretsApi({ endpoint: s.url, region: 'us-east-1', credentials });
      // The client's own back-off is at most 100 ms before the first retry; the server asked for far more
      // (capped at the back-off plus 5 s, as the SDK does), so the signal ends the wait before any retry.
      const err = await api.describeSecret({ SecretId: 'app' }, { abortSignal: AbortSignal.timeout(1_000) }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'AbortError' });
      expect(s.seen).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('reads Retry-After as seconds or an HTTP date, and x-amz-retry-after as milliseconds, capped as the SDK caps it', () => {
    const now = Date.parse('2026-12-01T00:00:00Z');
    expect(retryAfterMs({ 'retry-after': '2' }, now)).toBe(2_000);
    expect(retryAfterMs({ 'retry-after': ' 1.5 ' }, now)).toBe(1_500);
    expect(retryAfterMs({ 'retry-after': 'Tue, 01 Dec 2026 00:00:03 GMT' }, now)).toBe(3_000);
    expect(retryAfterMs({ 'retry-after': 'Mon, 30 Nov 2026 00:00:00 GMT' }, now)).toBe(0);
    expect(retryAfterMs({ 'x-amz-retry-after': '250', 'retry-after': '9' }, now)).toBe(250);
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(retryAfterMs({}, now)).toBeUndefined();
    expect(retryDelayMs(80, undefined)).toBe(80);
    expect(retryDelayMs(80, 10)).toBe(80);
    expect(retryDelayMs(80, 2_000)).toBe(2_000);
    expect(retryDelayMs(80, 3_600_000)).toBe(80 + MAX_RETRY_AFTER_EXTRA_MS);
  });

  it.each([
    ['a truncated JSON body', '{"ARN":"arn:x","SecretString":"{\\"password\\":\\"hsm-Leak-9f3e'],
    ["a proxy's HTML page", '<html><body>hsm-Leak-9f3e</body></html>'],
    ['a bare text answer', 'hsm-Leak-9f3e'],
  ])('types a 2xx answer that is not JSON (%s) as a clear failure that quotes none of it, without retrying', async (_label, body) => {
    const s = await server([{ status: 200, body }]);
    try {
      const api = createSignedSecretsApi({ endpoint: s.url, region: 'us-east-1', credentials });
      const raw = await api.getSecretValue({ SecretId: 'app' }).catch((e: unknown) => e);
      // Even the client's own error, before any mapping, quotes none of the answer (V8's parser would).
      expect(raw).toMatchObject({ name: 'SyntaxError' });
      expect(`${String(raw)} ${(raw as Error).stack}`).not.toContain('hsm-Leak');
      const err = fromSecretsManagerError(raw, 'GetSecretValue');
      expect(err.message).toMatch(/^GetSecretValue: the answer was not Secrets Manager's JSON/);
      expect(JSON.stringify(err)).not.toContain('hsm-Leak');
      expect(s.seen).toHaveLength(1);
    } finally {
      await s.close();
    }
  });

  it('posts to the path of a SECRETS_MANAGER_ENDPOINT behind a path-routing proxy, trailing slash or not, and signs for it', async () => {
    const s = await server([]);
    try {
      for (const endpoint of [`${s.url}/`, `${s.url}/proxy/sm/`, `${s.url}/proxy/sm`]) {
        const api = secretsApiFromEnvironment({ SECRETS_MANAGER_ENDPOINT: endpoint, AWS_REGION: 'eu-west-1' });
        await api.describeSecret({ SecretId: 'app' });
      }
      expect(s.seen.map((r) => r.url)).toEqual(['/', '/proxy/sm', '/proxy/sm']);
      for (const r of s.seen) expect(r.headers.authorization).toMatch(/\/eu-west-1\/secretsmanager\/aws4_request/);
    } finally {
      await s.close();
    }
  });

  it('resolves the public endpoint per partition and variant', () => {
    expect(secretsManagerEndpoint('eu-west-1')).toBe('https://secretsmanager.eu-west-1.amazonaws.com');
    expect(secretsManagerEndpoint('cn-north-1')).toBe('https://secretsmanager.cn-north-1.amazonaws.com.cn');
    expect(secretsManagerEndpoint('us-gov-west-1', { AWS_USE_FIPS_ENDPOINT: 'true' })).toBe(
      'https://secretsmanager-fips.us-gov-west-1.amazonaws.com',
    );
    expect(secretsManagerEndpoint('eu-west-1', { AWS_USE_DUALSTACK_ENDPOINT: '1' })).toBe('https://secretsmanager.eu-west-1.api.aws');
  });
});
