/**
 * The command line of every `bin/` command, read by Node's own `util.parseArgs` in strict mode: unknown
 * flags, stray words and missing values are errors, so a typo never silently runs the default action.
 * Every command gets `--help` / `-h`; `--help` wins over everything else on the line, so asking for
 * usage never runs anything, not even when another flag is wrong.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../shared/errors';

/** One flag: a string that needs a value, or a boolean switch. Short aliases are single letters. */
export interface FlagSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
}

/** The flags a command accepts, by long name (without the leading `--`). */
export type FlagSpecs = Readonly<Record<string, FlagSpec>>;

/** What was given: strings for string flags, `true` for switches, absent when not given. */
export type ParsedFlags<S extends FlagSpecs> = {
  -readonly [K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string;
};

/** Either the flags, or a request for usage (nothing else should happen then). */
export type CommandLine<S extends FlagSpecs> = { readonly help: true } | { readonly help: false; readonly flags: ParsedFlags<S> };

const HELP: FlagSpec = { type: 'boolean', short: 'h' };

/**
 * Parses `argv` (without node and the script) against `specs`.
 * A single leading `--` is dropped: pnpm and yarn 1 pass the separator of `pnpm run x -- --json` through.
 * @throws ConfigError naming the flag or the stray word at fault (never a flag's value) when the line does not parse,
 *   and when a flag that takes a value is given twice (Node's parser would keep the last one silently).
 */
export function parseCommandLine<S extends FlagSpecs>(argv: readonly string[], specs: S): CommandLine<S> {
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  const options = { ...specs, help: HELP };
  let values: Record<string, string | boolean | undefined>;
  let tokens: ReturnType<typeof parseArgs>['tokens'] & object;
  try {
    const parsed = parseArgs({ args, options, strict: true, allowPositionals: false, tokens: true });
    values = parsed.values as typeof values;
    tokens = parsed.tokens;
  } catch (err) {
    if (asksForHelp(args)) return { help: true };
    throw toConfigError(err, Object.keys(specs));
  }
  if (values.help === true) return { help: true };
  // parseArgs keeps the last of a repeated value: `--secret-id a … --secret-id b` would act on b alone.
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== 'option' || specs[token.name]?.type !== 'string') continue;
    if (seen.has(token.name)) throw new ConfigError(`--${token.name} is given more than once`);
    seen.add(token.name);
  }
  for (const [name, value] of Object.entries(values)) {
    if (value === '') throw new ConfigError(`--${name} needs a value`);
  }
  const { help: _help, ...flags } = values;
  return { help: false, flags: flags as ParsedFlags<S> };
}

/**
 * Checks an `--endpoint` value: an http(s) URL without credentials in it (they would end up in progress
 * lines and errors).
 * @throws ConfigError naming `--endpoint` (never its value) when it is not one.
 */
export function checkEndpointUrl(value: string): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError('--endpoint must be a URL such as http://127.0.0.1:4566');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError('--endpoint must be http:// or https://');
  if (url.username || url.password) throw new ConfigError('--endpoint must not carry credentials');
}

/** True when `--help` or `-h` stands on its own anywhere before a `--`. */
function asksForHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * Node's message names the flag in quotes; a positional is named too, which is what the user typed
 * in place of a flag. The "known flags" list turns a typo into its fix.
 */
function toConfigError(err: unknown, known: readonly string[]): ConfigError {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : String(err);
  const quoted = /'([^']*)'/.exec(message)?.[1] ?? '';
  const flag = quoted.replace(/ <value>$/, '');
  const knownList = [...known, 'help'].map((k) => `--${k}`).join(', ');
  switch (code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new ConfigError(`unknown flag ${flag}; known: ${knownList}`);
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return new ConfigError(`unexpected argument "${flag}": every argument is a flag (${knownList})`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return new ConfigError(
        /does not take an argument/.test(message)
          ? `${flag} takes no value`
          : `${flag} needs a value (write ${flag}=VALUE for one starting with -)`,
      );
    default:
      return new ConfigError(`cannot read the command line (${typeof code === 'string' ? code : 'parse error'})`);
  }
}
