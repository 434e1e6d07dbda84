/** Number formatting and Markdown tables for BENCHMARKS.md. */
import type { Summary } from './stats';

export function ms(value: number, digits = 1): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)} ms` : 'n/a';
}

export function num(value: number, digits = 0): string {
  if (!Number.isFinite(value)) return 'n/a';
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

export function times(value: number, digits = 2): string {
  return Number.isFinite(value) ? `${value.toFixed(digits)}×` : 'n/a';
}

export function kb(bytes: number, digits = 1): string {
  return `${num(bytes / 1024, digits)} KB`;
}

/** "median / p95" of a summary, in milliseconds. */
export function medianP95(summary: Summary, digits = 1): string {
  return `${ms(summary.median, digits)} / ${ms(summary.p95, digits)}`;
}

/** Goal verdicts are words, so a miss reads as a miss in any renderer. */
export function verdict(met: boolean): string {
  return met ? '**met**' : '**MISSED**';
}

export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
