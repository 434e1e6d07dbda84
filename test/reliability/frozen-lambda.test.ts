/**
 * A Lambda killed at its timeout is frozen, not gone: its sessions stay open on the server. Frozen in the
 * middle of the alternate user's sync, a PostgreSQL session keeps its transaction and the clone's row
 * locks (an uncommitted CREATE ROLE), and every retry's CREATE ROLE waited on them until the lost socket
 * was noticed (hours with Linux's keepalive defaults). Now the retry that meets the orphan fails as a
 * typed DATABASE error (lock_timeout), AWSCURRENT keeps working, the server ends the orphan
 * (idle_in_transaction_session_timeout), and a later retry completes, the clone equal to the original.
 * MySQL's account statements commit at once, so its retry completes at the first attempt.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { fixtureUsername } from '../../local/fixtures/names';
import { ROTATION_STEPS } from '../../shared/rotation/event';
import { assertConverged } from '../support/invariants';
import { lastFailure } from '../support/recovery';
import { rigSuite, type Rig } from '../support/rotation-rig';

jest.setTimeout(120_000);
const suite = rigSuite();

/** setSecret onwards, as Lambda's retries of the failed step; the failed step's error when one fails. */
async function retrySteps(rig: Rig, token: string): Promise<unknown> {
  try {
    for (const step of ROTATION_STEPS.slice(ROTATION_STEPS.indexOf('setSecret'))) await rig.invoke(step, token);
    return undefined;
  } catch (err) {
    return err;
  }
}

it.each(['postgres', 'mysql'] as const)(
  '%s: a Lambda frozen inside the alternate sync does not block its retries for good',
  async (engine) => {
    const rig = await suite.rig({ engine, strategy: 'alternating-users' }, { username: fixtureUsername('rcr') });
    const before = await rig.state();
    rig.injector.arm({ at: 1, when: (c) => c.kind === 'query' && /^(CREATE|ALTER)$/.test(c.name), timing: 'crash', frozen: true });
    await rig.endpoint.client
      .send(new RotateSecretCommand({ SecretId: rig.secretId, RotationLambdaARN: rig.functionArn }))
      .catch(() => undefined);
    expect(rig.injector.fired?.name).toMatch(/CREATE|ALTER/);
    rig.injector.reset();
    const failure = lastFailure(rig);
    expect(failure?.failedStep).toBe('setSecret');
    try {
      const first = await retrySteps(rig, failure!.token);
      if (engine === 'postgres') {
        // The orphan still holds the clone's lock: refused, typed, and AWSCURRENT untouched.
        expect(first).toMatchObject({ code: 'DATABASE', message: expect.stringContaining('55P03') });
        expect(await rig.canLogin((await rig.state()).current)).toBe(true);
        // The server ends the orphan once it has been idle in its transaction too long; a later retry completes.
        let outcome: unknown = first;
        for (let attempt = 0; attempt < 8 && outcome !== undefined; attempt += 1) outcome = await retrySteps(rig, failure!.token);
        expect(outcome).toBeUndefined();
      } else {
        expect(first).toBeUndefined();
      }
      await assertConverged(rig, before, `${engine} after the frozen Lambda`);
    } finally {
      await rig.injector.thaw();
    }
  },
);
