/**
 * Conformance [embedded]: RotateSecret driving in-process rotation functions, which only the embedded
 * endpoint can register. Each case registers its own function ARN and uses its own secret.
 */
import { randomBytes } from 'node:crypto';
import {
  CancelRotateSecretCommand,
  CreateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
} from '@aws-sdk/client-secrets-manager';
import { ConfigError } from '../../shared/errors';
import type { RotationEvent } from '../../emulator';
import { errorName, rejection, secretValue, startEmbedded, type Target } from '../support/conformance-harness';
import { scriptedRotation, type ScriptedRotation } from '../support/conformance-handlers';

let t: Target;
const logs: string[] = [];
beforeAll(async () => {
  t = await startEmbedded({ log: (line) => logs.push(line) });
});
afterAll(() => t.close());

function functionArn(): string {
  return `arn:aws:lambda:us-east-1:000000000000:function:conformance-${randomBytes(4).toString('hex')}-rotation`;
}

interface Fixture {
  name: string;
  arn: string;
  oldValue: string;
  newValue: string;
  oldVersion: string;
  lambda: string;
  script: ScriptedRotation;
}

async function fixture(label: string, observe?: (event: RotationEvent) => Promise<void>): Promise<Fixture> {
  const name = t.name(label);
  const oldValue = secretValue('old');
  const newValue = secretValue('new');
  const created = await t.client.send(new CreateSecretCommand({ Name: name, SecretString: oldValue }));
  const lambda = functionArn();
  const script = scriptedRotation(t.client, newValue, observe);
  t.embedded!.registerRotationFunction(lambda, script.handler);
  return { name, arn: created.ARN!, oldValue, newValue, oldVersion: created.VersionId!, lambda, script };
}

