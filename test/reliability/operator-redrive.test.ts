/**
 * The last recovery rung: a rotation stuck after setSecret changed the database (its answer lost),
 * re-driven as `rotation:repair --action redrive --yes` does. The redrive resumes the stuck rotation with
 * its own token; only when that does not complete does it clear the label and rotate afresh. The
 * availability invariant is checked before every external call the rotation function makes.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { ExternalCall } from '../support/fault-injection';
import { applyRepair, type RepairOutcome } from '../../operator/apply-repair';
import { planRepair } from '../../operator/repair-plan';
import { readRotationStatus } from '../../operator/rotation-status';
import { lastFailure } from '../support/recovery';
import { COMBINATIONS, type Combination, type Credential, type Rig, rigSuite } from '../support/rotation-rig';

const suite = rigSuite();

/** The statement that makes the pending password real on the server. */
function accountChange(combination: Combination): (call: ExternalCall) => boolean {
  const names = combination.engine === 'postgres' && combination.strategy === 'alternating-users' ? ['COMMIT'] : ['ALTER', 'SET'];
  return (call) => call.kind === 'query' && names.includes(call.name);
}

interface Redriven {
  readonly rig: Rig;
  readonly before: Credential;
  readonly stuck: Credential;
  readonly outcome: RepairOutcome;
  readonly violations: string[];
}

interface Scenario {
  readonly withMaster: boolean;
  /** Makes the resumed rotation fail at once, so the redrive has to fall back to a fresh rotation. */
  readonly failResume?: boolean;
}

/** Rotates with the answer of the password change lost, then redrives as the operator does. */
async function stuckThenRedriven(combination: Combination, scenario: Scenario): Promise<Redriven> {
  const rig = await suite.rig(combination, { withMaster: scenario.withMaster });
  const before = (await rig.state()).current;
  // MySQL's alternate-user sync sends the account options' ALTER USER before the password's (one host
  // entry here); the user's own session first sets its sql_mode (a SET), then SET PASSWORD.
  const at = combination.engine === 'mysql' ? 2 : 1;
  rig.injector.arm({ at, timing: 'after', when: accountChange(combination) });
  await expect(
    rig.endpoint.client.send(new RotateSecretCommand({ SecretId: rig.secretId, RotationLambdaARN: rig.functionArn })),
  ).rejects.toBeDefined();
  expect(lastFailure(rig)?.failedStep).toBe('setSecret');
  const stuck = (await rig.state()).pending;
  expect(stuck).toBeDefined();
  // The database already holds the pending password: that is what makes a redrive delicate.
  expect(await rig.canLogin(stuck!)).toBe(true);

  const violations: string[] = [];
  const check = async (where: string): Promise<void> => {
    const state = await rig.state();
    if (await rig.canLogin(state.current)) return;
    const pendingOk = state.pending !== undefined && (await rig.canLogin(state.pending));
    if (combination.strategy === 'alternating-users' || !pendingOk) violations.push(`${where}: no labelled credential logs in`);
  };
  if (scenario.failResume) rig.injector.arm({ at: 1, timing: 'before' });
  else rig.injector.reset();
  rig.injector.setObserver((call) => check(`before call ${call.index} (${call.kind} ${call.name})`));
  let outcome: RepairOutcome;
  try {
    const plan = planRepair(await readRotationStatus(rig.endpoint.client, rig.secretId), 'redrive');
    expect(plan.action).toBe('redrive');
    outcome = await applyRepair(rig.endpoint.client, rig.secretId, plan, { waitMs: 0, pollMs: 0 });
    await check('after the redrive');
  } finally {
    rig.injector.setObserver(undefined);
  }
  return { rig, before, stuck: stuck!, outcome, violations };
}

describe('the operator resumes a stuck rotation with its own token', () => {
  it.each<Combination>(COMBINATIONS)(
    '$engine $strategy: AWSCURRENT or AWSPENDING logs in at every point, and AWSCURRENT moves to the stuck version',
    async (combination) => {
      const { rig, before, stuck, outcome, violations } = await stuckThenRedriven(combination, { withMaster: true });
      expect(outcome).toMatchObject({ applied: true, resolved: true, path: 'resumed' });
      expect(violations).toEqual([]);
      const after = await rig.state();
      expect(after.current.versionId).toBe(stuck.versionId);
      expect(after.previous?.versionId).toBe(before.versionId);
      expect(after.pending).toBeUndefined();
      expect(await rig.canLogin(after.current)).toBe(true);
      const history = rig.endpoint.local.rotationHistory(rig.secretId);
      expect(history.at(-1)).toMatchObject({ token: stuck.versionId, outcome: 'succeeded' });
    },
  );

  it.each<Combination>([
    { engine: 'postgres', strategy: 'single-user' },
    { engine: 'mysql', strategy: 'single-user' },
  ])('$engine $strategy without a master secret: the resume completes all the same', async (combination) => {
    const { rig, stuck, outcome, violations } = await stuckThenRedriven(combination, { withMaster: false });
    expect(outcome).toMatchObject({ resolved: true, path: 'resumed' });
    expect(violations).toEqual([]);
    const after = await rig.state();
    expect(after.current.versionId).toBe(stuck.versionId);
    expect(await rig.canLogin(after.current)).toBe(true);
  });
});

describe('when the resume does not complete, the operator falls back to a fresh rotation', () => {
  it.each<Combination>([
    { engine: 'postgres', strategy: 'single-user' },
    { engine: 'mysql', strategy: 'single-user' },
  ])('$engine $strategy: the new rotation heals the password through the master secret', async (combination) => {
    const { rig, stuck, outcome, violations } = await stuckThenRedriven(combination, { withMaster: true, failResume: true });
    expect(outcome).toMatchObject({ applied: true, resolved: true, path: 'fresh-rotation' });
    const after = await rig.state();
    expect(after.current.versionId).not.toBe(stuck.versionId);
    expect(await rig.canLogin(after.current)).toBe(true);
    // The hazard the plan warns of: until the new setSecret healed it, no labelled credential logged in.
    expect(violations.length).toBeGreaterThan(0);
    const tokens = rig.endpoint.local.rotationHistory(rig.secretId).map((r) => [r.token === stuck.versionId, r.outcome]);
    expect(tokens).toEqual([
      [true, 'failed'],
      [true, 'failed'],
      [false, 'succeeded'],
    ]);
  });

  it('postgres alternating-users: AWSCURRENT logs in at every point of the fallback', async () => {
    const { rig, outcome, violations } = await stuckThenRedriven(
      { engine: 'postgres', strategy: 'alternating-users' },
      { withMaster: true, failResume: true },
    );
    // The outcome's own error is part of what is compared, so a failure shows why the fallback did not finish.
    expect({ resolved: outcome.resolved, path: outcome.path, error: outcome.error }).toEqual({
      resolved: true,
      path: 'fresh-rotation',
      error: undefined,
    });
    expect(violations).toEqual([]);
    expect(await rig.canLogin((await rig.state()).current)).toBe(true);
  });
});
