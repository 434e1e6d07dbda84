/**
 * The last recovery rung: a rotation stuck after setSecret changed the database (its answer lost), cleared
 * and started afresh with a new token as `rotation:repair --action redrive --yes` does. The availability
 * invariant is checked before every external call of the new rotation.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import type { ExternalCall } from '../../local/fault-injection';
import { clearAndRotateAfresh, lastFailure } from './recovery';
import { createRig, dropMasters, startTestEndpoint, type Combination, type Rig, type TestEndpoint } from './rotation-rig';

let endpoint: TestEndpoint;
const rigs: Rig[] = [];

beforeAll(async () => {
  endpoint = await startTestEndpoint();
});

afterAll(async () => {
  for (const rig of rigs) await rig.drop();
  await dropMasters();
  await endpoint.close();
});

/** The statement that makes the pending password real on the server. */
function accountChange(combination: Combination): (call: ExternalCall) => boolean {
  const names = combination.engine === 'postgres' && combination.strategy === 'alternating-users' ? ['COMMIT'] : ['ALTER', 'SET'];
  return (call) => call.kind === 'query' && names.includes(call.name);
}

/** Rotates with the answer of the password change lost, then redrives as the operator; returns the violations. */
async function stuckThenRedriven(combination: Combination): Promise<{ rig: Rig; violations: string[]; resolved: boolean }> {
  const rig = await createRig(endpoint, combination, { withMaster: true });
  rigs.push(rig);
  const before = await rig.state();
  rig.injector.arm({ at: 1, timing: 'after', when: accountChange(combination) });
  await expect(
    rig.endpoint.client.send(new RotateSecretCommand({ SecretId: rig.secretId, RotationLambdaARN: rig.functionArn })),
  ).rejects.toBeDefined();
  expect(lastFailure(rig)?.failedStep).toBe('setSecret');
  const stuck = await rig.state();
  expect(stuck.pending).toBeDefined();
  // The database already holds the pending password: that is what makes a redrive delicate.
  expect(await rig.canLogin(stuck.pending!)).toBe(true);

  const violations: string[] = [];
  const check = async (where: string): Promise<void> => {
    const state = await rig.state();
    if (await rig.canLogin(state.current)) return;
    const pendingOk = state.pending !== undefined && (await rig.canLogin(state.pending));
    if (combination.strategy === 'alternating-users' || !pendingOk) violations.push(`${where}: no labelled credential logs in`);
  };
  rig.injector.reset();
  rig.injector.setObserver((call) => check(`before call ${call.index} (${call.kind} ${call.name})`));
  let resolved: boolean;
  try {
    resolved = await clearAndRotateAfresh(rig, check);
  } finally {
    rig.injector.setObserver(undefined);
  }
  const after = await rig.state();
  expect(after.current.versionId).not.toBe(before.current.versionId);
  expect(await rig.canLogin(after.current)).toBe(true);
  return { rig, violations, resolved };
}

describe('the operator clears a stuck rotation and starts afresh', () => {
  it.each<Combination>([
    { engine: 'postgres', strategy: 'alternating-users' },
    { engine: 'mysql', strategy: 'alternating-users' },
  ])('$engine $strategy: AWSCURRENT logs in at every point and the new rotation completes', async (combination) => {
    const { violations, resolved } = await stuckThenRedriven(combination);
    expect(resolved).toBe(true);
    expect(violations).toEqual([]);
  });

  it.each<Combination>([
    { engine: 'postgres', strategy: 'single-user' },
    { engine: 'mysql', strategy: 'single-user' },
  ])('$engine $strategy: the new rotation heals the password through the master secret', async (combination) => {
    const { resolved } = await stuckThenRedriven(combination);
    expect(resolved).toBe(true);
  });

  // GAP (reported to the lead, in local/operator/): for single-user, once setSecret has changed the
  // password, the redrive removes AWSPENDING from the only version whose password works; until the new
  // rotation's setSecret heals it through the master (and for ever without a masterarn) neither AWSCURRENT
  // nor AWSPENDING logs in. Marked failing so it runs; it passes once the repair finishes a stuck version
  // whose testSecret passes (same token) before clearing its label.
  it.failing.each<Combination>([
    { engine: 'postgres', strategy: 'single-user' },
    { engine: 'mysql', strategy: 'single-user' },
  ])('$engine $strategy: AWSCURRENT or AWSPENDING logs in at every point of the redrive', async (combination) => {
    const { violations } = await stuckThenRedriven(combination);
    expect(violations).toEqual([]);
  });
});
