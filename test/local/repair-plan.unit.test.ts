import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeSecretCommand,
  InvalidRequestException,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { applyRepair, fallbackToken } from '../../operator/apply-repair';
import type { WaitProgress } from '../../operator/wait-progress';
import { planRepair, renderRepairPlan } from '../../operator/repair-plan';
import { isReattemptRefusal, readResumeAnswer } from '../../operator/resume-answer';
import { summarizeRotationStatus } from '../../operator/rotation-status';
import { renderRotationStatus } from '../../operator/status-report';

const NOW = new Date('2026-01-10T12:00:00Z');
const LAMBDA = 'arn:aws:lambda:us-east-1:000000000000:function:postgres-single-user-rotation';

function described(stages: Record<string, string[]>, rotation: { enabled: boolean; lambda?: string } = { enabled: true, lambda: LAMBDA }) {
  return {
    Name: 'app/db',
    ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:app/db-AbCdEf',
    RotationEnabled: rotation.enabled,
    ...(rotation.lambda ? { RotationLambdaARN: rotation.lambda } : {}),
    RotationRules: { AutomaticallyAfterDays: 30 },
    LastRotatedDate: new Date('2026-01-01T00:00:00Z'),
    NextRotationDate: new Date('2026-01-31T00:00:00Z'),
    VersionIdsToStages: stages,
  };
}

describe('summarizeRotationStatus', () => {
  it('is not stuck when AWSPENDING shares the AWSCURRENT version', () => {
    const s = summarizeRotationStatus(described({ v2: ['AWSCURRENT', 'AWSPENDING'], v1: ['AWSPREVIOUS'] }));
    expect(s.stuck).toBeUndefined();
    expect(s.problems).toEqual([]);
    expect(s.rotation).toEqual({ enabled: true, lambdaArn: LAMBDA, schedule: 'every 30 days' });
    expect(s.nextRotationDate).toBe('2026-01-31T00:00:00.000Z');
  });

  it('is stuck when AWSPENDING is on another version, and says why for a cancelled rotation', () => {
    const s = summarizeRotationStatus(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }, { enabled: false, lambda: LAMBDA }), [
      { VersionId: 'v2', VersionStages: ['AWSPENDING'], CreatedDate: new Date('2026-01-10T11:59:00Z') },
      { VersionId: 'v1', VersionStages: ['AWSCURRENT'], CreatedDate: new Date('2026-01-01T00:00:00Z') },
    ]);
    expect(s.stuck).toMatchObject({ pendingVersionId: 'v2', currentVersionId: 'v1', pendingCreatedDate: '2026-01-10T11:59:00.000Z' });
    expect(s.stuck?.reason).toMatch(/CancelRotateSecret/);
    expect(s.versions.map((v) => v.versionId)).toEqual(['v2', 'v1']);
    const text = renderRotationStatus(s, NOW);
    expect(text).toMatch(/stuck\s+yes/);
    expect(text).toContain('npm run rotation:repair -- --secret-id app/db');
  });

  it('reports a secret with no AWSCURRENT as a problem', () => {
    expect(summarizeRotationStatus(described({ v1: ['AWSPREVIOUS'] })).problems[0]).toMatch(/AWSCURRENT/);
  });
});

