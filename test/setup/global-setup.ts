/**
 * Runs once before all suites: refuses to run while a server accepts a wrong password (every rotation
 * test would pass for the wrong reason), sweeps fixture users left by crashed runs, and starts the
 * suite-wide leak scan: the register of sensitive values and the directory where every test file's
 * output is copied (global-teardown.ts scans the one for the other). It changes no server setting: what
 * the servers were sent is scanned by test/reliability/server-statement-logs.test.ts, on private servers
 * that log every statement.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyPasswordAuth } from '../../local/db-setup';
import { sweepMysqlUsers, sweepPostgresUsers } from '../../local/fixtures';

export default async function globalSetup(): Promise<void> {
  try {
    await verifyPasswordAuth();
  } catch (err) {
    // One line saying what to do, before jest's own report of the failed setup.
    console.error(`\n${err instanceof Error ? err.message : String(err)}\n`);
    throw err;
  }
  await Promise.all([sweepPostgresUsers(), sweepMysqlUsers()]);
  const dir = join(__dirname, '..', '..', '.tmp');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `sensitive-values-${process.pid}.jsonl`);
  writeFileSync(file, '');
  process.env.ROTATION_TOOLKIT_SENSITIVE_FILE = file;
  const captureDir = join(dir, `captured-output-${process.pid}`);
  mkdirSync(captureDir, { recursive: true });
  process.env.ROTATION_TOOLKIT_CAPTURE_DIR = captureDir;
}
