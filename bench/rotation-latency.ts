/**
 * Rotation latency per engine x strategy: full warm rotations through `createRotationHandler`, driven
 * by the embedded endpoint's RotateSecret against the local servers, with each step's time split into
 * its Secrets Manager round trips, its database logins, its statements, and the rest (the floor gap).
 */
import type { EngineFamily } from '../shared/database-secret';
import type { RotationStrategyName } from '../shared/rotation/rotation-settings';
import { ms, medianP95, num, table, times, verdict } from './format';
import {
  STEPS,
  createBenchMaster,
  createBenchUser,
  createSecret,
  openRotationRig,
  rotateSecret,
  secretJson,
  uniqueName,
  type BenchUser,
  type RotationRig,
  type StepName,
  type StepSample,
} from './rotation-rig';
import { median, summarize, type Summary } from './stats';

export interface StepResult {
  readonly ms: Summary;
  readonly smCalls: number;
  readonly smByOperation: Readonly<Record<string, number>>;
  readonly smMs: Summary;
  readonly logins: number;
  readonly loginMs: Summary;
  readonly queries: number;
  readonly queryMs: Summary;
  /** Step time minus its own round trips: the handler's own work, the distance from the floor. */
  readonly overheadMs: Summary;
}

export interface RotationScenarioResult {
  readonly engine: EngineFamily;
  readonly strategy: RotationStrategyName;
  readonly runs: number;
  /** Sum of the four handler invocations: what Lambda bills. */
  readonly handlerMs: Summary;
  /** RotateSecret as the caller sees it, endpoint included. */
  readonly endToEndMs: Summary;
  readonly smCalls: number;
  readonly smByOperation: Readonly<Record<string, number>>;
  readonly logins: number;
  readonly queries: number;
  readonly steps: Readonly<Record<StepName, StepResult>>;
}

export interface RotationLatencyResult {
  readonly scenarios: readonly RotationScenarioResult[];
}

const SCENARIOS: ReadonlyArray<{ engine: EngineFamily; strategy: RotationStrategyName }> = [
  { engine: 'postgres', strategy: 'single-user' },
  { engine: 'postgres', strategy: 'alternating-users' },
  { engine: 'mysql', strategy: 'single-user' },
  { engine: 'mysql', strategy: 'alternating-users' },
];
const WARMUP_ROTATIONS = 3;

export async function runRotationLatency(runs: number, log: (line: string) => void): Promise<RotationLatencyResult> {
  const rig = await openRotationRig();
  const scenarios: RotationScenarioResult[] = [];
  try {
    for (const scenario of SCENARIOS) {
      log(`rotation-latency: ${scenario.engine} ${scenario.strategy}, ${runs} rotations`);
      scenarios.push(await measureScenario(rig, scenario.engine, scenario.strategy, runs));
    }
  } finally {
    await rig.close();
  }
  return { scenarios };
}

async function measureScenario(
  rig: RotationRig,
  engine: EngineFamily,
  strategy: RotationStrategyName,
  runs: number,
): Promise<RotationScenarioResult> {
  const users: BenchUser[] = [];
  try {
    const user = await createBenchUser(engine);
    users.push(user);
    let masterArn: string | undefined;
    if (strategy === 'alternating-users') {
      const master = await createBenchMaster(engine);
      users.push(master);
      masterArn = await createSecret(rig.driver, uniqueName(`bench-${engine}-master`), secretJson(engine, master));
    }
    const secretArn = await createSecret(rig.driver, uniqueName(`bench-${engine}-${strategy}`), secretJson(engine, user, masterArn));
    const functionArn = rig.functionArn(engine, strategy);

    rig.recordSteps = true;
    const samples: Array<Record<StepName, StepSample>> = [];
    const endToEnd: number[] = [];
    for (let i = 0; i < WARMUP_ROTATIONS + runs; i++) {
      const started = performance.now();
      await rotateSecret(rig.driver, secretArn, functionArn);
      const elapsed = performance.now() - started;
      const steps = rig.takeStepSamples();
      if (i < WARMUP_ROTATIONS) continue;
      endToEnd.push(elapsed);
      samples.push(completeSteps(steps));
    }
    rig.recordSteps = false;
    return summarizeScenario(engine, strategy, samples, endToEnd);
  } finally {
    rig.recordSteps = false;
    for (const user of users) await user.drop();
  }
}

