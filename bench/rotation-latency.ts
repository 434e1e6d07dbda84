/**
 * Rotation latency per engine x strategy: full warm rotations through `createRotationHandler` with its
 * default (signed) Secrets Manager client, driven by the embedded endpoint's RotateSecret (the endpoint
 * in a process of its own, counting requests) against the local servers, with each step's time split
 * into its Secrets Manager round trips, its database logins, its statements, and the rest (the floor
 * gap), and the CPU this process spent in the handler.
 */
import type { EngineFamily } from '../shared/database-secret';
import type { RotationStrategyName } from '../shared/rotation/rotation-settings';
import { ms, medianP95, num, table, times, verdict } from './format';
import {
  STEPS,
  WRITE_OPERATIONS,
  createBenchMaster,
  createBenchUser,
  createSecret,
  openRotationRig,
  rotateSecret,
  secretJson,
  uniqueName,
  type BenchServer,
  type BenchUser,
  type HandlerVariant,
  type RotationRig,
  type StepName,
  type StepSample,
} from './rotation-rig';
import { median, summarize, type Summary } from './stats';

export interface StepResult {
  readonly ms: Summary;
  readonly cpuMs: Summary;
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
  /** The handler variant's name (levers), if not the shipped one. */
  readonly variant?: string;
  readonly runs: number;
  /** Sum of the four handler invocations: what Lambda bills. */
  readonly handlerMs: Summary;
  /** RotateSecret as the caller sees it, endpoint included. */
  readonly endToEndMs: Summary;
  /** CPU of the handler's process over the four invocations (the endpoint runs in another process). */
  readonly cpuMs: Summary;
  readonly smCalls: number;
  readonly smByOperation: Readonly<Record<string, number>>;
  /** PutSecretValue, UpdateSecretVersionStage and UpdateSecret requests. */
  readonly writes: number;
  /** Time of the requests in the endpoint (injected latency included), per rotation. */
  readonly smMs: Summary;
  readonly logins: number;
  readonly refusedLogins: number;
  readonly loginMs: Summary;
  readonly queries: number;
  /** Statement round trips (pipelined statements count once). */
  readonly roundTrips: number;
  readonly queryMs: Summary;
  readonly steps: Readonly<Record<StepName, StepResult>>;
}

export interface RotationLatencyResult {
  readonly scenarios: readonly RotationScenarioResult[];
}

export interface ScenarioSpec {
  readonly engine: EngineFamily;
  readonly strategy: RotationStrategyName;
  readonly variant?: HandlerVariant;
}

export const SCENARIOS: readonly ScenarioSpec[] = [
  { engine: 'postgres', strategy: 'single-user' },
  { engine: 'postgres', strategy: 'alternating-users' },
  { engine: 'mysql', strategy: 'single-user' },
  { engine: 'mysql', strategy: 'alternating-users' },
];
export const WARMUP_ROTATIONS = 3;

export async function runRotationLatency(runs: number, log: (line: string) => void): Promise<RotationLatencyResult> {
  const rig = await openRotationRig();
  try {
    log(`rotation-latency: ${SCENARIOS.length} engine × strategy combinations, ${runs} rotations each, interleaved`);
    return { scenarios: await measureInterleaved(rig, SCENARIOS, runs) };
  } finally {
    await rig.close();
  }
}

interface Prepared {
  readonly spec: ScenarioSpec;
  readonly secretArn: string;
  readonly functionArn: string;
  readonly samples: Array<Record<StepName, StepSample>>;
  readonly endToEnd: number[];
}

/**
 * Warm rotations of every spec, round-robin (one rotation of each per round), so the machine's load
 * drifts over all of them alike; each spec has its own user and secret on its engine's server.
 */
