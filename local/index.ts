/**
 * The local loop: database fixtures and setup, used by tests, benchmarks and the CLI. Never bundled
 * into a Lambda.
 */
export * from './db-settings';
export * from './admin-connections';
export * from './db-setup';
export * from './fixtures';
export * from './sensitive-values';
export * from '../emulator';
