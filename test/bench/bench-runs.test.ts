/**
 * `npm run bench` is not part of the suite (its numbers belong in BENCHMARKS.md, never in timed tests),
 * so nothing else would notice it breaking: a change once made every alternating MySQL rotation of the
 * benchmark fail while every test passed. This runs its rotation section once, into a temporary file,
 * and checks what it counts, never how long anything took.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

function runBench(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('bench', 'run.ts'), ...args], {
      cwd: ROOT,
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('npm run bench', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-runs-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('rotates every engine × strategy and reports the request, write and login counts of issue 14 as met', async () => {
    const output = join(dir, 'BENCHMARKS.md');
    const result = await runBench(['--only', 'rotation-latency', '--runs', '1', '--idle-wait', '0', '--output', output]);
    expect(result.stderr).not.toMatch(/\[bench\] failed/);
    expect(result.code).toBe(0);
    const report = readFileSync(output, 'utf8');
    for (const combo of ['postgres single-user', 'postgres alternating-users', 'mysql single-user', 'mysql alternating-users']) {
      const limit = combo.endsWith('single-user') ? 11 : 12;
      expect(report).toMatch(new RegExp(`\\| ${combo}: SM requests ≤ ${limit} \\| \\d+ \\| \\*\\*met\\*\\*`));
      expect(report).toMatch(new RegExp(`\\| ${combo}: writes ≤ 2 \\| 2 \\| \\*\\*met\\*\\*`));
      expect(report).toMatch(new RegExp(`\\| ${combo}: no refused login \\| 0 \\| \\*\\*met\\*\\*`));
    }
  }, 120_000);
});