async function stages(name: string): Promise<Record<string, string[]>> {
  return (await t.client.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages ?? {};
}

test('[embedded] RotateSecret runs the four steps in order with the ARN, the token and one RotationToken', async () => {
  const f = await fixture('rotate-ok');
  const out = await t.client.send(
    new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda, RotationRules: { AutomaticallyAfterDays: 30 } }),
  );
  expect(out.ARN).toBe(f.arn);
  expect(f.script.events.map((e) => e.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
  for (const event of f.script.events) {
    expect(event.SecretId).toBe(f.arn);
    expect(event.ClientRequestToken).toBe(out.VersionId);
    expect(event.RotationToken).toBe(f.script.events[0]!.RotationToken);
  }
  expect(f.script.events[0]!.RotationToken).toEqual(expect.any(String));
  expect((await t.client.send(new GetSecretValueCommand({ SecretId: f.name }))).SecretString).toBe(f.newValue);
  expect((await t.client.send(new GetSecretValueCommand({ SecretId: f.name, VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe(f.oldValue);
  const history = t.embedded!.rotationHistory(f.name);
  expect(history).toHaveLength(1);
  expect(history[0]).toMatchObject({ outcome: 'succeeded', token: out.VersionId, trigger: 'RotateSecret', lambdaArn: f.lambda });
  expect(history[0]!.steps.map((s) => [s.step, s.outcome])).toEqual([
    ['createSecret', 'succeeded'],
    ['setSecret', 'succeeded'],
    ['testSecret', 'succeeded'],
    ['finishSecret', 'succeeded'],
  ]);
  expect(history[0]!.steps.every((s) => s.durationMs >= 0)).toBe(true);
  expect(t.embedded!.rotationHistory(f.arn)).toEqual(history);
});

test('[embedded] after a successful rotation DescribeSecret shows the rotation configuration and dates', async () => {
  const f = await fixture('rotate-describe');
  await t.client.send(
    new RotateSecretCommand({ SecretId: f.arn, RotationLambdaARN: f.lambda, RotationRules: { AutomaticallyAfterDays: 10 } }),
  );
  const out = await t.client.send(new DescribeSecretCommand({ SecretId: f.name }));
  expect(out.RotationEnabled).toBe(true);
  expect(out.RotationLambdaARN).toBe(f.lambda);
  expect(out.RotationRules).toEqual({ AutomaticallyAfterDays: 10 });
  expect(out.LastRotatedDate).toBeInstanceOf(Date);
  const days = (out.NextRotationDate!.getTime() - out.LastRotatedDate!.getTime()) / 86_400_000;
  expect(days).toBeCloseTo(10, 3);
});

test('[embedded] the AWSPENDING version exists without a value when createSecret runs', async () => {
  const seen: Array<{ stages: Record<string, string[]>; pendingRead: string }> = [];
  const f = await fixture('rotate-pending-empty', async (event) => {
    if (event.Step !== 'createSecret') return;
    seen.push({
      stages: await stages(event.SecretId),
      pendingRead: await errorName(
        t.client.send(
          new GetSecretValueCommand({ SecretId: event.SecretId, VersionId: event.ClientRequestToken, VersionStage: 'AWSPENDING' }),
        ),
      ),
    });
  });
  const out = await t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda }));
  expect(seen).toEqual([
    { stages: { [f.oldVersion]: ['AWSCURRENT'], [out.VersionId!]: ['AWSPENDING'] }, pendingRead: 'ResourceNotFoundException' },
  ]);
});

test('[embedded] a failing step stops the rotation, is no API error, and is recorded and logged without values', async () => {
  const f = await fixture('rotate-fail');
  f.script.failAt = 'testSecret';
  const out = await t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda }));
  expect(f.script.events.map((e) => e.Step)).toEqual(['createSecret', 'setSecret', 'testSecret']);
  // The pending version stays, with the value createSecret stored; AWSCURRENT has not moved.
  expect(await stages(f.name)).toEqual({ [f.oldVersion]: ['AWSCURRENT'], [out.VersionId!]: ['AWSPENDING'] });
  expect((await t.client.send(new GetSecretValueCommand({ SecretId: f.name }))).SecretString).toBe(f.oldValue);
  const [record] = t.embedded!.rotationHistory(f.name);
  expect(record).toMatchObject({ outcome: 'failed', failedStep: 'testSecret' });
  expect(record!.steps[2]).toMatchObject({ step: 'testSecret', outcome: 'failed', errorName: 'StepFailedError', errorCode: 'E_SCRIPTED' });
  expect((await t.client.send(new DescribeSecretCommand({ SecretId: f.name }))).LastRotatedDate).toBeUndefined();
  const logged = logs.filter((line) => line.includes(f.arn));
  expect(logged).toHaveLength(1);
  expect(logged[0]).toContain('testSecret');
  expect(logged[0]).toContain('StepFailedError');
  for (const text of [...logged, JSON.stringify(record)]) {
    expect(text).not.toContain(f.newValue);
    expect(text).not.toContain(JSON.parse(f.newValue).password);
  }
});

const REATTEMPTED = "A previous rotation isn't complete. That rotation will be reattempted.";

test('[embedded] RotateSecret while a rotation is unfinished is refused, and re-attempts that rotation with its own tokens', async () => {
  const f = await fixture('rotate-in-progress');
  f.script.failAt = 'setSecret';
  const stuck = await t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda }));
  const before = f.script.events.length;
  const err = await rejection(t.client.send(new RotateSecretCommand({ SecretId: f.name })));
  expect(err.name).toBe('InvalidRequestException');
  expect(err.message).toBe(REATTEMPTED);
  // The reattempt fails where the first attempt did: no new version, AWSCURRENT untouched.
  const again = f.script.events.slice(before);
  expect(again.map((e) => e.Step)).toEqual(['createSecret', 'setSecret']);
  expect(new Set(f.script.events.map((e) => e.ClientRequestToken))).toEqual(new Set([stuck.VersionId]));
  expect(new Set(f.script.events.map((e) => e.RotationToken)).size).toBe(1);
  expect(await stages(f.name)).toEqual({ [f.oldVersion]: ['AWSCURRENT'], [stuck.VersionId!]: ['AWSPENDING'] });
  expect(t.embedded!.rotationHistory(f.name).map((r) => [r.trigger, r.token, r.outcome, r.failedStep])).toEqual([
    ['RotateSecret', stuck.VersionId, 'failed', 'setSecret'],
    ['RotateSecret', stuck.VersionId, 'failed', 'setSecret'],
  ]);
});