describe('planRepair', () => {
  const stuckEnabled = summarizeRotationStatus(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }));
  const stuckCancelled = summarizeRotationStatus(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }, { enabled: false, lambda: LAMBDA }));
  const stuckNoFunction = summarizeRotationStatus(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }, { enabled: false }));

  it('does nothing for a healthy secret', () => {
    const plan = planRepair(summarizeRotationStatus(described({ v1: ['AWSCURRENT'] })), undefined, NOW);
    expect(plan.action).toBe('none');
  });

  it('re-drives by default while rotation is on, and says AWSCURRENT will move', () => {
    const plan = planRepair(stuckEnabled, undefined, NOW);
    expect(plan).toMatchObject({ action: 'redrive', touchesCurrent: true, pendingVersionId: 'v2', currentVersionId: 'v1' });
    const text = renderRepairPlan(plan, false);
    expect(text).toMatch(/AWSCURRENT: WILL MOVE to the stuck version v2/);
    expect(text).toMatch(/dry run/);
  });

  it('says the re-drive resumes the stuck rotation first, and that the fallback is the one that clears the label', () => {
    const plan = planRepair(stuckEnabled, 'redrive', NOW);
    const text = renderRepairPlan(plan, true);
    expect(text).toMatch(/^path: RESUME the stuck rotation with its own token; a fresh rotation .* only as a fallback/m);
    expect(plan.steps[0]).toMatch(/^resume the stuck rotation: RotateSecret .*version v2/);
    expect(plan.steps[1]).toMatch(/MOVES AWSCURRENT from v1 to v2/);
    const fallback = plan.steps.findIndex((s) => s.startsWith('fallback'));
    expect(fallback).toBeGreaterThan(1);
    expect(plan.steps[fallback]).toMatch(/remove the AWSPENDING label from v2/);
    expect(plan.steps.slice(0, fallback).join(' ')).not.toMatch(/remove the AWSPENDING label/);
    const warning = plan.warnings.find((w) => w.includes('single-user'));
    expect(warning).toMatch(/fallback removes AWSPENDING from v2/);
    expect(warning).toMatch(/master secret \(masterarn\)/);
    expect(text).toContain(`warning: ${warning}`);
  });

  it('says a resume leaves rotation off when it was cancelled', () => {
    const plan = planRepair(stuckCancelled, 'redrive', NOW);
    expect(plan.action).toBe('redrive');
    expect(plan.steps.join('\n')).toMatch(/a resumed rotation leaves it off; a fallback RotateSecret turns it back on/);
  });

  it('only removes the stray label after CancelRotateSecret, leaving AWSCURRENT alone', () => {
    const plan = planRepair(stuckCancelled, undefined, NOW);
    expect(plan).toMatchObject({ action: 'remove-pending', touchesCurrent: false });
    expect(renderRepairPlan(plan, true)).toMatch(/AWSCURRENT: not touched/);
  });

  it('refuses to re-drive without a rotation function', () => {
    const plan = planRepair(stuckNoFunction, 'redrive', NOW);
    expect(plan.action).toBe('none');
    expect(plan.blocked).toMatch(/remove-pending/);
  });

  it('warns when the pending version is young enough to belong to a running rotation', () => {
    const young = summarizeRotationStatus(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }), [
      { VersionId: 'v2', VersionStages: ['AWSPENDING'], CreatedDate: new Date(NOW.getTime() - 60_000) },
    ]);
    expect(planRepair(young, 'remove-pending', NOW).warnings.join(' ')).toMatch(/still be running/);
    expect(planRepair(stuckEnabled, 'remove-pending', NOW).warnings.join(' ')).not.toMatch(/still be running/);
  });
});

const REATTEMPTED = "A previous rotation isn't complete. That rotation will be reattempted.";

function reattemptRefusal(): InvalidRequestException {
  return new InvalidRequestException({ message: REATTEMPTED, $metadata: { httpStatusCode: 400 } });
}

/** A clock that only `sleep` moves, so waits are counted in polls, not in wall time. */
function fakeTime(): { now: () => number; sleep: (ms: number) => Promise<void> } {
  let t = 0;
  return {
    now: () => t,
    sleep: async (ms) => {
      t += ms;
    },
  };
}

