/**
 * At AWS scale, on paper: the Secrets Manager requests one rotation makes, by operation (measured in
 * this run), against the documented per-account, per-region API quotas; how many cache reads one
 * function instance serves (measured); and what changes for 100,000 secrets.
 */
import { num, table } from './format';

/** A documented quota: the operations that share it and its rate per second, per account and region. */
interface Quota {
  readonly name: string;
  readonly operations: readonly string[];
  readonly perSecond: number;
  readonly source: string;
}

const QUOTA_PAGE = 'https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html';
const QUOTAS: readonly Quota[] = [
  { name: 'GetSecretValue', operations: ['GetSecretValue'], perSecond: 10_000, source: QUOTA_PAGE },
  {
    name: 'DescribeSecret',
    operations: ['DescribeSecret'],
    perSecond: 40_000,
    source:
      'https://aws.amazon.com/about-aws/whats-new/2025/03/aws-secrets-manager-increases-api-requests-seconds (DescribeSecret 40,000/s; before, 10,000/s combined with GetSecretValue)',
  },
  {
    name: 'PutSecretValue + UpdateSecret + UpdateSecretVersionStage (+ replication calls), combined',
    operations: ['PutSecretValue', 'UpdateSecret', 'UpdateSecretVersionStage'],
    perSecond: 50,
    source: QUOTA_PAGE,
  },
  {
    name: 'RotateSecret + CancelRotateSecret, combined',
    operations: ['RotateSecret', 'CancelRotateSecret'],
    perSecond: 50,
    source: QUOTA_PAGE,
  },
  {
    name: 'GetRandomPassword',
    operations: ['GetRandomPassword'],
    perSecond: 50,
    source: 'ASSUMED: not found in the quota excerpts available offline; taken as the 50/s control-plane class',
  },
];

export interface AwsScaleInput {
  /** Requests per single-user rotation by operation, measured (engine -> operation -> count). */
  readonly requestsPerRotation: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Cache hits per second on one thread, measured. */
  readonly cacheHitsPerSecond: number;
  /** One warm rotation's handler time in milliseconds, measured (for Lambda concurrency). */
  readonly rotationMs: number;
}

/** The AWS templates' 14 requests (rotation-anchors): one Put and one UpdateSecretVersionStage per rotation. */
const TEMPLATE_REQUESTS: Readonly<Record<string, number>> = {
  DescribeSecret: 5,
  GetSecretValue: 6,
  GetRandomPassword: 1,
  PutSecretValue: 1,
  UpdateSecretVersionStage: 1,
};

interface Capacity {
  readonly quota: Quota;
  readonly perRotation: number;
  readonly rotationsPerSecond: number;
}

function capacities(requests: Readonly<Record<string, number>>): Capacity[] {
  return QUOTAS.map((quota) => {
    const perRotation = quota.operations.reduce((sum, op) => sum + (requests[op] ?? 0), 0);
    return { quota, perRotation, rotationsPerSecond: perRotation === 0 ? Number.POSITIVE_INFINITY : quota.perSecond / perRotation };
  });
}

function bottleneck(requests: Readonly<Record<string, number>>): Capacity {
  return capacities(requests).reduce((a, b) => (b.rotationsPerSecond < a.rotationsPerSecond ? b : a));
}

const FLEET = 100_000;
const WRITE_QUOTA_PER_SECOND = 50;

function writesNote(input: AwsScaleInput): string {
  const writes = Math.max(
    ...Object.values(input.requestsPerRotation).map(
      (r) => (r.PutSecretValue ?? 0) + (r.UpdateSecretVersionStage ?? 0) + (r.UpdateSecret ?? 0),
    ),
  );
  const templateWrites = (TEMPLATE_REQUESTS.PutSecretValue ?? 0) + (TEMPLATE_REQUESTS.UpdateSecretVersionStage ?? 0);
  const base = `- The write quota (PutSecretValue + UpdateSecret + UpdateSecretVersionStage, ${WRITE_QUOTA_PER_SECOND}/s, not adjustable) binds first: ${writes} writes per rotation here, ${templateWrites} in the templates.`;
  if (writes <= templateWrites) return base;
  return `${base} The extra write is finishSecret's explicit AWSPENDING removal; dropping it (AWS accepts either end state) would raise the ceiling from ${num(WRITE_QUOTA_PER_SECOND / writes, 1)} to ${num(WRITE_QUOTA_PER_SECOND / templateWrites, 1)} rotations per second.`;
}

