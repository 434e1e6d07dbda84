/**
 * A failure at every external call of a full rotation, for each engine × strategy: the k-th Secrets
 * Manager request, login or statement fails (lost request, or lost answer after the work was done), for
 * every k, then the rotation is recovered as Secrets Manager would. The invariants are checked before
 * every external call of the clean rotation, at every injected failure and after every recovery step;
 * the end state after every k. Declared by fault-sweep.postgres.test.ts and fault-sweep.mysql.test.ts.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { SWEEP_TEST_TIMEOUT_MS, type ExternalCall, type FaultTiming } from './fault-injection';
import { lastFailure, recover, type Rung } from './recovery';
import { recordFigure } from './figures';
import { assertConverged, availabilityProblem } from './invariants';
import { createRig, dropMasters, startTestEndpoint, type Combination, type Credential, type Rig, type TestEndpoint } from './rotation-rig';

function describeCall(call: ExternalCall): string {
  return `call ${call.index} (${call.kind} ${call.name})`;
}

async function rotate(rig: Rig): Promise<unknown> {
  try {
    await rig.endpoint.client.send(new RotateSecretCommand({ SecretId: rig.secretId, RotationLambdaARN: rig.functionArn }));
    return undefined;
  } catch (err) {
    return err;
  }
}

function noPasswordIn(text: string, credentials: readonly Credential[]): void {
  for (const c of credentials) expect(text.includes(c.password)).toBe(false);
}

/** Which rung a point starts its recovery from: most points are retried step-wise, every third as a whole. */
function startRung(k: number): Rung {
  return k % 3 === 0 ? 'same-token' : 'retry-step';
}

/** Declares the sweep for some engine × strategy combinations (one test file per engine runs them in parallel). */
export function describeFaultSweep(combinations: readonly Combination[]): void {
  jest.setTimeout(SWEEP_TEST_TIMEOUT_MS);
  let endpoint: TestEndpoint;

  beforeAll(async () => {
    endpoint = await startTestEndpoint();
  });

  afterAll(async () => {
    await dropMasters();
    await endpoint.close();
  });

  describe.each(combinations)('a failure at every call: $engine, $strategy', (combination) => {
    let rig: Rig;
    const seen: Credential[] = [];

    beforeAll(async () => {
      rig = await createRig(endpoint, combination);
    });
    afterAll(async () => {
      noPasswordIn(rig.logs.text() + endpoint.logLines.join('\n'), seen);
      await rig.drop();
    });

    it('keeps the strategy available before every call of a clean rotation', async () => {
      const before = await rig.state();
      seen.push(before.current);
      const violations: string[] = [];
      rig.injector.reset();
      rig.injector.setObserver(async (call) => {
        const problem = await availabilityProblem(rig, `before ${describeCall(call)}`);
        if (problem) violations.push(problem);
      });
      try {
        expect(await rotate(rig)).toBeUndefined();
      } finally {
        rig.injector.setObserver(undefined);
      }
      expect(violations).toEqual([]);
      expect(rig.injector.calls.length).toBeGreaterThan(10);
      seen.push((await assertConverged(rig, before, 'clean')).current);
      recordFigure(`calls.${combination.engine}.${combination.strategy}`, rig.injector.calls.length);
    });

    it.each<FaultTiming>(['before', 'after'])('recovers from a fault at every k (%s the call takes effect)', async (timing) => {
      const points: Array<{ k: number; call: string; failedStep?: string; rung?: Rung }> = [];
      for (let k = 1; ; k += 1) {
        const before = await rig.state();
        const violations: string[] = [];
        rig.injector.arm({ at: k, timing });
        rig.injector.setObserver(async (call, fault) => {
          if (!fault) return;
          const problem = await availabilityProblem(rig, `at the fault on ${describeCall(call)}`);
          if (problem) violations.push(problem);
        });
        const error = await rotate(rig);
        rig.injector.setObserver(undefined);
        const fired = rig.injector.fired;
        if (fired === undefined) {
          // k is past the last call of this rotation: every point has been covered.
          expect(error).toBeUndefined();
          seen.push((await assertConverged(rig, before, `k=${k} (no fault)`)).current);
          break;
        }
        const point: (typeof points)[number] = { k, call: `${fired.kind} ${fired.name}` };
        const failure = lastFailure(rig);
        if (failure !== undefined) {
          expect(error).toBeDefined();
          point.failedStep = failure.failedStep;
          const afterFailure = await availabilityProblem(rig, `k=${k} after the failed rotation`);
          if (afterFailure) violations.push(afterFailure);
          const outcome = await recover(rig, failure, startRung(k), async (what) => {
            const problem = await availabilityProblem(rig, `k=${k} ${what}`);
            if (problem) violations.push(problem);
          });
          point.rung = outcome.rung;
          expect(outcome.rung).not.toBe('fresh-token');
        } else {
          // A fault the rotation absorbed (e.g. the pending login of setSecret is allowed to fail).
          expect(error).toBeUndefined();
        }
        expect({ k, violations }).toEqual({ k, violations: [] });
        seen.push((await assertConverged(rig, before, `k=${k} ${timing} ${point.call}`)).current);
        points.push(point);
      }
      expect(points.length).toBeGreaterThan(10);
      recordFigure(`points.${combination.engine}.${combination.strategy}.${timing}`, points.length);
      recordFigure(
        `absorbed.${combination.engine}.${combination.strategy}.${timing}`,
        points
          .filter((p) => p.failedStep === undefined)
          .map((p) => `k=${p.k} ${p.call}`)
          .join('; ') || 'none',
      );
      if (combination.engine === 'mysql' && combination.strategy === 'alternating-users') {
        // The points between CREATE USER and the password (the last ALTER USER): the clone exists and is
        // being made equal to the current user; its pending password does not log in yet. (Grants are
        // sent only when the rights differ, so a rig whose clone is already in sync sends none.)
        const calls = points.map((p) => p.call);
        const firstCreate = calls.indexOf('query CREATE');
        const lastAlter = calls.lastIndexOf('query ALTER');
        expect(firstCreate).toBeGreaterThan(-1);
        expect(lastAlter).toBeGreaterThan(firstCreate);
        recordFigure(`mysql.betweenCreateAndPassword.${timing}`, lastAlter - firstCreate);
      }
    });
  });
}