test('[embedded] a re-attempted rotation that now succeeds makes the stuck version AWSCURRENT, though the call was refused', async () => {
  const f = await fixture('rotate-reattempt-ok');
  f.script.failAt = 'testSecret';
  const stuck = await t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda }));
  f.script.failAt = undefined;
  expect(await errorName(t.client.send(new RotateSecretCommand({ SecretId: f.name })))).toBe('InvalidRequestException');
  expect(f.script.events.slice(3).map((e) => [e.Step, e.ClientRequestToken])).toEqual(
    ['createSecret', 'setSecret', 'testSecret', 'finishSecret'].map((step) => [step, stuck.VersionId]),
  );
  const map = await stages(f.name);
  expect(map[stuck.VersionId!]).toContain('AWSCURRENT');
  expect(map[f.oldVersion]).toEqual(['AWSPREVIOUS']);
  expect(Object.keys(map)).toHaveLength(2);
  expect((await t.client.send(new GetSecretValueCommand({ SecretId: f.name }))).SecretString).toBe(f.newValue);
  expect(t.embedded!.rotationHistory(f.name).map((r) => [r.trigger, r.outcome])).toEqual([
    ['RotateSecret', 'failed'],
    ['RotateSecret', 'succeeded'],
  ]);
  expect((await t.client.send(new DescribeSecretCommand({ SecretId: f.name }))).LastRotatedDate).toBeInstanceOf(Date);
  // Nothing is unfinished any more: the next RotateSecret rotates afresh.
  const next = await t.client.send(new RotateSecretCommand({ SecretId: f.name }));
  expect(next.VersionId).not.toBe(stuck.VersionId);
  expect((await stages(f.name))[next.VersionId!]).toContain('AWSCURRENT');
});

test('[embedded] a RotateSecret naming a function that cannot be invoked is refused before any reattempt', async () => {
  const f = await fixture('rotate-reattempt-bad-arn');
  f.script.failAt = 'setSecret';
  await t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda }));
  const before = f.script.events.length;
  const call = t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: functionArn() }));
  expect(await errorName(call)).toBe('AccessDeniedException');
  expect(f.script.events).toHaveLength(before);
});

test('[embedded] a pending label put by hand also blocks RotateSecret; with no rotation configured before, nothing is re-attempted', async () => {
  const f = await fixture('rotate-hand-pending');
  await t.client.send(new PutSecretValueCommand({ SecretId: f.name, SecretString: secretValue(), VersionStages: ['AWSPENDING'] }));
  const call = t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda }));
  expect(await errorName(call)).toBe('InvalidRequestException');
  expect(f.script.events).toHaveLength(0);
  expect(t.embedded!.rotationHistory(f.name)).toEqual([]);
  expect((await t.client.send(new DescribeSecretCommand({ SecretId: f.name }))).RotationEnabled).toBeFalsy();
});

test('[embedded] retryRotation re-runs the four steps with the same token and completes the rotation', async () => {
  const f = await fixture('rotate-retry');
  f.script.failAt = 'finishSecret';
  const out = await t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda }));
  f.script.failAt = undefined;
  const record = await t.embedded!.retryRotation(f.name);
  expect(record).toMatchObject({ outcome: 'succeeded', token: out.VersionId, trigger: 'retryRotation' });
  const retried = f.script.events.slice(4);
  expect(retried.map((e) => e.Step)).toEqual(['createSecret', 'setSecret', 'testSecret', 'finishSecret']);
  expect(new Set(f.script.events.map((e) => e.ClientRequestToken))).toEqual(new Set([out.VersionId]));
  expect(new Set(f.script.events.map((e) => e.RotationToken)).size).toBe(1);
  expect((await t.client.send(new GetSecretValueCommand({ SecretId: f.name }))).SecretString).toBe(f.newValue);
  expect(t.embedded!.rotationHistory(f.name).map((r) => r.outcome)).toEqual(['failed', 'succeeded']);
});