export function renderAwsScale(input: AwsScaleInput): string {
  const engines = Object.keys(input.requestsPerRotation);
  const rows: string[][] = [];
  for (const engine of engines) {
    for (const c of capacities(input.requestsPerRotation[engine]!)) {
      if (c.perRotation === 0 && c.quota.operations.includes('RotateSecret')) continue;
      rows.push([
        engine,
        c.quota.name,
        num(c.perRotation),
        num(c.quota.perSecond),
        Number.isFinite(c.rotationsPerSecond) ? num(c.rotationsPerSecond, 1) : '∞',
      ]);
    }
  }
  const limits = [
    ...engines.map((e) => [e, input.requestsPerRotation[e]!] as const),
    ['AWS template (anchor)', TEMPLATE_REQUESTS] as const,
  ].map(([label, requests]) => {
    const b = bottleneck(requests);
    return [
      label,
      b.quota.name,
      num(b.rotationsPerSecond, 1),
      num(b.rotationsPerSecond * 3600),
      num(FLEET / (b.rotationsPerSecond * 3600), 2),
    ];
  });
  const worst = Math.min(...engines.map((e) => bottleneck(input.requestsPerRotation[e]!).rotationsPerSecond));
  const concurrency = worst * (input.rotationMs / 1000);
  return [
    '## 5. At AWS scale, on paper',
    '',
    "Requests per single-user rotation are the ones counted in section 1 of this run; quotas are the documented defaults per account and region (sources below). A scheduled rotation's RotateSecret is made by the service, so only the function's own requests are charged here.",
    '',
    table(['engine', 'quota', 'requests per rotation', 'quota per second', 'rotations per second it allows'], rows),
    '',
    table(
      [
        'function',
        'binding quota',
        'rotations per second',
        'rotations per hour per account and region',
        `hours to rotate ${num(FLEET)} secrets`,
      ],
      limits,
    ),
    '',
    `**Cache reads one function instance can serve:** ${num(input.cacheHitsPerSecond)} hits per second on one thread (section 3, measured here), with no Secrets Manager request on the read path: an instance makes one GetSecretValue per secret per TTL (300 s by default) plus a background refresh, whatever its read rate. Against the 10,000/s GetSecretValue quota that is room for about ${num(10_000 * 300)} (instance × secret) pairs per account and region at the default TTL, where an uncached reader at 10 reads per second per secret would exhaust the quota with ${num(1000)} pairs.`,
    '',
    `**What changes for ${num(FLEET)} secrets:**`,
    '',
    `- Rotating all of them inside one window needs at least ${num(FLEET / (worst * 3600), 2)} hours at the binding quota (${num(worst, 1)} rotations per second); a 30-day schedule averages ${num(FLEET / 30 / 86400, 3)} rotations per second, far below it, but schedules must be spread (different \`ScheduleExpression\` hours or windows per group): ${num(FLEET)} secrets sharing one 1-hour window would be throttled, and the throttled steps fail and are retried by Secrets Manager.`,
    writesNote(input),
    `- Lambda: at the quota ceiling about ${num(Math.max(1, concurrency), 1)} concurrent executions at this run's warm rotation time (${num(input.rotationMs, 1)} ms; real AWS round trips are slower, so budget several times more). One shared function per engine × strategy with \`sharedSecretNamePattern\` keeps the resource policy to one statement instead of ${num(FLEET)} (a function policy is capped at 20 KB).`,
    `- Secrets Manager holds up to 500,000 secrets per account and region; ${num(FLEET)} secrets cost ${num(FLEET * 0.4)} USD a month at 0.40 USD per secret, and each rotation's ~${num(Object.values(input.requestsPerRotation[engines[0]!] ?? {}).reduce((a, b) => a + b, 0))} requests cost 0.05 USD per 10,000.`,
    '- The databases see at most the rotations in flight times the sessions one rotation holds at once (section 4 measures it); `max_connections` must leave room for that next to the applications.',
    '',
    'Sources: ' + [...new Set(QUOTAS.map((q) => q.source))].join('; ') + '.',
    '',
  ].join('\n');
}
