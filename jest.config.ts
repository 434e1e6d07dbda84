// Two tiers, chosen by the file name alone:
// - `*.unit.test.ts` is the unit tier (`npm run test:unit`): no database, no network, no socket to any
//   server (not even one the test starts on loopback), no child process. Pure modules, SQL builders against
//   recorded or fake sessions, CDK templates and cdk-nag. It runs without the global setup, so it passes
//   on a machine with neither server.
// - every other `*.test.ts` is the integration tier: real PostgreSQL and MariaDB, the embedded Secrets
//   Manager endpoint, spawned CLIs and bundles. Its global setup refuses to run while a server accepts a
//   wrong password, and its teardown runs the suite-wide leak scan.
// A file that opens any connection, socket or process belongs to the integration tier; when in doubt,
// leave off `.unit`: a unit file that needs a server fails `npm run test:unit`, never the other way round.
// `npm test` (and so `.ci/run`) runs both projects.
//
// Jest transpiles each file on its own (tsconfig's isolatedModules) and does not type-check:
// `npm run typecheck` is its own step.
import type { Config } from 'jest';

type ProjectConfig = Exclude<NonNullable<Config['projects']>[number], string>;

const common: ProjectConfig = {
  rootDir: __dirname,
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  // The suite-wide leak scan: every file's output is captured, the teardown scans it and the server logs.
  // Inert without the integration tier's global setup (no register, no capture directory).
  setupFilesAfterEnv: ['<rootDir>/test/setup/capture-output.ts'],
};

const config: Config = {
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.unit.test.ts'] },
    {
      ...common,
      displayName: 'integration',
      testMatch: ['**/*.test.ts'],
      testPathIgnorePatterns: ['/node_modules/', '\\.unit\\.test\\.ts$'],
      globalSetup: '<rootDir>/test/setup/global-setup.ts',
      globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
    },
  ],
  // Integration suites share two real servers; two workers match the two cores.
  maxWorkers: 2,
  // Heaviest files first on a clean clone too (no timing cache): see the file.
  testSequencer: '<rootDir>/test/setup/sequencer.cjs',
  testTimeout: 60_000,
  slowTestThreshold: 20,
};

export default config;
