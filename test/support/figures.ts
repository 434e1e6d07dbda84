/**
 * Figures for RELIABILITY.md, written by the suites as they run: one JSON line per figure in a file
 * next to the leak register, so every jest worker adds to the same record.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const FIGURES_FILE = join(__dirname, '..', '..', '.tmp', 'reliability-figures.jsonl');

export function recordFigure(name: string, value: number | string): void {
  mkdirSync(join(FIGURES_FILE, '..'), { recursive: true });
  appendFileSync(FIGURES_FILE, `${JSON.stringify({ name, value, at: new Date().toISOString() })}\n`);
}
