/** The result of `rotate:local`: a compact table for people, a JSON document for scripts. */
import { formatDuration, renderTable } from '../../operator/text-table';
import { ROTATION_STEPS } from '../../shared/rotation/event';
import type { RotationRun, ScenarioResult } from './run-scenario';
import type { TargetKind } from './target';

export interface RotateLocalReport {
  readonly ok: boolean;
  readonly target: { readonly kind: TargetKind; readonly endpoint: string };
  readonly scenarios: readonly ScenarioResult[];
}

export function buildReport(kind: TargetKind, endpoint: string, scenarios: readonly ScenarioResult[]): RotateLocalReport {
  return { ok: scenarios.length > 0 && scenarios.every((s) => s.outcome === 'succeeded'), target: { kind, endpoint }, scenarios };
}

/** One row per scenario; step times are the mean over its rotations. */
export function renderReportTable(report: RotateLocalReport): string {
  const rows = report.scenarios.map((s) => [
    s.engine,
    s.strategy,
    s.outcome === 'succeeded' ? 'ok' : 'FAILED',
    `${s.rotations.filter((r) => r.outcome === 'succeeded').length}/${s.rotations.length || '-'}`,
    formatDuration(s.setupMs),
    ...ROTATION_STEPS.map((step) => meanOf(s.rotations, (r) => r.steps[step])),
    meanOf(s.rotations, (r) => r.rotateMs),
    meanOf(s.rotations, (r) => r.verifyMs),
  ]);
  const table = renderTable(
    [
      { header: 'engine' },
      { header: 'strategy' },
      { header: 'outcome' },
      { header: 'rotations', align: 'right' },
      { header: 'setup', align: 'right' },
      ...ROTATION_STEPS.map((step) => ({ header: step, align: 'right' as const })),
      { header: 'rotate', align: 'right' },
      { header: 'verify', align: 'right' },
    ],
    rows,
  );
  const failures = report.scenarios.flatMap((s) => {
    const where = `${s.engine} ${s.strategy}`;
    if (s.error) return [`${where}: ${s.error}`];
    const failed = s.rotations.find((r) => r.outcome === 'failed');
    return failed ? [`${where}: rotation ${failed.index}: ${failed.error ?? 'failed'}`] : [];
  });
  const footer = report.ok
    ? `All ${report.scenarios.length} scenario(s) rotated and verified; target: ${describeTarget(report.target.kind, report.target.endpoint)}.`
    : `${failures.length} scenario(s) failed:`;
  return [table, '', footer, ...failures.map((f) => `  ${f}`)].join('\n');
}

/**
 * `embedded endpoint http://…`, `LocalStack http://…`, `endpoint http://…`: the kind said once (the
 * kind `endpoint` used to read "endpoint endpoint").
 */
export function describeTarget(kind: TargetKind, endpoint: string): string {
  if (kind === 'localstack') return `LocalStack ${endpoint}`;
  return kind === 'embedded' ? `embedded endpoint ${endpoint}` : `endpoint ${endpoint}`;
}

function meanOf(runs: readonly RotationRun[], pick: (run: RotationRun) => number | undefined): string {
  const values = runs.map(pick).filter((v): v is number => v !== undefined);
  if (values.length === 0) return '-';
  return formatDuration(values.reduce((a, b) => a + b, 0) / values.length);
}
