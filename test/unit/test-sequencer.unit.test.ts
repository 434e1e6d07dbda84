/**
 * The order of test files on a clean clone: the heavy files named in test/setup/sequencer.cjs start
 * first, although they are small (Jest's fallback starts the largest first), and the table names no
 * file that is gone (a renamed file would silently lose its place).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const Sequencer = require('../setup/sequencer.cjs') as {
  new (): { sort(tests: FakeTest[]): FakeTest[] };
  WEIGHTS: Record<string, number>;
};

const ROOT = join(__dirname, '..', '..');

interface FakeTest {
  path: string;
  duration?: number;
  context: { config: { cacheDirectory: string; name: string }; hasteFS: { getSize(path: string): number } };
}

function testsOf(files: Record<string, number>): FakeTest[] {
  const context = {
    config: { cacheDirectory: join(ROOT, '.tmp', 'no-such-jest-cache'), name: 'sequencer-test' },
    hasteFS: { getSize: (path: string) => files[path.slice(ROOT.length + 1)] ?? 0 },
  };
  return Object.keys(files).map((file) => ({ path: join(ROOT, file), context }));
}

describe('test file order without a timing cache', () => {
  it('starts the listed heavy files first, heaviest first, then the rest by size as Jest does', () => {
    const order = new Sequencer()
      .sort(
        testsOf({
          'test/unit/big-but-quick.unit.test.ts': 90_000,
          'test/reliability/fault-sweep.mysql.test.ts': 279,
          'test/unit/small.unit.test.ts': 500,
          'test/reliability/path-fault-sweep.postgres-single.test.ts': 440,
        }),
      )
      .map((t) => t.path.slice(ROOT.length + 1));
    expect(order).toEqual([
      'test/reliability/path-fault-sweep.postgres-single.test.ts',
      'test/reliability/fault-sweep.mysql.test.ts',
      'test/unit/big-but-quick.unit.test.ts',
      'test/unit/small.unit.test.ts',
    ]);
  });

  it('names only files that exist', () => {
    expect(Object.keys(Sequencer.WEIGHTS).filter((file) => !existsSync(join(ROOT, file)))).toEqual([]);
  });
});
