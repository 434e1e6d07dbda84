/**
 * Guarantee 8, in process: the Deadline's bound, and the per-invocation views of the Secrets Manager
 * client and the RDS lookup that every rotation call goes through.
 */
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LAMBDA_DEADLINE_CODE, TimeoutError, fromSecretsManagerError } from '../../shared/errors';
import { boundedRdsLookup, boundedSecretsClient } from '../../shared/rotation/bounded-clients';
import { Deadline } from '../../shared/rotation/deadline';
import type { RdsEndpointLookup } from '../../shared/rotation/master-secret';

/** A Lambda context with `ms` left from now; the Deadline keeps its 1.5 s margin on top. */
function lambdaWith(ms: number): { getRemainingTimeInMillis(): number } {
  const started = Date.now();
  return { getRemainingTimeInMillis: () => ms - (Date.now() - started) };
}

/** `workMs` of time for calls: the context's time left minus the Deadline's safety margin. */
function deadlineWithWork(workMs: number): Deadline {
  return new Deadline(lambdaWith(workMs + 1_500), { secretId: 'app/db', step: 'createSecret' });
}

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

describe('Deadline.bound', () => {
  it('rejects with the factory error when the time runs out, and aborts the signal it gave the work', async () => {
    const deadline = deadlineWithWork(150);
    let seen: AbortSignal | undefined;
    const started = Date.now();
    await expect(
      deadline.bound(
        (signal) => {
          seen = signal;
          return never();
        },
        () => new TimeoutError('too late'),
      ),
    ).rejects.toThrow('too late');
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(seen?.aborted).toBe(true);
  });

  it('does not start the work with no time left', async () => {
    const work = jest.fn(never);
    await expect(deadlineWithWork(-10).bound(work, () => new TimeoutError('no time'))).rejects.toThrow('no time');
    expect(work).not.toHaveBeenCalled();
  });

  it('settles with the work when it finishes in time, and leaves no timer behind', async () => {
    const deadline = deadlineWithWork(5_000);
    const onExpiry = jest.fn(() => new TimeoutError('x'));
    await expect(deadline.bound(async () => 42, onExpiry)).resolves.toBe(42);
    await expect(deadline.bound(() => Promise.reject(new Error('own failure')), onExpiry)).rejects.toThrow('own failure');
    expect(onExpiry).not.toHaveBeenCalled();
  });

  it('runs unbounded, without a signal, outside Lambda', async () => {
    let seen: AbortSignal | undefined | null = null;
    await new Deadline(undefined).bound(async (signal) => {
      seen = signal;
    }, () => new TimeoutError('x'));
    expect(seen).toBeUndefined();
  });

  it('settles with its own error even when the work rejects at once on abort', async () => {
    const deadline = deadlineWithWork(50);
    const work = (signal: AbortSignal | undefined): Promise<never> =>
      new Promise((_, reject) => signal?.addEventListener('abort', () => reject(new Error('aborted by the driver'))));
    await expect(deadline.bound(work, () => new TimeoutError('deadline'))).rejects.toThrow('deadline');
  });
});

describe('Deadline.waitAtMost', () => {
  it('returns at the deadline even if the promise never settles, and never throws', async () => {
    const started = Date.now();
    await deadlineWithWork(100).waitAtMost(never());
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(deadlineWithWork(1_000).waitAtMost(Promise.reject(new Error('x')))).resolves.toBeUndefined();
    await expect(deadlineWithWork(-1).waitAtMost(never())).resolves.toBeUndefined();
  });
});

