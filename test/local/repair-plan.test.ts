import { mockClient } from 'aws-sdk-client-mock';
import {
  DescribeSecretCommand,
  ListSecretVersionIdsCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { applyRepair } from '../../local/operator/apply-repair';
import { planRepair, renderRepairPlan } from '../../local/operator/repair-plan';
import { summarizeRotationStatus } from '../../local/operator/rotation-status';
import { renderRotationStatus } from '../../local/operator/status-report';

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
    expect(text).toMatch(/AWSCURRENT: WILL MOVE/);
    expect(text).toMatch(/dry run/);
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

describe('applyRepair re-drive against an asynchronous endpoint (as AWS rotates)', () => {
  const sm = mockClient(SecretsManagerClient);
  afterEach(() => sm.reset());

  it('clears the stray label, starts a rotation and waits until AWSCURRENT is on the new version', async () => {
    let token = '';
    let polls = 0;
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(RotateSecretCommand).callsFake((input: { ClientRequestToken: string }) => {
      token = input.ClientRequestToken;
      return {};
    });
    sm.on(DescribeSecretCommand).callsFake(() => {
      polls += 1;
      // Two polls with the rotation still running, then done.
      if (polls < 3) return described({ v1: ['AWSCURRENT'], [token]: ['AWSPENDING'] });
      return described({ v1: ['AWSPREVIOUS'], [token]: ['AWSCURRENT'] });
    });
    const client = new SecretsManagerClient({ region: 'us-east-1' });
    const plan = planRepair(summarizeRotationStatus(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] })), undefined, NOW);
    const outcome = await applyRepair(client, 'app/db', plan, { waitMs: 5_000, pollMs: 1, sleep: async () => undefined });
    expect(sm.commandCalls(UpdateSecretVersionStageCommand)[0]!.args[0].input).toEqual({
      SecretId: 'app/db',
      VersionStage: 'AWSPENDING',
      RemoveFromVersionId: 'v2',
    });
    expect(outcome).toMatchObject({ applied: true, resolved: true });
    expect(polls).toBe(3);
  });

  it('reports a re-drive that never finishes, naming the version left pending', async () => {
    let token = '';
    sm.on(UpdateSecretVersionStageCommand).resolves({});
    sm.on(ListSecretVersionIdsCommand).resolves({ Versions: [] });
    sm.on(RotateSecretCommand).callsFake((input: { ClientRequestToken: string }) => {
      token = input.ClientRequestToken;
      return {};
    });
    sm.on(DescribeSecretCommand).callsFake(() => described({ v1: ['AWSCURRENT'], [token]: ['AWSPENDING'] }));
    const client = new SecretsManagerClient({ region: 'us-east-1' });
    const plan = planRepair(summarizeRotationStatus(described({ v1: ['AWSCURRENT'], v2: ['AWSPENDING'] })), undefined, NOW);
    const outcome = await applyRepair(client, 'app/db', plan, { waitMs: 0, pollMs: 1, sleep: async () => undefined });
    expect(outcome.resolved).toBe(false);
    expect(outcome.error).toContain(token);
  });
});