function completeSteps(steps: Partial<Record<StepName, StepSample>>): Record<StepName, StepSample> {
  for (const step of STEPS) {
    if (steps[step] === undefined) throw new Error(`rotation finished without a ${step} invocation`);
  }
  return steps as Record<StepName, StepSample>;
}

function summarizeScenario(
  engine: EngineFamily,
  strategy: RotationStrategyName,
  samples: ReadonlyArray<Record<StepName, StepSample>>,
  endToEnd: readonly number[],
): RotationScenarioResult {
  const perRotation = (pick: (s: StepSample) => number): number[] =>
    samples.map((rotation) => STEPS.reduce((sum, step) => sum + pick(rotation[step]), 0));
  const smByOperation = operationMedians(
    samples.map((r) => {
      const merged = new Map<string, { count: number; ms: number }>();
      for (const step of STEPS) {
        for (const [op, t] of r[step].smByOperation) {
          const m = merged.get(op) ?? { count: 0, ms: 0 };
          merged.set(op, { count: m.count + t.count, ms: m.ms + t.ms });
        }
      }
      return merged;
    }),
  );
  const steps = Object.fromEntries(
    STEPS.map((step) => {
      const of = (pick: (s: StepSample) => number): number[] => samples.map((r) => pick(r[step]));
      const result: StepResult = {
        ms: summarize(of((s) => s.ms)),
        smCalls: median(of((s) => s.sm.count)),
        smByOperation: operationMedians(samples.map((r) => r[step].smByOperation)),
        smMs: summarize(of((s) => s.sm.ms)),
        logins: median(of((s) => s.db.logins)),
        loginMs: summarize(of((s) => s.db.loginMs)),
        queries: median(of((s) => s.db.queries)),
        queryMs: summarize(of((s) => s.db.queryMs)),
        overheadMs: summarize(of((s) => s.ms - s.sm.ms - s.db.loginMs - s.db.queryMs)),
      };
      return [step, result];
    }),
  ) as Record<StepName, StepResult>;
  return {
    engine,
    strategy,
    runs: samples.length,
    handlerMs: summarize(perRotation((s) => s.ms)),
    endToEndMs: summarize(endToEnd),
    smCalls: median(perRotation((s) => s.sm.count)),
    smByOperation,
    logins: median(perRotation((s) => s.db.logins)),
    queries: median(perRotation((s) => s.db.queries)),
    steps,
  };
}

/** Median request count per operation over the samples. */
function operationMedians(samples: ReadonlyArray<ReadonlyMap<string, { count: number }>>): Record<string, number> {
  const operations = [...new Set(samples.flatMap((m) => [...m.keys()]))].sort();
  return Object.fromEntries(operations.map((op) => [op, median(samples.map((m) => m.get(op)?.count ?? 0))]));
}

function describeOperations(byOperation: Readonly<Record<string, number>>): string {
  return Object.entries(byOperation).map(([op, n]) => `${op} ${n}`).join(', ') || '—';
}

/** The anchors measured on this kind of loopback setup for AWS's Python templates (issue 9). */
const TEMPLATE_ANCHOR = { postgres: 36.7, mysql: 20.8, smRequests: 14, logins: 3 } as const;
const GOAL_MS: Readonly<Record<EngineFamily, number>> = { postgres: 15, mysql: 8 };
const ALTERNATING_FACTOR = 1.5;

