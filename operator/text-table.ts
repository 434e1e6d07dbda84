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
  // Rounded before it is split, so 59.96 s reads `1 min 00 s`, never `60.0 s` or `0 min 60 s`.
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${String(seconds % 60).padStart(2, '0')} s`;
}