describe('applyRepair re-drive against an asynchronous endpoint (as AWS rotates)', () => {
  const sm = mockClient(SecretsManagerClient);
  const client = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const stuckPlan = () => planRepair(summarizeRotationStatus(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] })), undefined, NOW);
  afterEach(() => sm.reset());
  afterAll(() => client.destroy());

  it('resumes the stuck rotation (RotateSecret without a token, refused as AWS refuses it) and waits until AWSCURRENT is on it', async () => {
    let polls = 0;
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(RotateSecretCommand).rejects(reattemptRefusal());
    sm.on(DescribeSecretCommand).callsFake(() => {
      polls += 1;
      // Two polls with the reattempt still running, then done.
      if (polls < 3) return described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] });
      return described({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
    });
    const outcome = await applyRepair(client, 'app/db', stuckPlan(), { waitMs: 5_000, pollMs: 1000, ...fakeTime() });
    expect(outcome).toMatchObject({ applied: true, resolved: true, path: 'resumed' });
    expect(outcome.error).toBeUndefined();
    expect(polls).toBe(3);
    expect(sm.commandCalls(RotateSecretCommand).map((c) => c.args[0].input)).toEqual([{ SecretId: 'app/db' }]);
    // The label is never taken from the stuck version when the resume completes.
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });

  it('reports what it waits for and for how long at every poll, and says when the wait is over', async () => {
    let polls = 0;
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(RotateSecretCommand).rejects(reattemptRefusal());
    sm.on(DescribeSecretCommand).callsFake(() => {
      polls += 1;
      if (polls < 3) return described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] });
      return described({ v1: ['AWSPREVIOUS'], v2: ['AWSCURRENT'] });
    });
    const reports: Array<WaitProgress | undefined> = [];
    await applyRepair(client, 'app/db', stuckPlan(), { waitMs: 5_000, pollMs: 1000, ...fakeTime(), progress: (p) => reports.push(p) });
    const awaiting = 'AWSCURRENT to move to v2 (the resumed rotation)';
    expect(reports.filter((r) => r?.awaiting === awaiting)).toEqual([
      { awaiting, elapsedMs: 0, limitMs: 5_000 },
      { awaiting, elapsedMs: 1000, limitMs: 5_000 },
    ]);
    expect(reports.at(-1)).toBeUndefined();
  });

  it('falls back to clearing the label and a new rotation only once the resume has not completed by the deadline', async () => {
    let token = '';
    let cleared = false;
    let resumePolls = 0;
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(UpdateSecretVersionStageCommand).callsFake(() => {
      cleared = true;
      return {};
    });
    sm.on(RotateSecretCommand).callsFake((input: { ClientRequestToken?: string }) => {
      if (input.ClientRequestToken === undefined) throw reattemptRefusal();
      token = input.ClientRequestToken;
      return { VersionId: token };
    });
    sm.on(DescribeSecretCommand).callsFake(() => {
      if (!cleared) {
        resumePolls += 1;
        return described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] });
      }
      return described({ v1: ['AWSPREVIOUS'], v2: [], [token]: ['AWSCURRENT'] });
    });
    const outcome = await applyRepair(client, 'app/db', stuckPlan(), { waitMs: 5_000, pollMs: 1000, ...fakeTime() });
    // The first read, then one a second for five seconds: the whole wait went to the resume.
    expect(resumePolls).toBe(6);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)[0]!.args[0].input).toEqual({
      SecretId: 'app/db',
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: 'v2',
    });
    // One fallback per stuck version: its token is derived from the stuck version, the same on every run.
    expect(token).toBe(fallbackToken('v2'));
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(fallbackToken('v3')).not.toBe(token);
    expect(outcome).toMatchObject({ applied: true, resolved: true, path: 'fresh-rotation' });
  });

  it('reports a fallback rotation that never finishes, naming the version left pending', async () => {
    let token = '';
    let cleared = false;
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(UpdateSecretVersionStageCommand).callsFake(() => {
      cleared = true;
      return {};
    });
    sm.on(RotateSecretCommand).callsFake((input: { ClientRequestToken?: string }) => {
      if (input.ClientRequestToken === undefined) throw reattemptRefusal();
      token = input.ClientRequestToken;
      return {};
    });
    sm.on(DescribeSecretCommand).callsFake(() =>
      described(cleared ? { v1: ['AWSCURRENT'], v2: [], [token]: ['AWSPENDING'] } : { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }),
    );
    const outcome = await applyRepair(client, 'app/db', stuckPlan(), { waitMs: 0, pollMs: 1, ...fakeTime() });
    expect(outcome).toMatchObject({ applied: true, resolved: false, path: 'fresh-rotation' });
    expect(outcome.error).toContain(`the new rotation (version ${token}) did not finish`);
  });

  it('changes no label when Secrets Manager refuses the resume for another reason', async () => {
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(RotateSecretCommand).rejects(
      Object.assign(new Error('not allowed'), { name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } }),
    );
    sm.on(DescribeSecretCommand).resolves(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }));
    const outcome = await applyRepair(client, 'app/db', stuckPlan(), { waitMs: 5_000, pollMs: 1000, ...fakeTime() });
    expect(outcome).toMatchObject({ applied: false, resolved: false });
    expect(outcome.path).toBeUndefined();
    expect(outcome.error).toMatch(/RotateSecret.*AccessDeniedException.*no label was changed/);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(1);
  });

  it("treats a rotation function's error surfaced by the endpoint as a failed reattempt, and falls back", async () => {
    let cleared = false;
    let token = '';
    const surfaced = Object.assign(new Error('Rotation function failed at step setSecret'), {
      name: 'DatabaseError',
      $metadata: { httpStatusCode: 400 },
    });
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(UpdateSecretVersionStageCommand).callsFake(() => {
      cleared = true;
      return {};
    });
    sm.on(RotateSecretCommand).callsFake((input: { ClientRequestToken?: string }) => {
      if (input.ClientRequestToken === undefined) throw surfaced;
      token = input.ClientRequestToken;
      return {};
    });
    sm.on(DescribeSecretCommand).callsFake(() =>
      described(cleared ? { v1: ['AWSPREVIOUS'], v2: [], [token]: ['AWSCURRENT'] } : { v1: ['AWSCURRENT'], v2: ['AWSPENDING'] }),
    );
    const outcome = await applyRepair(client, 'app/db', stuckPlan(), { waitMs: 0, pollMs: 1, ...fakeTime() });
    expect(outcome).toMatchObject({ resolved: true, path: 'fresh-rotation' });
  });

  it('does not clear a label that moved while it waited', async () => {
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(RotateSecretCommand).rejects(reattemptRefusal());
    sm.on(DescribeSecretCommand).resolves(described({ v1: ['AWSCURRENT'], v3: ['AWSPENDING'] }));
    const outcome = await applyRepair(client, 'app/db', stuckPlan(), { waitMs: 0, pollMs: 1, ...fakeTime() });
    expect(outcome).toMatchObject({ resolved: false, path: 'resumed' });
    expect(outcome.error).toMatch(/labels changed meanwhile/);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(0);
  });

  it('remove-pending only clears the label: no RotateSecret', async () => {
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    sm.on(DescribeSecretCommand).resolves(described({ v1: ['AWSCURRENT'], v2: [] }));
    const plan = planRepair(summarizeRotationStatus(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] })), 'remove-pending', NOW);
    const outcome = await applyRepair(client, 'app/db', plan);
    expect(outcome).toMatchObject({ applied: true, resolved: true });
    expect(sm.commandCalls(RotateSecretCommand)).toHaveLength(0);
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)).toHaveLength(1);
  });
});

