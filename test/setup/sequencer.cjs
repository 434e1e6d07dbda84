// Jest's order of test files, with a hint for a clean clone.
//
// Jest starts the longest files first, so that no worker runs one alone at the end. It knows their
// length only from its cache of earlier runs; without one (CI's clean clone) it starts the largest files
// first, and the heaviest files here are among the smallest: a fault sweep is five lines calling
// test/support. They then started last, and one ran alone for minutes while the other worker idled.
// So a file with no cached time takes its weight from the table below (relative seconds of one CI run;
// only the order matters), and a file not in it comes after those, in Jest's own order. With a cache
// (a second run on the same machine), Jest's measured times decide, as before.
/* global require, module -- loaded by Jest as plain CommonJS, before any transform */
/* eslint-disable @typescript-eslint/no-require-imports */
const Sequencer = require('@jest/test-sequencer').default;

/** The heaviest files, by how long each ran in a CI run of the whole suite; a path suffix each. */
const WEIGHTS = {
  'test/reliability/path-fault-sweep.postgres-single.test.ts': 279,
  'test/reliability/path-fault-sweep.mysql.test.ts': 227,
  'test/package/consumer.test.ts': 206,
  'test/reliability/fault-sweep.postgres.test.ts': 158,
  'test/unit/docs-snippets.unit.test.ts': 131,
  'test/reliability/path-fault-sweep.postgres-alternate.test.ts': 123,
  'test/reliability/fault-sweep.mysql.test.ts': 107,
  'test/local/localstack-stand-in.test.ts': 92,
  'test/reliability/rotation-model.test.ts': 92,
  'test/local/rotate-local-stand-in.test.ts': 90,
  'test/reliability/races.test.ts': 87,
  'test/versions/postgres-versions-15-18.test.ts': 86,
  'test/reliability/hostile-input.test.ts': 85,
  'test/cdk/example-app-nag.unit.test.ts': 64,
  'test/cdk/bundling.test.ts': 57,
  'test/cdk/rotation-stack.unit.test.ts': 52,
  'test/versions/postgres-versions-12-14.test.ts': 49,
};

function weightOf(path) {
  const normalized = path.split('\\').join('/');
  for (const [suffix, weight] of Object.entries(WEIGHTS)) if (normalized.endsWith(suffix)) return weight;
  return 0;
}

class HeaviestFirstSequencer extends Sequencer {
  sort(tests) {
    const ordered = super.sort(tests);
    if (ordered.every((test) => test.duration != null)) return ordered;
    // Array.prototype.sort is stable: files of equal weight (all the unlisted ones) keep Jest's order.
    return [...ordered].sort((a, b) => weightOf(b.path) - weightOf(a.path));
  }
}

module.exports = HeaviestFirstSequencer;
module.exports.WEIGHTS = WEIGHTS;
