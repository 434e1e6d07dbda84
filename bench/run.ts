/**
 * `npm run bench`: runs the selected benchmarks in order and writes BENCHMARKS.md. Progress goes to
 * stderr; no benchmark prints a secret value (they handle passwords only in memory).
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { describeError } from '../operator/cli-io';
import { isToolkitError } from '../shared/errors';
import { parseBenchArgs, USAGE, type BenchArgs, type BenchmarkId } from './args';
import { renderAwsScale } from './aws-scale';
import { renderCache, runCache, type CacheResult } from './cache';
import { renderColdStart, runColdStart } from './cold-start';
import { renderFleet, runFleet } from './fleet';
import { renderLevers, runLevers } from './levers';
import { renderModeledAws, runModeledAws } from './modeled-aws';
import { machineInfo } from './machine';
import { renderPools, runPools } from './pools';
import { writeReport, type RenderedSection } from './report';
import { renderRotationLatency, runRotationLatency, type RotationLatencyResult } from './rotation-latency';
import { renderSecretsApi, runSecretsApi } from './secrets-api';

const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};

/** The inputs aws-scale needs: taken from this run, or measured briefly when their benchmark was not run. */
const AWS_SCALE_FALLBACK_RUNS = 3;

/**
 * On a shared machine, other work inflates every number: wait (bounded) until the 1-minute load
 * average drops below the CPU count. The load is recorded either way.
 */
async function waitForQuiet(maxSeconds: number): Promise<void> {
  const cpus = os.availableParallelism();
  const deadline = performance.now() + maxSeconds * 1000;
  if (os.loadavg()[0]! < cpus || maxSeconds === 0) return;
  log(`load average ${os.loadavg()[0]!.toFixed(2)} on ${cpus} CPUs: waiting up to ${maxSeconds} s for it to drop`);
  while (os.loadavg()[0]! >= cpus && performance.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}

function thrownAt(err: unknown): string {
  const frame = err instanceof Error ? err.stack?.split('\n').find((line) => line.trimStart().startsWith('at ')) : undefined;
  return frame === undefined ? '' : ` ${frame.trim()}`;
}

async function main(): Promise<void> {
  const args: BenchArgs = parseBenchArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const command = ['npm run bench', ...(process.argv.length > 2 ? ['--', ...process.argv.slice(2)] : [])].join(' ');
  const run = { command, startedAt: new Date(), machine: machineInfo() };
  const sections: RenderedSection[] = [];
  let rotation: RotationLatencyResult | undefined;
  let cache: CacheResult | undefined;

  const section = async (id: BenchmarkId, body: () => Promise<string>): Promise<void> => {
    if (!args.only.includes(id)) return;
    await waitForQuiet(args.idleWaitSeconds);
    const loadBefore = os.loadavg();
    const started = performance.now();
    log(`${id}: start`);
    const markdown = await body();
    const seconds = (performance.now() - started) / 1000;
    log(`${id}: done in ${seconds.toFixed(1)} s`);
    sections.push({ id, markdown, seconds, loadBefore, loadAfter: os.loadavg() });
  };

  await section('cache', async () => {
    cache = await runCache(args.runs, log);
    return renderCache(cache);
  });
  await section('rotation-latency', async () => {
    rotation = await runRotationLatency(args.runs, log);
    return renderRotationLatency(rotation);
  });
  await section('modeled-aws', async () => renderModeledAws(await runModeledAws(args.runs, args.latencyMs, log)));
  await section('levers', async () => renderLevers(await runLevers(args.runs, log)));
  await section('cold-start', async () => renderColdStart(await runColdStart(args.runs, log)));
  await section('secrets-api', async () => renderSecretsApi(await runSecretsApi(args.runs, log)));
  await section('fleet', async () => renderFleet(await runFleet(args.fleetSecrets, log)));
  await section('aws-scale', async () => {
    rotation ??= await runRotationLatency(AWS_SCALE_FALLBACK_RUNS, log);
    cache ??= await runCache(AWS_SCALE_FALLBACK_RUNS, log);
    const singles = rotation.scenarios.filter((s) => s.strategy === 'single-user');
    return renderAwsScale({
      requestsPerRotation: Object.fromEntries(singles.map((s) => [`${s.engine} single-user`, s.smByOperation])),
      cacheHitsPerSecond: cache.hits[0]!.hitsPerSecond.median,
      rotationMs: Math.max(...singles.map((s) => s.handlerMs.median)),
    });
  });

  await section('pools', async () => renderPools(await runPools(args.runs, log)));

  const output = path.resolve(process.cwd(), args.output);
  writeReport(output, run, sections);
  log(`wrote ${output}`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    // Driver messages can quote SQL that carries a password: only toolkit messages are printed whole,
    // anything else is its class and code plus where it was thrown (stack frames hold no values).
    process.stderr.write(`[bench] failed: ${describeError(err)}${isToolkitError(err) ? '' : thrownAt(err)}\n`);
    process.exit(1);
  },
);
