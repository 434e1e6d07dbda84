/**
 * Runs a repo command as a user would (a separate process tree: npm, tsx, cdklocal, the CDK CLI) with
 * outbound-guard.cjs preloaded into every Node process of it: the result lists every TCP connection the
 * tree opened, and anything not on loopback was cut, so the command cannot reach the internet.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Connection {
  readonly pid: number;
  readonly host: string;
  readonly port: number;
  /** False when the guard cut it (not loopback). */
  readonly allowed: boolean;
}

export interface GuardedResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly connections: readonly Connection[];
  readonly ms: number;
}

const ROOT = join(__dirname, '..', '..');
const GUARD = join(__dirname, 'outbound-guard.cjs');

/**
 * @param env added to this process's environment, after every `AWS_*` and `LOCALSTACK_*` variable of
 *   the test's own environment is removed (a value of undefined removes one more)
 */
export function runGuarded(
  command: string,
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<GuardedResult> {
  const dir = mkdtempSync(join(tmpdir(), 'lstack-guard-'));
  const log = join(dir, 'connections.jsonl');
  const childEnv: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('LOCALSTACK_')) childEnv[key] = value;
  }
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  childEnv.NODE_OPTIONS = [process.env.NODE_OPTIONS, `--require ${GUARD}`].filter(Boolean).join(' ');
  childEnv.OUTBOUND_GUARD_LOG = log;
  // npm's own update check is npm's business, not the command's: keep it out of the record.
  childEnv.npm_config_update_notifier = 'false';
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => {
      let connections: Connection[] = [];
      try {
        connections = readFileSync(log, 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line) as Connection);
      } catch {
        // No connection at all: no log file.
      }
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, stdout, stderr, connections, ms: Date.now() - started });
    });
  });
}
