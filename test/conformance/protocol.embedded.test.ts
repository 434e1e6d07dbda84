/**
 * Conformance [embedded]: the wire protocol below the SDK, with raw HTTP. The Authorization header here
 * is well-formed but not a valid signature, which only the embedded endpoint accepts.
 */
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { request } from 'node:http';
import { secretValue, startEmbedded, type Target } from '../support/conformance-harness';

let t: Target;
beforeAll(async () => {
  t = await startEmbedded();
});
afterAll(() => t.close());

const SIGNED = {
  authorization:
    'AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/secretsmanager/aws4_request, SignedHeaders=host;x-amz-date, Signature=00',
  'x-amz-date': '20260101T000000Z',
};

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

function call(target: string | undefined, body: string | Buffer, headers: Record<string, string> = SIGNED): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const url = new URL(t.endpoint);
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method: 'POST',
        path: '/',
        headers: {
          'content-type': 'application/x-amz-json-1.1',
          ...(target ? { 'x-amz-target': target } : {}),
          ...headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

test('[embedded] the endpoint binds 127.0.0.1', () => {
  expect(t.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
});

test('[embedded] a request without an Authorization header is MissingAuthenticationTokenException', async () => {
  const out = await call('secretsmanager.ListSecrets', '{}', {});
  expect(out.status).toBe(400);
  expect(out.body.__type).toBe('MissingAuthenticationTokenException');
  expect(out.headers['x-amzn-requestid']).toEqual(expect.any(String));
});

test('[embedded] an Authorization header that is not SigV4 is IncompleteSignatureException', async () => {
  const out = await call('secretsmanager.ListSecrets', '{}', { authorization: 'Bearer abc', 'x-amz-date': SIGNED['x-amz-date'] });
  expect(out.status).toBe(400);
  expect(out.body.__type).toBe('IncompleteSignatureException');
});

test('[embedded] an unknown operation is a 400 UnknownOperationException, and the endpoint keeps serving', async () => {
  const out = await call('secretsmanager.FlyToTheMoon', '{}');
  expect(out.status).toBe(400);
  expect(out.body.__type).toBe('UnknownOperationException');
  const missingTarget = await call(undefined, '{}');
  expect(missingTarget.body.__type).toBe('UnknownOperationException');
  expect((await call('secretsmanager.ListSecrets', '{}')).status).toBe(200);
});

test('[embedded] a real action that is not emulated says so', async () => {
  const out = await call('secretsmanager.GetResourcePolicy', '{"SecretId":"x"}');
  expect(out.status).toBe(400);
  expect(out.body).toMatchObject({ __type: 'UnknownOperationException', message: expect.stringContaining('not emulated') });
});

test('[embedded] malformed JSON and wrong member types are SerializationException', async () => {
  expect((await call('secretsmanager.CreateSecret', '{"Name": ')).body.__type).toBe('SerializationException');
  expect((await call('secretsmanager.CreateSecret', '[1,2]')).body.__type).toBe('SerializationException');
  expect((await call('secretsmanager.CreateSecret', '{"Name": 5}')).body.__type).toBe('SerializationException');
});

test('[embedded] a body over 1 MiB is refused with 413, and the endpoint keeps serving', async () => {
  const big = Buffer.alloc(1024 * 1024 + 10, 0x20);
  const out = await call('secretsmanager.ListSecrets', big);
  expect(out.status).toBe(413);
  expect(out.body.__type).toBe('RequestEntityTooLargeException');
  expect((await call('secretsmanager.ListSecrets', '{}')).status).toBe(200);
});

test('[embedded] answers are application/x-amz-json-1.1 with epoch-second timestamps and base64 blobs', async () => {
  const name = t.name('raw');
  await t.client.send(new CreateSecretCommand({ Name: name, SecretBinary: Uint8Array.from([1, 2, 3]) }));
  const out = await call('secretsmanager.GetSecretValue', JSON.stringify({ SecretId: name }));
  expect(out.status).toBe(200);
  expect(out.headers['content-type']).toBe('application/x-amz-json-1.1');
  expect(out.body.SecretBinary).toBe('AQID');
  expect(typeof out.body.CreatedDate).toBe('number');
  expect(Math.abs((out.body.CreatedDate as number) - Date.now() / 1000)).toBeLessThan(300);
});

test('[embedded] error answers carry no secret value', async () => {
  const name = t.name('raw-error');
  const value = secretValue();
  const created = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: value }));
  const out = await call(
    'secretsmanager.PutSecretValue',
    JSON.stringify({ SecretId: name, ClientRequestToken: created.VersionId, SecretString: `${value}-changed` }),
  );
  expect(out.body.__type).toBe('ResourceExistsException');
  expect(JSON.stringify(out.body)).not.toContain(JSON.parse(value).password);
  expect((await t.client.send(new GetSecretValueCommand({ SecretId: name }))).SecretString).toBe(value);
});
