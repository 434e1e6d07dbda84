/**
 * Where a rotation function's code and lock file are, and the guarantee that bundling runs on the local
 * esbuild. NodejsFunction silently falls back to Docker when esbuild is missing; offline and CI synths
 * must fail fast instead, with the fix in the message.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { ConfigError } from '../shared/errors';
import { RotationEngine, rotationEntryCandidates } from './rotation-engine';

const LOCK_FILES = ['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb'] as const;

/** The first existing handler file for the engine, or a ConfigError listing where it was looked for. */
export function resolveRotationEntry(engine: RotationEngine, candidates = rotationEntryCandidates(engine)): string {
  const found = candidates.find((candidate) => fs.existsSync(candidate));
  if (!found) {
    throw new ConfigError(`No ${engine} rotation handler found; looked for ${candidates.join(', ')}`);
  }
  return found;
}

/**
 * The nearest lock file at or above the entry: the toolkit's own in a checkout, the user's project's
 * when the toolkit is installed under node_modules (npm does not publish lock files).
 */
export function findLockFile(fromDirectory: string): string {
  let directory = path.resolve(fromDirectory);
  for (;;) {
    for (const name of LOCK_FILES) {
      const candidate = path.join(directory, name);
      if (fs.existsSync(candidate)) return candidate;
    }
    const parent = path.dirname(directory);
    if (parent === directory) {
      throw new ConfigError(`No lock file (${LOCK_FILES.join(', ')}) at or above ${fromDirectory}; pass depsLockFilePath explicitly`);
    }
    directory = parent;
  }
}

/** True when esbuild can be loaded from the project or from the toolkit itself. */
export function isEsbuildInstalled(searchPaths: readonly string[]): boolean {
  for (const searchPath of searchPaths) {
    try {
      require.resolve('esbuild', { paths: [searchPath] });
      return true;
    } catch {
      // try the next location
    }
  }
  return false;
}

/** Fails the synth when this stack will bundle and esbuild is missing, instead of trying Docker. */
export function assertLocalEsbuild(scope: IConstruct, projectRoot: string): void {
  if (!Stack.of(scope).bundlingRequired) return;
  if (isEsbuildInstalled([projectRoot, __dirname])) return;
  throw new ConfigError(
    `${scope.node.path}: esbuild is not installed. The rotation functions are bundled by the local esbuild ` +
      '(never Docker): run `npm install --save-dev esbuild` in the project that synthesizes this app',
  );
}
