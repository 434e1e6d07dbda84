/** `rotation:status` output: a summary, the versions table, and what to do when stuck. */
import { formatDuration, renderTable } from './text-table';
import type { RotationStatus } from './rotation-status';

export function renderRotationStatus(status: RotationStatus, now: Date = new Date()): string {
  const r = status.rotation;
  const summary = renderTable(
    [{ header: 'field' }, { header: 'value' }],
    [
      ['secret', status.name],
      ['arn', status.arn],
      ['rotation', r.enabled ? 'enabled' : 'disabled'],
      ['function', r.lambdaArn ?? '-'],
      ['schedule', r.schedule ? `${r.schedule}${r.window ? ` (window ${r.window})` : ''}` : '-'],
      ['last rotated', status.lastRotatedDate ?? 'never'],
      ['next rotation', status.nextRotationDate ?? '-'],
      ['last changed', status.lastChangedDate ?? '-'],
      ...(status.deletedDate ? [['scheduled for deletion', status.deletedDate]] : []),
      ['stuck', status.stuck ? `yes: ${status.stuck.reason}` : 'no'],
    ],
  );
  const versions = renderTable(
    [{ header: 'version' }, { header: 'labels' }, { header: 'created' }, { header: 'age', align: 'right' }],
    status.versions.map((v) => [
      v.versionId,
      v.stages.length ? v.stages.join(', ') : '(none)',
      v.createdDate ?? '-',
      v.createdDate ? formatDuration(now.getTime() - Date.parse(v.createdDate)) : '-',
    ]),
  );
  const notes = [
    ...status.problems.map((p) => `problem: ${p}`),
    ...(status.stuck
      ? [
          `stuck: AWSPENDING is on ${status.stuck.pendingVersionId}; every later rotation is refused until it is resolved.`,
          `       see what would be done: npm run rotation:repair -- --secret-id ${quoteArg(status.name || status.arn)}`,
        ]
      : []),
  ];
  return [summary, '', versions, ...(notes.length ? ['', ...notes] : [])].join('\n');
}

/** A shell-safe rendering of an argument for the hint line. */
function quoteArg(value: string): string {
  return /^[A-Za-z0-9_./:@+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}
