/**
 * A plain-text table for terminals: columns padded to their widest cell, a rule under the header.
 * Cells are single-line: a newline inside one would break the columns, so it is shown as a space.
 */

export type Align = 'left' | 'right';

export interface TableColumn {
  readonly header: string;
  readonly align?: Align;
}

export function renderTable(columns: readonly TableColumn[], rows: ReadonlyArray<readonly string[]>): string {
  const clean = (cell: string | undefined): string => (cell ?? '').replace(/[\r\n\t]+/g, ' ');
  const body = rows.map((row) => columns.map((_, i) => clean(row[i])));
  const widths = columns.map((col, i) => Math.max(col.header.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (columns[i]!.align === 'right' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Milliseconds as a short human duration: `850 ms`, `1.2 s`, `2 min 05 s`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  return `${minutes} min ${String(seconds).padStart(2, '0')} s`;
}