export async function measureInterleaved(
  rig: RotationRig,
  specs: readonly ScenarioSpec[],
  runs: number,
  serverFor: (engine: EngineFamily) => BenchServer | undefined = () => undefined,
): Promise<RotationScenarioResult[]> {
  const users: BenchUser[] = [];
  try {
    const prepared: Prepared[] = [];
    for (const spec of specs) {
      const server = serverFor(spec.engine);
      const user = await createBenchUser(spec.engine, server);
      users.push(user);
      let masterArn: string | undefined;
      if (spec.strategy === 'alternating-users') {
        const master = await createBenchMaster(spec.engine, server);
        users.push(master);
        masterArn = await createSecret(
          rig.driver,
          uniqueName(`bench-${spec.engine}-master`),
          secretJson(spec.engine, master, undefined, server),
        );
      }
      const secretArn = await createSecret(
        rig.driver,
        uniqueName(`bench-${spec.engine}-${spec.strategy}`),
        secretJson(spec.engine, user, masterArn, server),
      );
      const functionArn = await rig.functionArn(spec.engine, spec.strategy, spec.variant);
      prepared.push({ spec, secretArn, functionArn, samples: [], endToEnd: [] });
    }
    rig.recordSteps = true;
    for (let i = 0; i < WARMUP_ROTATIONS + runs; i++) {
      for (const p of prepared) {
        const started = performance.now();
        await rotateSecret(rig.driver, p.secretArn, p.functionArn);
        const elapsed = performance.now() - started;
        const steps = await rig.takeStepSamples();
        if (i < WARMUP_ROTATIONS) continue;
        p.endToEnd.push(elapsed);
        p.samples.push(completeSteps(steps));
      }
    }
    return prepared.map((p) => summarizeScenario(p.spec, p.samples, p.endToEnd));
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
  spec: ScenarioSpec,
  samples: ReadonlyArray<Record<StepName, StepSample>>,
  endToEnd: readonly number[],
): RotationScenarioResult {
  const perRotation = (pick: (s: StepSample) => number): number[] =>
    samples.map((rotation) => STEPS.reduce((sum, step) => sum + pick(rotation[step]), 0));
  const merged = samples.map((r) => {
    const all = new Map<string, { count: number; ms: number }>();
    for (const step of STEPS) {
      for (const [op, t] of r[step].smByOperation) {
        const m = all.get(op) ?? { count: 0, ms: 0 };
        all.set(op, { count: m.count + t.count, ms: m.ms + t.ms });
      }
    }
    return all;
  });
  const smByOperation = operationMedians(merged);
  const writes = median(merged.map((m) => [...m].filter(([op]) => WRITE_OPERATIONS.has(op)).reduce((n, [, t]) => n + t.count, 0)));
  const steps = Object.fromEntries(
    STEPS.map((step) => {
      const of = (pick: (s: StepSample) => number): number[] => samples.map((r) => pick(r[step]));
      const result: StepResult = {
        ms: summarize(of((s) => s.ms)),
        cpuMs: summarize(of((s) => s.cpuMs)),
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
    engine: spec.engine,
    strategy: spec.strategy,
    ...(spec.variant ? { variant: spec.variant.name } : {}),
    runs: samples.length,
    handlerMs: summarize(perRotation((s) => s.ms)),
    endToEndMs: summarize(endToEnd),
    cpuMs: summarize(perRotation((s) => s.cpuMs)),
    smCalls: median(perRotation((s) => s.sm.count)),
    smByOperation,
    writes,
    smMs: summarize(perRotation((s) => s.sm.ms)),
    logins: median(perRotation((s) => s.db.logins)),
    refusedLogins: median(perRotation((s) => s.db.refused)),
    loginMs: summarize(perRotation((s) => s.db.loginMs)),
    queries: median(perRotation((s) => s.db.queries)),
    roundTrips: median(perRotation((s) => s.db.roundTrips)),
    queryMs: summarize(perRotation((s) => s.db.queryMs)),
    steps,
  };
}

/** Median request count per operation over the samples. */
function operationMedians(samples: ReadonlyArray<ReadonlyMap<string, { count: number }>>): Record<string, number> {
  const operations = [...new Set(samples.flatMap((m) => [...m.keys()]))].sort();
  return Object.fromEntries(operations.map((op) => [op, median(samples.map((m) => m.get(op)?.count ?? 0))]));
}

export function describeOperations(byOperation: Readonly<Record<string, number>>): string {
  return (
    Object.entries(byOperation)
      .map(([op, n]) => `${op} ${n}`)
      .join(', ') || '—'
  );
}

/** Issue 14's anchors for AWS's Python templates on this kind of setup (measured outside this run). */
const AWS_ANCHOR = { postgresSingleCpuMs: 93 } as const;
/** Issue 14's goals. */
export const GOALS = {
  singleUserRequests: 11,
  alternatingRequests: 12,
  writes: 2,
  refusedLogins: 0,
  /** A third of the AWS template's CPU per PostgreSQL single-user rotation. */
  postgresSingleCpuMs: AWS_ANCHOR.postgresSingleCpuMs / 3,
} as const;
/** Earlier goals (issue 9), kept visible. */
const EARLIER_GOAL_MS: Readonly<Record<EngineFamily, number>> = { postgres: 15, mysql: 8 };
const ALTERNATING_FACTOR = 1.5;

/** A scenario's label: engine, strategy, and variant when it is not the shipped handler. */
export function scenarioLabel(s: Pick<RotationScenarioResult, 'engine' | 'strategy' | 'variant'>): string {
  return `${s.engine} ${s.strategy}${s.variant !== undefined ? ` (${s.variant})` : ''}`;
}

/** The overview table: times, CPU and every count per scenario. */
export function overviewTable(scenarios: readonly RotationScenarioResult[]): string {
  return table(
    [
      'engine × strategy',
      'runs',
      'handler median / p95',
      'CPU per rotation median / p95',
      'SM requests (by operation)',
      'writes',
      'DB logins',
      'refused logins',
      'statements (round trips)',
    ],
    scenarios.map((s) => [
      scenarioLabel(s),
      String(s.runs),
      medianP95(s.handlerMs, 2),
      medianP95(s.cpuMs, 2),
      `${num(s.smCalls)} (${describeOperations(s.smByOperation)})`,
      num(s.writes),
      num(s.logins),
      num(s.refusedLogins),
      `${num(s.queries)} (${num(s.roundTrips)})`,
    ]),
  );
}

/** Where each scenario's time goes, per rotation (medians): requests, logins, statements, the rest. */
export function timeSplitTable(scenarios: readonly RotationScenarioResult[]): string {
  return table(
    [
      'engine × strategy',
      'handler median',
      'SM requests (time in endpoint)',
      'DB logins',
      'statements',
      'rest (handler work, client, scheduling)',
    ],
    scenarios.map((s) => {
      const rest = s.handlerMs.median - s.smMs.median - s.loginMs.median - s.queryMs.median;
      return [
        scenarioLabel(s),
        ms(s.handlerMs.median, 2),
        ms(s.smMs.median, 2),
        ms(s.loginMs.median, 2),
        ms(s.queryMs.median, 2),
        ms(rest, 2),
      ];
    }),
  );
}

/** Issue 14's count goals and the CPU goal, per scenario. */
export function countGoals(scenarios: readonly RotationScenarioResult[]): string[][] {
  const rows: string[][] = [];
  for (const s of scenarios) {
    const limit = s.strategy === 'single-user' ? GOALS.singleUserRequests : GOALS.alternatingRequests;
    rows.push([
      `${scenarioLabel(s)}: SM requests ≤ ${limit}`,
      num(s.smCalls),
      verdict(s.smCalls <= limit),
      describeOperations(s.smByOperation),
    ]);
    rows.push([`${scenarioLabel(s)}: writes ≤ ${GOALS.writes}`, num(s.writes), verdict(s.writes <= GOALS.writes), '']);
    rows.push([
      `${scenarioLabel(s)}: no refused login`,
      num(s.refusedLogins),
      verdict(s.refusedLogins === GOALS.refusedLogins),
      `${num(s.logins)} logins`,
    ]);
  }
  const pg = scenarios.find((s) => s.engine === 'postgres' && s.strategy === 'single-user' && s.variant === undefined);
  if (pg) {
    rows.push([
      `postgres single-user: CPU ≤ ⅓ of AWS's (${ms(GOALS.postgresSingleCpuMs)})`,
      ms(pg.cpuMs.median, 2),
      verdict(pg.cpuMs.median <= GOALS.postgresSingleCpuMs),
      `${times(pg.cpuMs.median / AWS_ANCHOR.postgresSingleCpuMs)} of the issue's ${ms(AWS_ANCHOR.postgresSingleCpuMs, 0)} anchor for AWS's function (measured outside this run)`,
    ]);
  }
  return rows;
}

export function renderRotationLatency(result: RotationLatencyResult): string {
  const find = (engine: EngineFamily, strategy: RotationStrategyName): RotationScenarioResult | undefined =>
    result.scenarios.find((s) => s.engine === engine && s.strategy === strategy && s.variant === undefined);
  const goals = countGoals(result.scenarios);
  for (const engine of ['postgres', 'mysql'] as const) {
    const single = find(engine, 'single-user');
    const alternating = find(engine, 'alternating-users');
    if (single) {
      goals.push([
        `(issue 9) ${engine} single-user ≤ ${EARLIER_GOAL_MS[engine]} ms median`,
        ms(single.handlerMs.median, 2),
        verdict(single.handlerMs.median <= EARLIER_GOAL_MS[engine]),
        '',
      ]);
    }
    if (single && alternating) {
      const factor = alternating.handlerMs.median / single.handlerMs.median;
      goals.push([
        `(issue 9) ${engine} alternating ≤ ${ALTERNATING_FACTOR}× single-user`,
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
        ms(r.cpuMs.median, 2),
        `${num(r.smCalls)} / ${ms(r.smMs.median, 2)}`,
        describeOperations(r.smByOperation),
        `${num(r.logins)} / ${ms(r.loginMs.median, 2)}`,
        `${num(r.queries)} / ${ms(r.queryMs.median, 2)}`,
        ms(floor, 2),
        ms(r.overheadMs.median, 2),
      ];
    });
    return [
      `#### ${scenarioLabel(s)}`,
      '',
      table(
        [
          'step',
          'median / p95',
          'CPU',
          'SM requests / time',
          'which requests',
          'DB logins / time',
          'statements / time',
          'floor (own round trips)',
          'above floor (median)',
        ],
        rows,
      ),
    ].join('\n');
  });

  return [
    '## 1. Rotation latency (warm, loopback)',
    '',
    `Full warm rotations (after ${WARMUP_ROTATIONS} unmeasured ones), the four combinations interleaved round by round. RotateSecret on the embedded endpoint invokes the four steps; each runs in the benchmark process through \`createRotationHandler\` with its **default Secrets Manager client** (the signed client the Lambdas ship, pointed at the endpoint by \`SECRETS_MANAGER_ENDPOINT\`), against PostgreSQL and MariaDB on loopback without TLS. The endpoint runs in a **process of its own** (\`bench/endpoint-process.ts\`) and counts the requests per operation as they arrive (its \`onRequest\` option); logins, refused logins and statements are counted by wrapping the handler's connector. "Handler" is the sum of the four invocations (what Lambda bills); **CPU** is \`process.cpuUsage\` of the benchmark process around those invocations: the handler, the signed client and the driver, not the endpoint. Counts are medians per rotation.`,
    '',
    overviewTable(result.scenarios),
    '',
    'Where the time goes (medians per rotation; requests timed inside the endpoint, so the client side of a request is in "rest"):',
    '',
    timeSplitTable(result.scenarios),
    '',
    '### Goals',
    '',
    table(['goal', 'measured', 'verdict', 'detail'], goals),
    '',
    "The warm-rotation goal (≤ 0.5× AWS's functions) is judged outside the project, from the absolute times above.",
    '',
    '### Per-step breakdown (medians; times are sums within the step)',
    '',
    'The floor of a step is the time it spends in its own round trips (Secrets Manager requests as timed in the endpoint, logins, statements); "above floor" is what the handler adds on top (signing, parsing, validation, password generation, JSON, scheduling).',
    '',
    ...breakdowns.flatMap((b) => [b, '']),
  ].join('\n');
}
