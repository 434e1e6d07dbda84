// Jest transpiles each file on its own (tsconfig's isolatedModules) and does not type-check:
// `npm run typecheck` is its own step.
import type { Config } from 'jest';

const config: Config = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.json' }] },
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  // The suite-wide leak scan: every file's output is captured, the teardown scans it and the server logs.
  setupFilesAfterEnv: ['<rootDir>/test/setup/capture-output.ts'],
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  // Integration suites share two real servers; two workers match the two cores.
  maxWorkers: 2,
  testTimeout: 60_000,
  slowTestThreshold: 20,
};

export default config;
