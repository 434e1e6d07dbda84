/**
 * Flag parsing for the operator and local-loop commands: `--name value`, `--name=value` and boolean
 * `--name`. Unknown flags and stray words are errors, so a typo never silently runs the default action.
 */
import { ConfigError } from '../../shared/errors';

export type FlagKind = 'string' | 'boolean';
export type FlagSpec = Readonly<Record<string, FlagKind>>;

export type ParsedFlags<S extends FlagSpec> = {
  -readonly [K in keyof S]?: S[K] extends 'boolean' ? boolean : string;
};

export function parseFlags<S extends FlagSpec>(argv: readonly string[], spec: S): ParsedFlags<S> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') continue;
    if (!arg.startsWith('--')) throw new ConfigError(`Unexpected argument "${arg}"; flags start with --`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq >= 0 ? eq : undefined);
    const kind = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      throw new ConfigError(`Unknown flag --${name}; known: ${Object.keys(spec).map((k) => `--${k}`).join(', ')}`);
    }
    if (kind === 'boolean') {
      if (eq >= 0) throw new ConfigError(`--${name} takes no value`);
      out[name] = true;
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : argv[i + 1];
    if (eq < 0) i += 1;
    if (value === undefined || value === '' || (eq < 0 && value.startsWith('--'))) {
      throw new ConfigError(`--${name} needs a value`);
    }
    out[name] = value;
  }
  return out as ParsedFlags<S>;
}
