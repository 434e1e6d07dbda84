/**
 * Guarantee 8, in process: the Deadline's bound, and the per-invocation views of the Secrets Manager
 * client and the RDS lookup that every rotation call goes through.
 */
import { LAMBDA_DEADLINE_CODE, TimeoutError, fromSecretsManagerError } from '../../shared/errors';
import type { CallOptions, SecretsApi } from '../../shared/secrets-api/secrets-api';
import { boundedRdsLookup, boundedSecretsApi } from '../../shared/rotation/bounded-clients';
import { Deadline } from '../../shared/rotation/deadline';
import type { RdsEndpointLookup } from '../../shared/rotation/rds-endpoint';

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
    await new Deadline(undefined).bound(
      async (signal) => {
        seen = signal;
      },
      () => new TimeoutError('x'),
    );
    expect(seen).toBeUndefined();
  });

  it.each([
    ['an empty context', {}],
    ['a context whose getRemainingTimeInMillis is not a function', { getRemainingTimeInMillis: 30_000 }],
  ])('treats %s (a wrapper of its own) as outside Lambda instead of throwing a TypeError', async (_label, context) => {
    const deadline = new Deadline(context as never);
    expect(deadline.remainingMs()).toBe(Infinity);
    await expect(
      deadline.bound(
        async (signal) => signal,
        () => new TimeoutError('x'),
      ),
    ).resolves.toBeUndefined();
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

describe('boundedSecretsApi', () => {
  const input = { SecretId: 'app/db' };
  type Describe = (input: unknown, options?: CallOptions) => Promise<unknown>;

  function fakeApi(describe: Describe): SecretsApi & { describeSecret: jest.Mock } {
    const unused = async (): Promise<never> => {
      throw new Error('not used here');
    };
    return { describeSecret: jest.fn(describe), getSecretValue: unused, putSecretValue: unused, updateSecretVersionStage: unused } as never;
  }

  it('passes a deadline signal to the client and cuts the call off with an AbortError the mapper names', async () => {
    let signal: AbortSignal | undefined;
    const api = fakeApi((_i, options) => {
      signal = options?.abortSignal;
      return never();
    });
    const err = await boundedSecretsApi(api, deadlineWithWork(100))
      .describeSecret(input)
      .catch((e: unknown) => e);
    expect(signal?.aborted).toBe(true);
    expect(err).toMatchObject({ name: 'AbortError', code: LAMBDA_DEADLINE_CODE });
    const mapped = fromSecretsManagerError(err, 'DescribeSecret', { secretId: 'app/db', step: 'createSecret' });
    expect(mapped).toBeInstanceOf(TimeoutError);
    expect(mapped.message).toMatch(/^DescribeSecret: no answer from Secrets Manager within the Lambda time left/);
    expect(mapped.message).toMatch(/VPC endpoint.*NAT gateway.*security groups/);
    expect(mapped.causeSummary).toEqual({ name: 'AbortError', code: LAMBDA_DEADLINE_CODE });
  });

  it('does not send a call with no time left', async () => {
    const api = fakeApi(never);
    await expect(boundedSecretsApi(api, deadlineWithWork(-5)).describeSecret(input)).rejects.toMatchObject({ name: 'AbortError' });
    expect(api.describeSecret).not.toHaveBeenCalled();
  });

  it('keeps a caller signal: aborting it aborts the request', async () => {
    let signal: AbortSignal | undefined;
    const api = fakeApi(
      (_i, options) =>
        new Promise((_, reject) => {
          signal = options?.abortSignal;
          signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })));
        }),
    );
    const caller = new AbortController();
    void boundedSecretsApi(api, deadlineWithWork(5_000))
      .describeSecret(input, { abortSignal: caller.signal })
      .catch(() => undefined);
    caller.abort();
    expect(signal?.aborted).toBe(true);
  });

  it('answers as the client does, and adds no signal outside Lambda', async () => {
    const api = fakeApi(async () => ({ ARN: 'arn:x' }));
    await expect(boundedSecretsApi(api, new Deadline(undefined)).describeSecret(input)).resolves.toEqual({ ARN: 'arn:x' });
    expect(api.describeSecret.mock.calls[0][1]).toEqual({});
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
