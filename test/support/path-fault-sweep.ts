/**
 * A failure at every external call of a rotation that takes one of the paths the plain sweep
 * (fault-sweep.ts) never reaches: drift healed by the master, a refused proof put back, a master falling
 * back to its own database, the clone's own rights revoked, a MySQL grant the master may not give. Each
 * scenario puts its account state back before every point (the DBA drifts the password again, grants
 * the alternate a right again, takes the master's right away again), then the k-th call fails — its
 * answer lost (the rotation's own cleanup runs) or the process crashed right after it (nothing more
 * reaches a server) — and the rotation is re-driven as Secrets Manager and an operator would.
 *
 * Asserted at every point, from outside: the account stays usable (AWSCURRENT or AWSPENDING logs in, or
 * the state the DBA left is untouched: the drifted password still logs in); what the DBA set on the
 * user is unchanged; a refused scenario is refused again, typed and with its reason, having changed
 * nothing, until its cause is lifted; then the rotation completes (`assertConverged`: the clone equals
 * the original). After the sweep, no password of any version, of the drifts or of the master is in a log.
 */
import { RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { SWEEP_TEST_TIMEOUT_MS, type ExternalCall, type FaultTiming } from './fault-injection';
import { recordFigure } from './figures';
import { assertConverged, availabilityProblem } from './invariants';
import { lastFailure, recover } from './recovery';
import { dropMasters, startTestEndpoint, createRig, type Combination, type Rig, type RigOptions, type TestEndpoint } from './rotation-rig';

/** What a scenario's rotation is refused with while its cause is in place. */
export interface Refusal {
  /** The step error's code (`AUTH_FAILED`, `DATABASE`, ...). */
  readonly errorCode: string;
  /**
   * The refusal's `reason`s: the first attempt's, and the one a re-drive finds after a crash left the new
   * password in place unproven (the current one then is refused too, and that is what is diagnosed).
   */
  readonly reasons: ReadonlyArray<string | undefined>;
  /** Puts the cause in place (before every point). */
  block(rig: Rig): Promise<void>;
  /** Takes the cause away, as the DBA's remedy does. */
  lift(rig: Rig): Promise<void>;
}

/** One account state whose rotation takes a new path, swept at every call. */
export interface PathScenario {
  readonly name: string;
  readonly combination: Combination;
  /** Made once before the rig (roles, databases, masters); returns the rig's options. */
  setUp(): Promise<RigOptions>;
  /** What the DBA sets once the rig's user exists (limits, settings, grants on the scenario's objects). */
  afterRig?(rig: Rig): Promise<void>;
  /** Puts the state back before every point (e.g. the DBA drifts the password). */
  arrange?(rig: Rig): Promise<void>;
  /** Credentials the DBA set that must keep logging in while the rotation has not taken over. */
  fallbackLogins?(rig: Rig): ReadonlyArray<{ username: string; password: string }>;
  /** The rotation is refused until this is lifted. */
  readonly refusal?: Refusal;
  /** What the DBA set on the rotated user, compared before and after every point (never a password). */
  dbaState(rig: Rig): Promise<unknown>;
  /** Checked after every completed point (e.g. the clone's own rights are gone). */
  afterConverged?(rig: Rig): Promise<void>;
  /** A log line that shows the rotation took the scenario's path (asserted once per sweep). */
  readonly pathLog: RegExp;
  /** Every password the scenario made (drifts, masters), for the leak scan. */
  secrets(): readonly string[];
  tearDown(): Promise<void>;
}

async function rotate(rig: Rig): Promise<unknown> {
  try {
    await rig.endpoint.client.send(new RotateSecretCommand({ SecretId: rig.secretId, RotationLambdaARN: rig.functionArn }));
    return undefined;
  } catch (err) {
    return err;
  }
}

function describeCall(call: ExternalCall): string {
  return `call ${call.index} (${call.kind} ${call.name})`;
}

/** The lost-answer sweep runs the rotation's own cleanup under the fault; the crash sweep runs none. */
export const PATH_TIMINGS: readonly FaultTiming[] = ['after', 'crash'];

/** Declares the sweep of every scenario at every call, for each timing. */
export function describePathSweep(scenarios: readonly PathScenario[]): void {
  jest.setTimeout(SWEEP_TEST_TIMEOUT_MS);
  let endpoint: TestEndpoint;

  beforeAll(async () => {
    endpoint = await startTestEndpoint();
  });

  afterAll(async () => {
    await dropMasters();
    await endpoint.close();
  });

  describe.each(scenarios.map((s) => ({ ...s, label: `${s.combination.engine}, ${s.combination.strategy}: ${s.name}` })))(
    '$label',
    (scenario) => {
      let rig: Rig;
      const seen: string[] = [];

      beforeAll(async () => {
        rig = await createRig(endpoint, scenario.combination, await scenario.setUp());
        await scenario.afterRig?.(rig);
      });
      afterAll(async () => {
        if (rig !== undefined) {
          const text = rig.logs.text() + endpoint.logLines.join('\n');
          const leaked = [...seen, ...scenario.secrets()].filter((p) => text.includes(p));
          await rig.drop();
          await scenario.tearDown();
          expect(leaked).toEqual([]);
        } else {
          await scenario.tearDown();
        }
      });

      /** Undefined when the account is usable: the strategy's promise holds, or the DBA's own state is untouched. */
      async function usable(where: string): Promise<string | undefined> {
        const problem = await availabilityProblem(rig, where);
        if (problem === undefined) return undefined;
        for (const c of scenario.fallbackLogins?.(rig) ?? []) if (await rig.canLogin(c)) return undefined;
        return problem;
      }

      async function noteState(): Promise<void> {
        const state = await rig.state();
        for (const c of [state.current, state.pending, state.previous]) if (c !== undefined) seen.push(c.password);
      }

      it.each<FaultTiming>(PATH_TIMINGS)('a fault at every call (%s), then re-driven to completion', async (timing) => {
        const dba = await scenario.dbaState(rig);
        const points: string[] = [];
        const reasons = new Set<string>();
        for (let k = 1; ; k += 1) {
          await scenario.arrange?.(rig);
          await scenario.refusal?.block(rig);
          const before = await rig.state();
          seen.push(before.current.password);
          const violations: string[] = [];
          rig.injector.arm({ at: k, timing });
          rig.injector.setObserver(async (call, fault) => {
            if (!fault) return;
            const problem = await usable(`k=${k} at the fault on ${describeCall(call)}`);
            if (problem) violations.push(problem);
          });
          const error = await rotate(rig);
          rig.injector.setObserver(undefined);
          const fired = rig.injector.fired;
          // A crashed process stays dead only for its own invocation: Lambda starts a fresh one.
          rig.injector.reset();
          await noteState();
          const check = async (what: string): Promise<void> => {
            const problem = await usable(`k=${k} ${what}`);
            if (problem) violations.push(problem);
          };
          await check('after the failed rotation');

          if (scenario.refusal !== undefined) {
            // Re-driven while the cause is in place: refused again, typed, with its reason, nothing changed.
            if (fired !== undefined) {
              await rotate(rig);
              await noteState();
              await check('after the refused re-drive');
            }
            const refused = refusalOf(rig);
            expect({ k, errorCode: refused?.errorCode, known: scenario.refusal.reasons.includes(refused?.reason) }).toEqual({
              k,
              errorCode: scenario.refusal.errorCode,
              known: true,
            });
            reasons.add(String(refused?.reason));
            expect({ k, dba: await scenario.dbaState(rig) }).toEqual({ k, dba });
            await scenario.refusal.lift(rig);
          } else if (fired === undefined) {
            expect(error).toBeUndefined();
          }

          const failure = lastFailure(rig);
          if (failure !== undefined) {
            const outcome = await recover(rig, failure, k % 3 === 0 ? 'same-token' : 'retry-step', check);
            expect({ k, rung: outcome.rung }).not.toEqual({ k, rung: 'fresh-token' });
          }
          await noteState();
          expect({ k, violations }).toEqual({ k, violations: [] });
          await assertConverged(rig, before, `k=${k} ${timing} ${fired !== undefined ? describeCall(fired) : '(no fault)'}`);
          expect({ k, dba: await scenario.dbaState(rig) }).toEqual({ k, dba });
          await scenario.afterConverged?.(rig);
          if (fired === undefined) break;
          points.push(`${fired.kind} ${fired.name}`);
        }
        expect(points.length).toBeGreaterThan(5);
        recordFigure(`path-points.${scenario.combination.engine}.${scenario.name}.${timing}`, points.length);
        if (scenario.refusal !== undefined) expect(reasons.size).toBeGreaterThan(0);
        expect(rig.logs.lines.some((l) => scenario.pathLog.test(l.message))).toBe(true);
      });
    },
  );
}

/** The code and reason of the last failed step, from the rotation's own failure line. */
function refusalOf(rig: Rig): { errorCode?: string; reason?: string } | undefined {
  const line = [...rig.logs.lines].reverse().find((l) => l.outcome === 'failure');
  if (line === undefined) return undefined;
  return { errorCode: line.errorCode, reason: line.reason };
}
