/**
 * What a command shows while it waits: the elapsed time and what it is waiting for. On a terminal the
 * line is refreshed in place; in a pipe or a CI log it becomes a plain line, repeated only when what is
 * awaited changes or every `plainEveryMs`, so a two-minute wait is a handful of lines, not a hundred.
 * Always written to stderr by the commands: stdout carries only results.
 */
import { formatDuration } from './text-table';

/** One report of a wait in progress. */
export interface WaitProgress {
  /** What is awaited, in words, e.g. `AWSCURRENT to move to <version>`. Never a value. */
  readonly awaiting: string;
  /** Milliseconds since this wait began. */
  readonly elapsedMs: number;
  /** The most it will wait, in milliseconds, when bounded. */
  readonly limitMs?: number;
}

/** Receives reports; `undefined` says the wait is over (a terminal line is then cleared). */
export type ProgressSink = (progress: WaitProgress | undefined) => void;

/** The part of a stream the sink needs: `process.stderr` fits. */
export interface StatusStream {
  readonly isTTY?: boolean;
  write(text: string): unknown;
}

export interface ProgressSinkOptions {
  /** Put before every line, e.g. `rotation:repair: `. @default '' */
  readonly prefix?: string;
  /** Off a terminal, the least time between two lines about the same wait. @default 10000 */
  readonly plainEveryMs?: number;
}

/** A sink that discards everything: library callers that do not want progress. */
export const noProgress: ProgressSink = () => undefined;

/** The words of one report: `waiting 12.0 s of 2 min 00 s: AWSCURRENT to move to v2`. */
export function describeWait(progress: WaitProgress): string {
  const limit = progress.limitMs !== undefined ? ` of ${formatDuration(progress.limitMs)}` : '';
  return `waiting ${formatDuration(progress.elapsedMs)}${limit}: ${progress.awaiting}`;
}

/** A sink writing to `stream`: in place on a TTY, plain throttled lines otherwise. */
export function createProgressSink(stream: StatusStream, options: ProgressSinkOptions = {}): ProgressSink {
  const prefix = options.prefix ?? '';
  const every = options.plainEveryMs ?? 10_000;
  let shown = false;
  let lastAwaiting: string | undefined;
  let lastElapsed = 0;
  return (progress) => {
    if (stream.isTTY === true) {
      // \r then "erase line": the next report, or the next real line, starts on a clean line.
      if (progress === undefined) {
        if (shown) stream.write('\r\x1b[2K');
        shown = false;
        return;
      }
      stream.write(`\r\x1b[2K${prefix}${describeWait(progress)}`);
      shown = true;
      return;
    }
    if (progress === undefined) {
      lastAwaiting = undefined;
      return;
    }
    if (progress.awaiting === lastAwaiting && progress.elapsedMs - lastElapsed < every) return;
    lastAwaiting = progress.awaiting;
    lastElapsed = progress.elapsedMs;
    stream.write(`${prefix}${describeWait(progress)}\n`);
  };
}

/**
 * Runs `work`, reporting `awaiting` every `tickMs` of wall time until it settles: for single calls
 * that can take long (a RotateSecret that runs the rotation before it answers).
 */
export async function reportWhile<T>(sink: ProgressSink, awaiting: string, work: () => Promise<T>, tickMs = 1000): Promise<T> {
  if (sink === noProgress) return work();
  const started = Date.now();
  const tick = (): void => sink({ awaiting, elapsedMs: Date.now() - started });
  const timer = setInterval(tick, tickMs);
  timer.unref();
  try {
    return await work();
  } finally {
    clearInterval(timer);
    sink(undefined);
  }
}
