/**
 * How `rotate:local` asks an endpoint for its rotation functions: the SigV4 signature (against the
 * signer the AWS SDK uses), and the four answers a GetFunction can get (found, missing, no Lambda API,
 * nothing there) from a stand-in, the repo's own endpoint and a closed port.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { lookUpFunction, RotationFunctionResolver, type FunctionLookup } from '../../local/rotate-local/rotation-functions';
import { rotateSecretError } from '../../local/rotate-local/run-scenario';
import { signRequest } from '../../local/rotate-local/sigv4';
import { startLocalSecretsManager } from '../../local/secrets-manager';
import { startLocalStackStandIn } from './localstack-stand-in';

/** The hash the SDK's signer is handed, on node:crypto. */
class Sha256 {
  private readonly hash: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

function bytes(data: string | ArrayBuffer | ArrayBufferView): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.from(data);
}

describe('SigV4 for GetFunction', () => {
  const date = new Date('2026-05-01T12:34:56Z');
  const sdkSigner = new SignatureV4({
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    region: 'us-east-1',
    service: 'lambda',
    sha256: Sha256,
    applyChecksum: false,
  });

  it.each(['postgres-single-user-rotation', 'arn:aws:lambda:us-east-1:123456789012:function:a b'])('signs %s as the AWS SDK does', async (name) => {
    const url = new URL(`http://127.0.0.1:4566/2015-03-31/functions/${encodeURIComponent(name)}`);
    const mine = signRequest({ method: 'GET', url, region: 'us-east-1', service: 'lambda', accessKeyId: 'test', secretAccessKey: 'test', date });
    const sdk = await sdkSigner.sign(
      { method: 'GET', protocol: 'http:', hostname: '127.0.0.1', port: 4566, path: url.pathname, headers: { host: url.host }, query: {} },
      { signingDate: date },
    );
    expect(mine.authorization).toBe(sdk.headers.authorization);
    expect(mine.authorization).toMatch(/Credential=test\/20260501\/us-east-1\/lambda\/aws4_request/);
  });

  it('refuses a query string rather than sign it wrongly', () => {
    expect(() =>
      signRequest({ method: 'GET', url: new URL('http://h/x?a=1'), region: 'r', service: 's', accessKeyId: 'a', secretAccessKey: 'b' }),
    ).toThrow(/query strings/);
  });
});

describe('lookUpFunction', () => {
  it('finds a function with the ARN the emulator reports, and tells a missing one apart', async () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:postgres-single-user-rotation';
    const standIn = await startLocalStackStandIn({ functions: { 'postgres-single-user-rotation': arn } });
    try {
      expect(await lookUpFunction(standIn.url, 'us-east-1', 'postgres-single-user-rotation')).toEqual({ state: 'found', arn });
      expect(await lookUpFunction(standIn.url, 'us-east-1', 'mysql-single-user-rotation')).toEqual({ state: 'missing' });
      expect(standIn.requests.map((r) => [r.service, r.action, r.accessKeyId])).toEqual([
        ['lambda', 'GetFunction', 'test'],
        ['lambda', 'GetFunction', 'test'],
      ]);
    } finally {
      await standIn.close();
    }
  });

  it("answers 'unknown' for the repo's own endpoint, which serves no Lambda API", async () => {
    const endpoint = await startLocalSecretsManager({ log: () => undefined });
    try {
      const answer = await lookUpFunction(endpoint.endpoint, 'us-east-1', 'postgres-single-user-rotation');
      expect(answer).toEqual({ state: 'unknown', detail: 'GetFunction answered HTTP 404 UnknownOperationException' });
    } finally {
      await endpoint.close();
    }
  });

  it("answers 'unreachable' with the network code when nothing listens", async () => {
    const standIn = await startLocalStackStandIn();
    await standIn.close();
    expect(await lookUpFunction(standIn.url, 'us-east-1', 'x')).toEqual({ state: 'unreachable', code: 'ECONNREFUSED' });
  });

  it('is asked once per function in a run', async () => {
    const asked: string[] = [];
    const resolver = new RotationFunctionResolver('http://e', 'us-east-1', async (_endpoint, _region, name): Promise<FunctionLookup> => {
      asked.push(name);
      return { state: 'missing' };
    });
    await resolver.lookUp('postgres', 'single-user');
    await resolver.lookUp('postgres', 'single-user');
    await resolver.lookUp('mysql', 'single-user');
    expect(asked).toEqual(['postgres-single-user-rotation', 'mysql-single-user-rotation']);
    expect(resolver.fallbackArn('mysql', 'single-user')).toBe('arn:aws:lambda:us-east-1:000000000000:function:mysql-single-user-rotation');
  });
});

describe("RotateSecret's failure", () => {
  const arn = 'arn:aws:lambda:us-east-1:000000000000:function:postgres-single-user-rotation';

  it('names the missing function, not a missing secret, when an emulator answers ResourceNotFoundException', () => {
    // What LocalStack and moto answer for a function that is not deployed in them.
    const err = Object.assign(new Error('Lambda does not exist or could not be accessed'), { name: 'ResourceNotFoundException' });
    const line = rotateSecretError(err, 'app/db', arn, 'http://127.0.0.1:5000');
    expect(line).toBe(`RotateSecret: http://127.0.0.1:5000 has no rotation function ${arn} (ResourceNotFoundException): deploy it there under that name [secret app/db]`);
    expect(line).not.toMatch(/secret or version not found/);
  });

  it('keeps the usual typed message for anything else', () => {
    const err = Object.assign(new Error('x'), { name: 'InvalidRequestException' });
    expect(rotateSecretError(err, 'app/db', arn, 'http://e')).toBe('RotateSecret: refused by Secrets Manager (InvalidRequestException) [secret app/db]');
  });
});