describe('boundedSecretsClient', () => {
  const command = new DescribeSecretCommand({ SecretId: 'app/db' });

  function fakeClient(send: (command: unknown, options?: { abortSignal?: AbortSignal }) => Promise<unknown>): SecretsManagerClient {
    const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
    Object.defineProperty(client, 'send', { value: jest.fn(send) });
    return client;
  }

  it('passes a deadline signal to the SDK and cuts the call off with an AbortError the mapper names', async () => {
    let signal: AbortSignal | undefined;
    const client = fakeClient((_c, options) => {
      signal = options?.abortSignal;
      return never();
    });
    const view = boundedSecretsClient(client, deadlineWithWork(100));
    const err = await view.send(command).catch((e: unknown) => e);
    expect(signal?.aborted).toBe(true);
    expect(err).toMatchObject({ name: 'AbortError', code: LAMBDA_DEADLINE_CODE });
    const mapped = fromSecretsManagerError(err, 'DescribeSecret', { secretId: 'app/db', step: 'createSecret' });
    expect(mapped).toBeInstanceOf(TimeoutError);
    expect(mapped.message).toMatch(/^DescribeSecret: no answer from Secrets Manager within the Lambda time left/);
    expect(mapped.message).toMatch(/VPC endpoint.*NAT gateway.*security groups/);
    expect(mapped.causeSummary).toEqual({ name: 'AbortError', code: LAMBDA_DEADLINE_CODE });
  });

  it('does not send a call with no time left', async () => {
    const client = fakeClient(never);
    await expect(boundedSecretsClient(client, deadlineWithWork(-5)).send(command)).rejects.toMatchObject({ name: 'AbortError' });
    expect(client.send).not.toHaveBeenCalled();
  });

  it('keeps a caller signal: aborting it aborts the request', async () => {
    let signal: AbortSignal | undefined;
    const client = fakeClient(
      (_c, options) =>
        new Promise((_, reject) => {
          signal = options?.abortSignal;
          signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
        }),
    );
    const caller = new AbortController();
    void boundedSecretsClient(client, deadlineWithWork(5_000))
      .send(command, { abortSignal: caller.signal })
      .catch(() => undefined);
    caller.abort();
    expect(signal?.aborted).toBe(true);
  });

  it('is still the client: instanceof, config and the callback form of send', async () => {
    const client = fakeClient(async () => ({ ARN: 'arn:x' }));
    const view = boundedSecretsClient(client, deadlineWithWork(5_000));
    expect(view).toBeInstanceOf(SecretsManagerClient);
    expect(view.config).toBe(client.config);
    await expect(view.send(command)).resolves.toEqual({ ARN: 'arn:x' });
    const answer = await new Promise((resolve) => view.send(command, (_err: unknown, data?: unknown) => resolve(data)));
    expect(answer).toEqual({ ARN: 'arn:x' });
  });

  it('adds no signal outside Lambda', async () => {
    const client = fakeClient(async () => ({}));
    await boundedSecretsClient(client, new Deadline(undefined)).send(command);
    expect((client.send as jest.Mock).mock.calls[0][1]).toBeUndefined();
  });
});

describe('boundedRdsLookup', () => {
  it('fails a lookup still unanswered at the deadline as a TimeoutError naming the RDS call, and aborts it', async () => {
    let signal: AbortSignal | undefined;
    const lookup: RdsEndpointLookup = (_kind, _arn, options) => {
      signal = options?.abortSignal;
      return never();
    };
    const bounded = boundedRdsLookup(lookup, deadlineWithWork(100), { secretId: 'master', step: 'setSecret' });
    const err = await bounded('cluster', 'arn:aws:rds:us-east-1:1:cluster:db').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as Error).message).toMatch(/^RDS DescribeDBClusters: no answer from the RDS API within the Lambda time left;.*NAT gateway/);
    expect((err as Error).message).toContain('[secret master, step setSecret]');
    expect(signal?.aborted).toBe(true);
  });

  it('returns an answer in time unchanged', async () => {
    const endpoint = { host: 'db.example.com', port: 5432, engine: 'postgres' };
    const bounded = boundedRdsLookup(async () => endpoint, deadlineWithWork(5_000), {});
    await expect(bounded('instance', 'arn:aws:rds:us-east-1:1:db:x')).resolves.toBe(endpoint);
  });
});

describe('fromSecretsManagerError: timeouts name the network path', () => {
  it.each([
    [{ name: 'TimeoutError' }, /timed out; check the network path/],
    [{ name: 'AbortError' }, /cut off before an answer came; check the network path/],
    [{ name: 'Error', code: 'ETIMEDOUT' }, /timed out; check the network path/],
  ])('%o', (raw, message) => {
    const mapped = fromSecretsManagerError(Object.assign(new Error('sdk text'), raw), 'GetSecretValue');
    expect(mapped).toBeInstanceOf(TimeoutError);
    expect(mapped.message).toMatch(message);
    expect(mapped.message).not.toContain('sdk text');
  });
});