export function renderRotationLatency(result: RotationLatencyResult): string {
  const find = (engine: EngineFamily, strategy: RotationStrategyName): RotationScenarioResult | undefined =>
    result.scenarios.find((s) => s.engine === engine && s.strategy === strategy);
  const overview = table(
    ['engine × strategy', 'runs', 'handler median / p95', 'RotateSecret end to end median / p95', 'SM requests', 'DB logins', 'statements', 'AWS template (anchor)'],
    result.scenarios.map((s) => [
      `${s.engine} ${s.strategy}`,
      String(s.runs),
      medianP95(s.handlerMs, 2),
      medianP95(s.endToEndMs, 2),
      num(s.smCalls),
      num(s.logins),
      num(s.queries),
      s.strategy === 'single-user' ? `${ms(TEMPLATE_ANCHOR[s.engine])}, ${TEMPLATE_ANCHOR.smRequests} requests, ${TEMPLATE_ANCHOR.logins} logins` : '—',
    ]),
  );

  const goals: string[][] = [];
  for (const engine of ['postgres', 'mysql'] as const) {
    const single = find(engine, 'single-user');
    const alternating = find(engine, 'alternating-users');
    if (single) {
      goals.push([
        `${engine} single-user ≤ ${GOAL_MS[engine]} ms median`,
        ms(single.handlerMs.median, 2),
        verdict(single.handlerMs.median <= GOAL_MS[engine]),
        `${times(single.handlerMs.median / TEMPLATE_ANCHOR[engine])} the template's ${ms(TEMPLATE_ANCHOR[engine])} (anchor measured elsewhere, not in this run)`,
      ]);
      goals.push([
        `${engine} SM requests per rotation < ${TEMPLATE_ANCHOR.smRequests}`,
        num(single.smCalls),
        verdict(single.smCalls < TEMPLATE_ANCHOR.smRequests),
        describeOperations(single.smByOperation),
      ]);
    }
    if (single && alternating) {
      const factor = alternating.handlerMs.median / single.handlerMs.median;
      goals.push([
        `${engine} alternating ≤ ${ALTERNATING_FACTOR}× single-user`,
        times(factor),
        verdict(factor <= ALTERNATING_FACTOR),
        `${ms(alternating.handlerMs.median, 2)} vs ${ms(single.handlerMs.median, 2)}`,
      ]);
    }
  }

  const breakdowns = result.scenarios.map((s) => {
    const rows = STEPS.map((step) => {
      const r = s.steps[step];
      const floor = r.smMs.median + r.loginMs.median + r.queryMs.median;
      return [
        step,
        medianP95(r.ms, 2),
        `${num(r.smCalls)} / ${ms(r.smMs.median, 2)}`,
        describeOperations(r.smByOperation),
        `${num(r.logins)} / ${ms(r.loginMs.median, 2)}`,
        `${num(r.queries)} / ${ms(r.queryMs.median, 2)}`,
        ms(floor, 2),
        ms(r.overheadMs.median, 2),
      ];
    });
    return [
      `#### ${s.engine} ${s.strategy}`,
      '',
      table(['step', 'median / p95', 'SM requests / time', 'which requests', 'DB logins / time', 'statements / time', 'floor (own round trips)', 'above floor (median)'], rows),
    ].join('\n');
  });

  return [
    '## 1. Rotation latency',
    '',
    'A full warm rotation (after 3 unmeasured ones) per engine × strategy: RotateSecret on the embedded endpoint runs the four steps in process through `createRotationHandler`, against PostgreSQL and MariaDB on loopback. "Handler" is the sum of the four invocations (what Lambda bills); "end to end" adds the endpoint\'s own RotateSecret work. Secrets Manager requests are counted by an SDK middleware on the handler\'s client, logins and statements by wrapping its injected `connect`.',
    '',
    overview,
    '',
    '### Goals',
    '',
    table(['goal', 'measured', 'verdict', 'detail'], goals),
    '',
    '### Per-step breakdown (medians; times are sums within the step)',
    '',
    'The floor of a step is the time it spends in its own round trips (Secrets Manager requests, logins, statements); "above floor" is what the handler adds on top (parsing, validation, password checks, JSON, scheduling).',
    '',
    ...breakdowns.flatMap((b) => [b, '']),
  ].join('\n');
}
