/**
 * `npm run rotate:local`: the whole local loop in one command. Progress goes to stderr, the result
 * (table or JSON) to stdout; the exit code is non-zero when anything failed. No password is ever
 * written: messages come from typed errors that name the secret and step, and the report has no values.
 */
import { setupDatabases } from '../db-setup';
import {
  asksForJson,
  describeError,
  EXIT_FAILED,
  EXIT_OK,
  EXIT_USAGE,
  failureDocument,
  progressFor,
  type CliIo,
} from '../../operator/cli-io';
import { parseRotateLocalArgs, ROTATE_LOCAL_USAGE, type RotateLocalOptions } from './args';
import { databaseProblem } from './preflight';
import { buildReport, describeTarget, renderReportTable, type RotateLocalReport } from './report';
import { runDemoScenario, runExistingSecret, type ScenarioContext, type ScenarioResult } from './run-scenario';
import { DEMO_ENGINES, selectScenarios } from './scenarios';
import { AUTH_TOKEN_HINT, readLocalStackHealth } from './localstack';
import { openTarget, targetKind } from './target';
import type { EngineFamily } from '../../shared/database-secret';

export async function runRotateLocalCli(argv: readonly string[], io: CliIo): Promise<number> {
  let options: RotateLocalOptions;
  try {
    options = parseRotateLocalArgs(argv);
  } catch (err) {
    io.stderr(`rotate:local: ${describeError(err)}\n\n${ROTATE_LOCAL_USAGE}`);
    if (asksForJson(argv)) io.stdout(failureDocument(describeError(err), { ok: false }));
    return EXIT_USAGE;
  }
  if (options.help) {
    io.stdout(ROTATE_LOCAL_USAGE);
    return EXIT_OK;
  }
  try {
    const report = await rotateLocal(options, io);
    io.stdout(options.json ? JSON.stringify(report, null, 2) : renderReportTable(report));
    return report.ok ? EXIT_OK : EXIT_FAILED;
  } catch (err) {
    io.stderr(`rotate:local: ${describeError(err)}`);
    if (options.json) io.stdout(failureDocument(describeError(err), { ok: false }));
    return EXIT_FAILED;
  }
}

export async function rotateLocal(options: RotateLocalOptions, io: CliIo): Promise<RotateLocalReport> {
  const progress = (line: string): void => io.stderr(`rotate:local: ${line}`);
  const kind = targetKind({ ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}), env: io.env });
  const startHint = kind === 'localstack' ? '`docker compose up -d --wait`' : '`npm run db:setup`';

  const engines = enginesOf(options);
  const problems = new Map<EngineFamily, string>();
  for (const engine of engines) {
    const problem = await prepareDatabase(engine, options, io, startHint);
    if (problem !== undefined) {
      problems.set(engine, problem);
      progress(problem);
    }
  }

  const target = await openTarget({
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    env: io.env,
    log: (line) => io.stderr(line),
    ...(io.callTimeouts !== undefined ? { callTimeouts: io.callTimeouts } : {}),
  });
  progress(`target: ${describeTarget(target.kind, target.endpoint)}`);
  const unreachable = target.kind === 'localstack' ? await localStackProblem(target.endpoint, io.env) : undefined;
  if (unreachable !== undefined) for (const line of unreachable) progress(line);
  const ctx: ScenarioContext = { target, env: io.env, rotations: options.rotations, progress };
  const results: ScenarioResult[] = [];
  try {
    if (options.secretId !== undefined) {
      results.push(
        unreachable !== undefined
          ? {
              engine: 'unknown',
              strategy: options.strategy ?? 'existing',
              secretId: options.secretId,
              outcome: 'failed',
              setupMs: 0,
              rotations: [],
              error: unreachable[0]!,
            }
          : await runExistingSecret(options.secretId, options.strategy, ctx),
      );
    } else {
      for (const scenario of selectScenarios(options.engine, options.strategy)) {
        const problem = unreachable?.[0] ?? problems.get(scenario.engine);
        results.push(
          problem !== undefined
            ? { ...scenario, secretId: '-', outcome: 'failed', setupMs: 0, rotations: [], error: problem }
            : await runDemoScenario(scenario, ctx),
        );
      }
    }
  } finally {
    await target.close();
  }
  return buildReport(target.kind, target.endpoint, results);
}

/** Undefined when LocalStack answers its health check; otherwise the lines to show, the first one the reason. */
async function localStackProblem(url: string, env: CliIo['env']): Promise<string[] | undefined> {
  if ((await readLocalStackHealth(url)) !== undefined) return undefined;
  const lines = [
    `LocalStack does not answer at ${url} (/_localstack/health): start it with \`docker compose up -d --wait\`, then \`npm run localstack:deploy\``,
  ];
  if (!env.LOCALSTACK_AUTH_TOKEN?.trim()) lines.push(AUTH_TOKEN_HINT);
  return lines;
}

/**
 * db:setup for one engine (after parsing, so --help and a typo cost nothing; its lines go to stderr,
 * so --json stays pure), then the admin login check. Undefined when the engine is ready; otherwise one
 * line: the login problem, naming host and port, when there is one, else what setup found.
 */
async function prepareDatabase(
  engine: EngineFamily,
  options: RotateLocalOptions,
  io: CliIo,
  startHint: string,
): Promise<string | undefined> {
  let setupProblem: string | undefined;
  if (!options.skipSetup) {
    try {
      await setupDatabases({ env: io.env, log: io.stderr, progress: progressFor(io, 'db:setup'), engines: [engine] });
    } catch (err) {
      setupProblem = `db:setup: ${describeError(err)}`;
    }
  }
  return (await databaseProblem(engine, io.env, startHint)) ?? setupProblem;
}

/** The engines a run needs: an existing secret may be either. */
function enginesOf(options: RotateLocalOptions): readonly EngineFamily[] {
  return options.secretId !== undefined ? DEMO_ENGINES : DEMO_ENGINES.filter((e) => options.engine === undefined || e === options.engine);
}
