/**
 * How `rotate:local` asks an endpoint for its rotation functions (GetFunction, signed by the SDK's own
 * SigV4 signer): the four answers it can get (found, missing, no Lambda API, nothing there) from a
 * stand-in, the repo's own endpoint and a closed port.
 */
import { lookUpFunction, RotationFunctionResolver, type FunctionLookup } from '../../local/rotate-local/rotation-functions';
import { rotateSecretError } from '../../local/rotate-local/run-scenario';
import { startLocalSecretsManager } from '../../emulator';
import { startLocalStackStandIn } from '../support/localstack-stand-in';

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

  it("answers 'unknown', not 'unreachable', for a port fetch refuses to try (the SDK's client may still reach it)", async () => {
    const answer = await lookUpFunction('http://127.0.0.1:6000', 'us-east-1', 'x');
    expect(answer).toEqual({ state: 'unknown', detail: 'GetFunction could not be sent: fetch refused the URL' });
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
    expect(line).toBe(
      `RotateSecret: http://127.0.0.1:5000 has no rotation function ${arn} (ResourceNotFoundException): deploy it there under that name [secret app/db]`,
    );
    expect(line).not.toMatch(/secret or version not found/);
  });

  it('keeps the usual typed message for anything else', () => {
    const err = Object.assign(new Error('x'), { name: 'InvalidRequestException' });
    expect(rotateSecretError(err, 'app/db', arn, 'http://e')).toBe(
      'RotateSecret: refused by Secrets Manager (InvalidRequestException) [secret app/db]',
    );
  });
});
