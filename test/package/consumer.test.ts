/**
 * The package as its users get it: a fresh tree as git checks it out (no dist/) is built by npm's
 * `prepare` (what a git install runs), packed, and installed from the tarball into a fresh consumer
 * project outside the repo. Then, in that consumer:
 * - the reader install holds the Secrets Manager client's tree and nothing else: no database driver,
 *   no RDS client, no zod, no esbuild, no CDK;
 * - `db-secret-rotation-toolkit/shared` loads from CommonJS and from ESM without the CDK;
 * - the types of both entry points resolve under node10, node16 (CJS and ESM importers), nodenext and
 *   bundler resolution, and a reader compiles against them;
 * - `cdk synth` of both rotation functions needs neither esbuild nor the drivers: the assets are the
 *   pre-built bundles.
 * One consumer, one install (the registry serves the SDK; npm's cache makes it quick), several
 * assertions. aws-cdk-lib, constructs, @types/node and typescript come from the repo by symlink, after
 * the footprint was measured, to spare a 100 MB download per run.
 */
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import * as ts from 'typescript';

const run = promisify(execFile);
const ROOT = join(__dirname, '..', '..');
const NAME = 'db-secret-rotation-toolkit';
const NPM_FLAGS = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

let work: string;
let source: string;
let consumer: string;
let installed: Map<string, string>;

/** Every package directory under a node_modules tree (scoped and nested ones included), by path. */
function packagesUnder(nodeModules: string, out = new Map<string, string>()): Map<string, string> {
  if (!existsSync(nodeModules)) return out;
  for (const entry of readdirSync(nodeModules)) {
    if (entry.startsWith('.')) continue;
    const dirs = entry.startsWith('@') ? readdirSync(join(nodeModules, entry)).map((e) => join(entry, e)) : [entry];
    for (const name of dirs) {
      const dir = join(nodeModules, name);
      if (!existsSync(join(dir, 'package.json'))) continue;
      out.set(dir, name);
      packagesUnder(join(dir, 'node_modules'), out);
    }
  }
  return out;
}

/** The directories `from` reaches through `dependencies`, resolved as Node does (nearest node_modules up). */
function closure(from: string): Set<string> {
  const seen = new Set<string>();
  const queue = [from];
  while (queue.length > 0) {
    const dir = queue.pop()!;
    if (seen.has(dir)) continue;
    seen.add(dir);
    const deps = Object.keys((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: object }).dependencies ?? {});
    for (const dep of deps) {
      for (let up = dir; ; up = dirname(up)) {
        const candidate = join(up, 'node_modules', dep);
        if (existsSync(join(candidate, 'package.json'))) {
          queue.push(candidate);
          break;
        }
        if (dirname(up) === up) break;
      }
    }
  }
  return seen;
}

/** The bytes of every file under `dir` (apparent size, not disk blocks). */
function fileBytes(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += fileBytes(path);
    else if (entry.isFile()) total += statSync(path).size;
  }
  return total;
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pkgcli-consumer-'));
  // What a git install clones: tracked files (and new ones not ignored), never dist/ or node_modules/.
  source = join(work, 'source');
  const { stdout } = await run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], { cwd: ROOT, maxBuffer: 16 << 20 });
  for (const file of stdout.split('\0').filter((f) => f && existsSync(join(ROOT, f)))) {
    mkdirSync(dirname(join(source, file)), { recursive: true });
    cpSync(join(ROOT, file), join(source, file));
  }
  // The dev dependencies a git install puts in place before `prepare`, without installing them again.
  symlinkSync(join(ROOT, 'node_modules'), join(source, 'node_modules'), 'dir');
  await run('npm', ['run', 'prepare', '--silent'], { cwd: source, maxBuffer: 16 << 20 });
  await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work, ...NPM_FLAGS], { cwd: source });
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))!;

  consumer = join(work, 'consumer');
  mkdirSync(consumer);
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', version: '1.0.0', private: true }));
  await run('npm', ['install', join(work, tarball), ...NPM_FLAGS], { cwd: consumer, maxBuffer: 16 << 20 });
  installed = packagesUnder(join(consumer, 'node_modules'));
}, 600_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('installing from git: prepare builds a fresh checkout', () => {
  it('builds the compiled entry points, their types and both pre-built rotation bundles', () => {
    for (const file of [
      'lib/index.js',
      'lib/index.d.ts',
      'shared/index.js',
      'shared/index.d.ts',
      'bundles/postgres-rotation/index.js',
      'bundles/mysql-rotation/index.js',
    ]) {
      expect([file, existsSync(join(source, 'dist', file))]).toEqual([file, true]);
    }
  });
});