test('[embedded] retryRotation without an unfinished rotation is a typed error', async () => {
  const f = await fixture('rotate-retry-none');
  await expect(t.embedded!.retryRotation(f.name)).rejects.toMatchObject({ code: 'INVALID_REQUEST' });
  await expect(t.embedded!.retryRotation(t.name('retry-missing'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
});

test('[embedded] the first PutSecretValue with the rotation token fills the value-less AWSPENDING version', async () => {
  const f = await fixture('rotate-fill');
  f.script.failAt = 'createSecret';
  const out = await t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda }));
  const token = out.VersionId!;
  const filled = await t.client.send(
    new PutSecretValueCommand({ SecretId: f.name, ClientRequestToken: token, SecretString: f.newValue, VersionStages: ['AWSPENDING'] }),
  );
  expect(filled.VersionId).toBe(token);
  expect((await t.client.send(new GetSecretValueCommand({ SecretId: f.name, VersionStage: 'AWSPENDING' }))).SecretString).toBe(f.newValue);
  const again = t.client.send(
    new PutSecretValueCommand({ SecretId: f.name, ClientRequestToken: token, SecretString: secretValue(), VersionStages: ['AWSPENDING'] }),
  );
  expect(await errorName(again)).toBe('ResourceExistsException');
  const versions = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: f.name, IncludeDeprecated: true }));
  expect(versions.Versions).toHaveLength(2);
});

test('[embedded] RotateImmediately=false stores the configuration and runs only testSecret on a temporary AWSPENDING version', async () => {
  const during: Array<Record<string, string[]>> = [];
  const f = await fixture('rotate-test-only', async (event) => {
    during.push(await stages(event.SecretId));
  });
  await t.client.send(
    new RotateSecretCommand({
      SecretId: f.name,
      RotationLambdaARN: f.lambda,
      RotateImmediately: false,
      RotationRules: { AutomaticallyAfterDays: 7 },
    }),
  );
  expect(f.script.events.map((e) => e.Step)).toEqual(['testSecret']);
  const token = f.script.events[0]!.ClientRequestToken;
  expect(during).toEqual([{ [f.oldVersion]: ['AWSCURRENT'], [token]: ['AWSPENDING'] }]);
  const out = await t.client.send(new DescribeSecretCommand({ SecretId: f.name }));
  expect(out.VersionIdsToStages).toEqual({ [f.oldVersion]: ['AWSCURRENT'] });
  expect(out.RotationEnabled).toBe(true);
  expect(out.RotationRules).toEqual({ AutomaticallyAfterDays: 7 });
  expect(out.LastRotatedDate).toBeUndefined();
  const versions = await t.client.send(new ListSecretVersionIdsCommand({ SecretId: f.name, IncludeDeprecated: true }));
  expect(versions.Versions?.map((v) => v.VersionId)).toEqual([f.oldVersion]);
});

test('[embedded] CancelRotateSecret disables rotation and leaves AWSPENDING where it is', async () => {
  const f = await fixture('rotate-cancel');
  f.script.failAt = 'setSecret';
  const rotated = await t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda }));
  const cancelled = await t.client.send(new CancelRotateSecretCommand({ SecretId: f.name }));
  expect(cancelled.VersionId).toBe(rotated.VersionId);
  const out = await t.client.send(new DescribeSecretCommand({ SecretId: f.name }));
  expect(out.RotationEnabled).toBe(false);
  expect(out.NextRotationDate).toBeUndefined();
  expect(out.VersionIdsToStages?.[rotated.VersionId!]).toEqual(['AWSPENDING']);
});

test('[embedded] a second RotateSecret reuses the stored Lambda ARN and moves AWSPREVIOUS along', async () => {
  const f = await fixture('rotate-twice');
  const first = await t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda }));
  // The scripted function stores the same value each time; a second rotation stores it under a new token.
  const second = await t.client.send(new RotateSecretCommand({ SecretId: f.name }));
  expect(second.VersionId).not.toBe(first.VersionId);
  const map = await stages(f.name);
  // The scripted finishSecret leaves AWSPENDING beside AWSCURRENT; the service clears it once the
  // rotation has completed, so a later PutSecretValue cannot strand it on a non-current version.
  expect(map[second.VersionId!]).toEqual(['AWSCURRENT']);
  expect(map[first.VersionId!]).toEqual(['AWSPREVIOUS']);
  expect(map[f.oldVersion]).toBeUndefined();
  expect(t.embedded!.rotationHistory(f.name).map((r) => r.outcome)).toEqual(['succeeded', 'succeeded']);
});

