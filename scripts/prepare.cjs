#!/usr/bin/env node
/**
 * `prepare`: npm runs it when installing this package from git (and on a plain `npm install` in a
 * checkout, and before pack). A git install has no dist/, so it builds (`npm run build`: the compiled
 * lib/shared and the pre-built rotation bundles); where dist/ is already complete it does nothing, so
 * npm's second run in a git install, and every `npm install` in a working checkout after the first,
 * cost nothing. `npm pack` and publish rebuild from clean through `prepack` regardless.
 */
/* global require, __dirname, process -- plain Node, no build step: it runs before anything is compiled */
/* eslint-disable @typescript-eslint/no-require-imports */
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { spawnSync } = require('node:child_process');

const root = join(__dirname, '..');
const outputs = [
  'dist/lib/index.js',
  'dist/shared/index.js',
  'dist/bundles/postgres-rotation/index.js',
  'dist/bundles/mysql-rotation/index.js',
];
if (outputs.every((file) => existsSync(join(root, file)))) process.exit(0);
process.stderr.write('prepare: dist/ is not built: running `npm run build`\n');
const npm = process.env.npm_execpath
  ? [process.execPath, [process.env.npm_execpath, 'run', 'build']]
  : [process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', 'build']];
const run = spawnSync(npm[0], npm[1], { cwd: root, stdio: 'inherit' });
process.exit(run.status ?? 1);
