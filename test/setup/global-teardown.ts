/**
 * Runs once after all suites: the suite-wide leak scan. Every value in the register (passwords the
 * fixtures created, the tests read, the rotations generated) is searched for in everything the test
 * files printed and in what both servers logged with statement logging on. Statement logging is turned
 * back off whatever happens; a leak fails the run, named by its number in the register, never its value.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { recordFigure } from '../reliability/figures';
import { LeakScanner, describeLeaks, readSensitiveValues } from './leak-scanner';
import { readServerLogs, stopStatementLogging, type ServerLogMarks } from './server-logs';

export default async function globalTeardown(): Promise<void> {
  const marksText = process.env.ROTATION_TOOLKIT_SERVER_LOG_MARKS;
  const marks = marksText ? (JSON.parse(marksText) as ServerLogMarks) : undefined;
  const registerFile = process.env.ROTATION_TOOLKIT_SENSITIVE_FILE;
  const captureDir = process.env.ROTATION_TOOLKIT_CAPTURE_DIR;
  const problems: string[] = [];
  try {
    const values = readSensitiveValues(registerFile);
    const scanner = new LeakScanner(values);
    const sources: Array<{ name: string; text: string }> = [];
    if (captureDir !== undefined && existsSync(captureDir)) {
      for (const name of readdirSync(captureDir)) {
        const path = join(captureDir, name);
        if (statSync(path).isFile()) sources.push({ name: `test output (${name})`, text: readFileSync(path, 'utf8') });
      }
    }
    if (marks !== undefined) {
      const logs = await readServerLogs(marks);
      if (logs.postgres !== undefined) sources.push({ name: 'PostgreSQL server log', text: logs.postgres });
      else problems.push('the PostgreSQL server log could not be read (set PG_SERVER_LOG): it was not scanned');
      sources.push({ name: 'MariaDB general log', text: logs.mysql });
    }
    let leaks = 0;
    for (const source of sources) {
      const found = scanner.scan(source.text);
      leaks += found.length;
      problems.push(...describeLeaks(source.name, found));
      recordFigure(`leakscan.bytes.${source.name.replace(/ \(.*\)$/, '')}`, source.text.length);
    }
    recordFigure('leakscan.values', scanner.size);
    recordFigure('leakscan.sources', sources.length);
    recordFigure('leakscan.leaks', leaks);
    if (leaks > 0) throw new Error(`Leak scan: ${leaks} registered secret value(s) found:\n${problems.join('\n')}`);
    for (const p of problems) process.stderr.write(`leak scan: ${p}\n`);
  } finally {
    if (marks !== undefined) await stopStatementLogging();
    // The register and the captured output hold passwords of dropped throw-away users: no reason to keep them.
    if (captureDir !== undefined) rmSync(captureDir, { recursive: true, force: true });
    if (registerFile !== undefined) rmSync(registerFile, { force: true });
  }
}
