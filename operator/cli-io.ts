/** Where a command writes, and the environment it reads: injectable so commands run in-process in tests. */
import type { Env } from '../shared/secrets-client';
import { isToolkitError } from '../shared/errors';
import type { CallTimeouts } from './bounded-client';
import { createProgressSink, noProgress, type ProgressSink, type StatusStream } from './wait-progress';

export interface CliIo {
  /** Results: the table or the JSON document. */
  readonly stdout: (text: string) => void;
  /** Progress and errors. */
  readonly stderr: (text: string) => void;
  readonly env: Env;
  /** Where waits are shown (stderr in a real run); no progress is shown without one. */
  readonly statusStream?: StatusStream;
  /** How long each Secrets Manager call may take. @default 30 s a call, 15 min for RotateSecret (`withCallTimeouts`) */
  readonly callTimeouts?: CallTimeouts;
}

export const processIo: CliIo = {
  stdout: (text) => process.stdout.write(`${text}\n`),
  stderr: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  statusStream: process.stderr,
};

/** The command's progress sink: lines prefixed with its name, on `io.statusStream`. */
export function progressFor(io: CliIo, command: string): ProgressSink {
  return io.statusStream ? createProgressSink(io.statusStream, { prefix: `${command}: ` }) : noProgress;
}

/**
 * One line for an error. Toolkit errors carry messages built to name the secret and step only; any
 * other error is reduced to its class and code, because driver and SDK messages can quote values.
 */
export function describeError(err: unknown): string {
  if (isToolkitError(err)) return err.message;
  if (err instanceof Error && err.name === 'DatabaseSetupError') return err.message;
  const e = err as { name?: unknown; code?: unknown } | null;
  const name = e && typeof e.name === 'string' ? e.name : 'Error';
  const code = e && (typeof e.code === 'string' || typeof e.code === 'number') ? ` (${String(e.code)})` : '';
  return `unexpected ${name}${code}`;
}

/**
 * With `--json`, what stdout carries when the command fails: one document, so a pipe into `jq -e` or
 * `JSON.parse` sees a failure rather than an empty input (which jq -e answers with exit status 0).
 * `error` is the same line as on stderr; `verdict` holds the command's own yes/no fields, all false.
 */
export function failureDocument(error: string, verdict: Readonly<Record<string, false>>): string {
  return JSON.stringify({ error, ...verdict }, null, 2);
}

/** Whether the arguments ask for JSON, as the parser would read them (before `--`, the bare flag). */
export function asksForJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--');
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json');
}

/** Exit codes shared by the commands. */
export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