describe('the reader install', () => {
  it('holds the Secrets Manager client and its own dependencies, and nothing else', () => {
    const names = [...installed.values()];
    for (const absent of ['pg', 'mysql2', 'zod', '@aws-sdk/client-rds', 'esbuild', 'aws-cdk-lib', 'constructs']) {
      expect([absent, names.includes(absent)]).toEqual([absent, false]);
    }
    const sdk = join(consumer, 'node_modules', '@aws-sdk', 'client-secrets-manager');
    const expected = new Set([join(consumer, 'node_modules', NAME), ...closure(sdk)]);
    expect([...installed.keys()].filter((dir) => !expected.has(dir)).map((dir) => installed.get(dir))).toEqual([]);
    // Loose ceilings (measured: 25 packages, 10 MB of files): the set above is the contract.
    expect(installed.size).toBeLessThan(40);
    expect(fileBytes(join(consumer, 'node_modules')) / 1e6).toBeLessThan(20);
  });

  it('loads db-secret-rotation-toolkit/shared from CommonJS and from ESM, with no CDK installed', async () => {
    const cjs = await run(
      process.execPath,
      ['-e', `const s = require('${NAME}/shared'); process.stdout.write([typeof s.SecretCache, typeof s.ConfigLoader].join())`],
      { cwd: consumer },
    );
    expect(cjs.stdout).toBe('function,function');
    const esm = await run(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { SecretCache, ConfigLoader } from '${NAME}/shared'; process.stdout.write([typeof SecretCache, typeof ConfigLoader].join())`,
      ],
      { cwd: consumer },
    );
    expect(esm.stdout).toBe('function,function');
  });
});

describe('with the CDK beside it (symlinked from the repo)', () => {
  beforeAll(() => {
    mkdirSync(join(consumer, 'node_modules', '@types'), { recursive: true });
    for (const name of ['aws-cdk-lib', 'constructs', '@types/node']) {
      symlinkSync(join(ROOT, 'node_modules', name), join(consumer, 'node_modules', name), 'dir');
    }
  });

  it('types resolve to the shipped declarations under node10, node16 (CJS and ESM importers), nodenext and bundler', () => {
    const from = join(consumer, 'index.ts');
    const settings: Array<[string, ts.CompilerOptions, ts.ResolutionMode]> = [
      ['node10', { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 }, undefined],
      ['node16 cjs', { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 }, ts.ModuleKind.CommonJS],
      ['node16 esm', { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 }, ts.ModuleKind.ESNext],
      ['nodenext esm', { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext }, ts.ModuleKind.ESNext],
      ['bundler', { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler }, undefined],
    ];
    const resolved = settings.flatMap(([label, options, mode]) =>
      [
        [NAME, 'lib'],
        [`${NAME}/shared`, 'shared'],
      ].map(([specifier, dir]) => {
        const result = ts.resolveModuleName(specifier!, from, options, ts.sys, undefined, undefined, mode).resolvedModule;
        return [label, specifier, result?.resolvedFileName.endsWith(join(NAME, 'dist', dir!, 'index.d.ts')) ?? false];
      }),
    );
    expect(resolved.filter(([, , ok]) => !ok)).toEqual([]);
  });

  it('a reader compiles against the shipped types, and cdk synth uses the pre-built bundles with no esbuild or drivers', async () => {
    const reader = [
      `import { ConfigLoader, SecretCache, type StandardSchemaV1 } from '${NAME}/shared';`,
      'const schema: StandardSchemaV1<unknown, { port: number }> = {',
      "  '~standard': { version: 1, vendor: 'consumer', validate: (value) => ({ value: value as { port: number } }) },",
      '};',
      "export const port: Promise<number> = new ConfigLoader(new SecretCache()).load('app/db', schema).then((c) => c.port);",
    ].join('\n');
    writeFileSync(join(consumer, 'reader.ts'), reader);
    writeFileSync(join(consumer, 'reader.mts'), reader);
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
        },
        files: ['reader.ts', 'reader.mts'],
      }),
    );
    const synth = [
      "const { App, Stack } = require('aws-cdk-lib');",
      `const { RotationFunction, RotationEngine, RotationStrategy } = require('${NAME}');`,
      "const fs = require('fs'); const path = require('path');",
      'const outdir = process.argv[1];',
      'const app = new App({ outdir });',
      "const stack = new Stack(app, 'Consumer');",
      'const fns = [RotationEngine.POSTGRES, RotationEngine.MYSQL].map((engine) =>',
      '  new RotationFunction(stack, engine, { engine, strategy: RotationStrategy.SINGLE_USER }));',
      'app.synth();',
      `const here = [path.dirname(require.resolve('${NAME}'))];`,
      "const resolvable = ['esbuild', 'pg', 'mysql2'].filter((m) => { try { require.resolve(m, { paths: here }); return true; } catch { return false; } });",
      "const assets = fs.readdirSync(outdir).filter((d) => d.startsWith('asset.')).map((d) => fs.readdirSync(path.join(outdir, d)).join('+'));",
      'process.stdout.write(JSON.stringify({ fromSource: fns.map((f) => f.bundledFromSource), resolvable, assets }));',
    ].join('\n');
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const [compiled, synthesized] = await Promise.all([
      run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer }).then(
        () => 'compiled',
        (err: { stdout?: string }) => err.stdout ?? String(err),
      ),
      run(process.execPath, ['-e', synth, join(work, 'cdk.out')], { cwd: consumer, maxBuffer: 16 << 20 }),
    ]);
    expect(compiled).toBe('compiled');
    expect(JSON.parse(synthesized.stdout)).toEqual({ fromSource: [false, false], resolvable: [], assets: ['index.js', 'index.js'] });
    // A hang guard, not a timing assertion: tsc and a cdk synth that loads aws-cdk-lib run side by side,
    // and on two cores shared with other test files they took over a minute (a CI run failed so).
  }, 180_000);
});
