/**
 * A suite-wide register of every password the tests and fixtures create or read, so the leak scan can
 * search all output for them. Active only when ROTATION_TOOLKIT_SENSITIVE_FILE names a file (the jest
 * global setup sets it); a no-op for the CLI.
 */
import { appendFileSync } from 'node:fs';

export function noteSensitive(...values: ReadonlyArray<string | undefined>): void {
  const file = process.env.ROTATION_TOOLKIT_SENSITIVE_FILE;
  if (!file) return;
  const lines = values.filter((v): v is string => typeof v === 'string' && v.length >= 8);
  if (lines.length === 0) return;
  // One JSON string per line: passwords may hold any character, newlines included.
  appendFileSync(file, lines.map((v) => JSON.stringify(v)).join('\n') + '\n');
}
