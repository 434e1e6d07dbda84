/**
 * `npm run build:bundles` (part of `npm run build`, so of prepack and prepare): the rotation functions
 * pre-built into dist/bundles/<engine>-rotation/ (index.js and its map), with the esbuild options of
 * lib/rotation-bundling.ts, so a consumer's `cdk synth` needs neither esbuild, Docker nor the drivers.
 * The metafiles go beside the bundle directories (dist/bundles/<name>.meta.json), outside the asset.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { build, type BuildOptions } from 'esbuild';
import { prebuiltBundleDirectory, rotationBundleSettings, toEsbuildBuildOptions } from '../lib/rotation-bundling';
import { RotationEngine, rotationEntryCandidates } from '../lib/rotation-engine';

const ROOT = join(__dirname, '..');

async function main(): Promise<void> {
  for (const engine of Object.values(RotationEngine)) {
    const entry = rotationEntryCandidates(engine)[0]!; // the TypeScript source
    const outdir = prebuiltBundleDirectory(engine, join(ROOT, 'dist', 'lib'));
    rmSync(outdir, { recursive: true, force: true });
    mkdirSync(outdir, { recursive: true });
    const result = await build(toEsbuildBuildOptions(rotationBundleSettings(engine, entry), entry, outdir) as BuildOptions);
    if (result.metafile) writeFileSync(`${outdir}.meta.json`, JSON.stringify(result.metafile));
    const bytes = Object.entries(result.metafile?.outputs ?? {}).find(([file]) => file.endsWith('index.js'))?.[1].bytes;
    process.stderr.write(`build:bundles: ${basename(outdir)}/index.js ${bytes ?? '?'} bytes\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`build:bundles failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
