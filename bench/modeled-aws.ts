/**
 * The modeled-AWS run: the same warm rotations as section 1, but every Secrets Manager request waits an
 * injected round trip in the endpoint (default 5 ms, a VPC endpoint's) and every database login is TLS
 * with full verification against private servers (private-servers.ts, fsync on), so request and
 * round-trip counts weigh about as they do in AWS.
 */
import type { EngineFamily } from '../shared/database-secret';
import { ms, table } from './format';
import { startPrivateTlsServers } from './private-servers';
import {
  SCENARIOS,
  measureInterleaved,
  overviewTable,
  scenarioLabel,
  timeSplitTable,
  type RotationScenarioResult,
} from './rotation-latency';
import { openRotationRig, type BenchServer } from './rotation-rig';

export interface ModeledAwsResult {
  readonly latencyMs: number;
  readonly scenarios: readonly RotationScenarioResult[];
}

export async function runModeledAws(runs: number, latencyMs: number, log: (line: string) => void): Promise<ModeledAwsResult> {
  log('modeled-aws: starting private PostgreSQL and MariaDB with TLS');
  const servers = await startPrivateTlsServers();
  try {
    const rig = await openRotationRig({ latencyMs, handlerEnv: { DB_TLS_MODE: 'verify-full', DB_CA_BUNDLE: servers.caFile } });
    try {
      const serverFor = (engine: EngineFamily): BenchServer => ({
        env: engine === 'postgres' ? servers.postgres.env : servers.mysql.env,
        ssl: true,
      });
      log(`modeled-aws: ${SCENARIOS.length} combinations, ${runs} rotations each, ${latencyMs} ms per request, TLS logins`);
      return { latencyMs, scenarios: await measureInterleaved(rig, SCENARIOS, runs, serverFor) };
    } finally {
      await rig.close();
    }
  } finally {
    await servers.stop();
  }
}

export function renderModeledAws(result: ModeledAwsResult): string {
  return [
    '## 1b. Modeled AWS: request latency and TLS',
    '',
    `The same warm rotations as section 1 (same handlers, default signed client, endpoint in its own process, combinations interleaved), with two changes that make counts weigh as in AWS: the endpoint holds every request **${ms(result.latencyMs, 0)}** before serving it (its \`requestLatencyMs\` option; a VPC endpoint round trip), and every database login is **TLS, verify-full** against a throw-away CA (secrets with \`ssl: true\`, \`DB_TLS_MODE=verify-full\`, \`DB_CA_BUNDLE\`). The servers are private ones started for this run (\`bench/private-servers.ts\`: the installed PostgreSQL and MariaDB with TLS on, fsync on, SCRAM / mysql_native_password), since the shared ones have no TLS; database round trips stay on loopback.`,
    '',
    overviewTable(result.scenarios),
    '',
    'Where the modeled time goes (medians per rotation):',
    '',
    timeSplitTable(result.scenarios),
    '',
    table(
      ['engine × strategy', 'modeled rotation (handler median)', 'of which injected request latency'],
      result.scenarios.map((s) => [scenarioLabel(s), ms(s.handlerMs.median, 1), ms(s.smCalls * result.latencyMs, 0)]),
    ),
    '',
  ].join('\n');
}
