/**
 * The entry of every `bin/` command: the AWS SDK's Node-version notice switched off, the command run
 * with the process's streams, and its exit code set (never `process.exit`, so pending output drains).
 */
import { processIo, type CliIo } from './cli-io';

/**
 * The SDK's own opt-out of its NodeVersionSupportWarning (read when a client is built): a 9-line
 * process warning on every run of a command tells the operator nothing the README and the package's
 * `engines` field do not. A value the user set, `false` included, is left as it is.
 */
export const SDK_NODE_WARNING_OPT_OUT = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** A command: its arguments (without node and the script) and where it writes; resolves to the exit code. */
export type Command = (argv: readonly string[], io: CliIo) => Promise<number>;

/** Runs `command` as the process's main program. */
export function runMain(command: Command): void {
  process.env[SDK_NODE_WARNING_OPT_OUT] ??= 'true';
  void command(process.argv.slice(2), processIo).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      // Commands catch their own errors; this is the last line of defence, so it prints the class only.
      process.stderr.write(`unexpected ${err instanceof Error ? err.name : typeof err}\n`);
      process.exitCode = 1;
    },
  );
}