test('[embedded] an explicit ClientRequestToken becomes the new version id', async () => {
  const f = await fixture('rotate-token');
  const token = '11111111-2222-4333-8444-' + randomBytes(6).toString('hex');
  const out = await t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda, ClientRequestToken: token }));
  expect(out.VersionId).toBe(token);
  expect((await stages(f.name))[token]).toContain('AWSCURRENT');
});

test('[embedded] two concurrent RotateSecret calls: one rotates, the other is refused', async () => {
  const f = await fixture('rotate-concurrent');
  const results = await Promise.allSettled([
    t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda })),
    t.client.send(new RotateSecretCommand({ SecretId: f.name, RotationLambdaARN: f.lambda })),
  ]);
  const fulfilled = results.filter((r) => r.status === 'fulfilled');
  const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  expect(fulfilled).toHaveLength(1);
  expect(rejected.map((r) => (r.reason as Error).name)).toEqual(['InvalidRequestException']);
  expect(f.script.events).toHaveLength(4);
});

test('[embedded] registerRotationFunction refuses anything but a Lambda function ARN', () => {
  expect(() => t.embedded!.registerRotationFunction('my-function', async () => undefined)).toThrow(ConfigError);
  expect(() =>
    t.embedded!.registerRotationFunction('arn:aws:secretsmanager:us-east-1:000000000000:secret:x', async () => undefined),
  ).toThrow(ConfigError);
});

test('[embedded] rotationHistory of an unknown secret is empty', () => {
  expect(t.embedded!.rotationHistory(t.name('never'))).toEqual([]);
});

describe('[embedded] surfaceRotationErrors', () => {
  let strict: Target;
  beforeAll(async () => {
    strict = await startEmbedded({ surfaceRotationErrors: true });
  });
  afterAll(() => strict.close());

  test("[embedded] RotateSecret fails with the step's error, naming the step and no value", async () => {
    const name = strict.name('rotate-surface');
    const newValue = secretValue('new');
    await strict.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue('old') }));
    const lambda = functionArn();
    const script = scriptedRotation(strict.client, newValue);
    script.failAt = 'setSecret';
    strict.embedded!.registerRotationFunction(lambda, script.handler);
    const err = await rejection(strict.client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: lambda })));
    expect(err.name).toBe('StepFailedError');
    expect(err.message).toContain('setSecret');
    expect(err.message).not.toContain(JSON.parse(newValue).password);
    expect(strict.embedded!.rotationHistory(name)[0]).toMatchObject({ outcome: 'failed', failedStep: 'setSecret' });
  });

  test("[embedded] RotateSecret on an unfinished rotation reports the reattempt's own failure, else the refusal", async () => {
    const name = strict.name('rotate-surface-reattempt');
    const newValue = secretValue('new');
    await strict.client.send(new CreateSecretCommand({ Name: name, SecretString: secretValue('old') }));
    const lambda = functionArn();
    const script = scriptedRotation(strict.client, newValue);
    script.failAt = 'setSecret';
    strict.embedded!.registerRotationFunction(lambda, script.handler);
    const first = await rejection(strict.client.send(new RotateSecretCommand({ SecretId: name, RotationLambdaARN: lambda })));
    expect(first.message).toContain('setSecret');

    script.failAt = 'testSecret';
    const failed = await rejection(strict.client.send(new RotateSecretCommand({ SecretId: name })));
    expect(failed.name).toBe('StepFailedError');
    expect(failed.message).toContain('testSecret');
    expect(failed.message).not.toContain(JSON.parse(newValue).password);

    script.failAt = undefined;
    const refused = await rejection(strict.client.send(new RotateSecretCommand({ SecretId: name })));
    expect(refused.name).toBe('InvalidRequestException');
    expect(refused.message).toBe(REATTEMPTED);
    const history = strict.embedded!.rotationHistory(name);
    expect(history.map((r) => [r.outcome, r.failedStep])).toEqual([
      ['failed', 'setSecret'],
      ['failed', 'testSecret'],
      ['succeeded', undefined],
    ]);
    expect(new Set(history.map((r) => r.token)).size).toBe(1);
    const current = (await strict.client.send(new DescribeSecretCommand({ SecretId: name }))).VersionIdsToStages ?? {};
    expect(current[history[0]!.token]).toContain('AWSCURRENT');
  });
});
