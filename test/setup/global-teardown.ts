/**
 * Runs once after all suites: the suite-wide leak scan of output. Every value in the register (passwords
 * the fixtures created, the tests read, the rotations generated) is searched for in everything the test
 * files printed; a leak fails the run, named by its number in the register, never its value. What the
 * servers were sent is not scanned here (the shared servers' logging is never switched on by a test):
 * test/reliability/server-statement-logs.test.ts scans the statement logs of private servers.
 */
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { recordFigure } from '../support/figures';
import { LeakScanner, describeLeaks, readSensitiveValues } from './leak-scanner';

export default function globalTeardown(): void {
  const registerFile = process.env.ROTATION_TOOLKIT_SENSITIVE_FILE;
  const captureDir = process.env.ROTATION_TOOLKIT_CAPTURE_DIR;
  try {
    const scanner = new LeakScanner(readSensitiveValues(registerFile));
    const sources: Array<{ name: string; text: string }> = [];
    if (captureDir !== undefined && existsSync(captureDir)) {
      for (const name of readdirSync(captureDir)) {
        const path = join(captureDir, name);
        if (statSync(path).isFile()) sources.push({ name: `test output (${name})`, text: readFileSync(path, 'utf8') });
      }
    }
    const problems: string[] = [];
    let leaks = 0;
    let bytes = 0;
    for (const source of sources) {
      const found = scanner.scan(source.text);
      leaks += found.length;
      bytes += source.text.length;
      problems.push(...describeLeaks(source.name, found));
    }
    recordFigure('leakscan.bytes.test output', bytes);
    recordFigure('leakscan.values', scanner.size);
    recordFigure('leakscan.sources', sources.length);
    recordFigure('leakscan.leaks', leaks);
    if (leaks > 0) throw new Error(`Leak scan: ${leaks} registered secret value(s) found:\n${problems.join('\n')}`);
  } finally {
    // The register and the captured output hold passwords of dropped throw-away users: no reason to keep them.
    if (captureDir !== undefined) rmSync(captureDir, { recursive: true, force: true });
    if (registerFile !== undefined) rmSync(registerFile, { force: true });
  }
}
