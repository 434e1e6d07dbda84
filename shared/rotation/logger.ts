/**
 * One JSON line per rotation step. Hand-written on purpose: the Lambda bundle budget leaves no room for a
 * logging library. The line type has no field that could carry a password or a secret string.
 */
import type { CauseSummary, FailureReason } from '../errors';

/** How a step ended: `already-current` when the gate found the version already AWSCURRENT. */
export type StepOutcome = 'success' | 'already-current' | 'skipped' | 'failure';

/** One log line of a rotation step; no field can carry a password or a secret string. */
export interface StepLogLine {
  readonly level: 'info' | 'warn' | 'error';
  readonly message: string;
  readonly secretArn?: string;
  readonly step?: string;
  readonly strategy?: string;
  readonly engine?: string;
  readonly outcome?: StepOutcome;
  /** Milliseconds from the invocation's start. */
  readonly durationMs?: number;
  /** The error's code (AUTH_FAILED, TLS…) and class of the underlying cause. */
  readonly errorCode?: string;
  readonly cause?: CauseSummary;
  /** Why a login was refused, beside AUTH_FAILED (see `RefusalReason`), or why the master could not act (`FailureReason`). */
  readonly reason?: FailureReason;
  /** Usernames and hosts may be named (the AWS templates do); never passwords. */
  readonly username?: string;
  readonly host?: string;
}

/** Where the handler writes its step lines (`createRotationHandler`'s `logger`). */
export interface RotationLogger {
  log(line: StepLogLine): void;
}

/**
 * Writes each line as one JSON object on stdout (CloudWatch keeps one event per line), or through
 * `write` when given.
 */
export function jsonLineLogger(write: (text: string) => void = stdoutLines()): RotationLogger {
  return {
    log(line) {
      write(JSON.stringify({ time: new Date().toISOString(), ...line }));
    },
  };
}

/**
 * Node creates `process.stdout` on its first access (about 1.5 ms of CPU: the stream and its class for
 * a pipe, file or terminal). Taken when the logger is built, in the Lambda's init, so the first step's
 * first line does not pay for it. Writes go through the stream's `write` at call time.
 */
function stdoutLines(): (text: string) => void {
  const stdout = process.stdout;
  return (text) => stdout.write(`${text}\n`);
}

export const silentLogger: RotationLogger = { log: () => undefined };