describe('readResumeAnswer', () => {
  const http = (name: string, message = 'm') => Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });

  it("reads AWS's refusal, and an emulator's wording of it, as a reattempt under way", () => {
    expect(readResumeAnswer({ error: reattemptRefusal() })).toEqual({ kind: 'reattempting' });
    expect(readResumeAnswer({ error: http('InvalidRequestException', 'Previous rotation request is still in progress.') }).kind).toBe(
      'reattempting',
    );
    expect(isReattemptRefusal(http('InvalidRequestException', 'No Lambda rotation function ARN is associated with this secret.'))).toBe(
      false,
    );
  });

  it("reads Secrets Manager's own exceptions, and failures without an answer, as refusals", () => {
    for (const name of ['InvalidRequestException', 'AccessDeniedException', 'ResourceNotFoundException', 'ThrottlingException']) {
      expect(readResumeAnswer({ error: http(name) }).kind).toBe('refused');
    }
    expect(readResumeAnswer({ error: Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }) }).kind).toBe('refused');
    expect(readResumeAnswer({ error: 'not an error' }).kind).toBe('refused');
  });

  it("reads any other answered error as the reattempt's own failure, and a success as a rotation started", () => {
    expect(readResumeAnswer({ error: http('AuthenticationError') })).toEqual({
      kind: 'reattempt-failed',
      errorName: 'AuthenticationError',
    });
    expect(readResumeAnswer({ versionId: 'v9' })).toEqual({ kind: 'started', versionId: 'v9' });
    expect(readResumeAnswer({})).toEqual({ kind: 'started' });
  });
});
