/**
 * cdklocal's output, as `localstack:deploy` shows it: progress lines pass through; the stack traces and
 * error-object dumps the CDK CLI prints under a failure are dropped (the ❌ line above them and the
 * message line below them already say what failed); a value that must never be shown (the LocalStack
 * auth token) is masked wherever it appears.
 */

/** A line-by-line filter with memory: whether the previous lines were a stack trace. */
export interface OutputFilter {
  /** The line to show, or undefined to drop it. */
  (line: string): string | undefined;
}

const FRAME = /^\s+at\s+\S/;
/** Inside a dumped error object: `  key: value,` lines and the closing brace. */
const DUMP_LINE = /^\s+['"]?[\w$]+['"]?:\s|^\s*}\s*$/;

/**
 * @param secrets values to mask (empty strings and values shorter than 8 characters are ignored, as
 *   they would mask ordinary words)
 */
export function cdkOutputFilter(secrets: ReadonlyArray<string | undefined> = []): OutputFilter {
  const masked = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 8);
  let inTrace = false;
  return (line: string) => {
    if (FRAME.test(line)) {
      inTrace = true;
      return undefined;
    }
    if (inTrace && DUMP_LINE.test(line)) return undefined;
    inTrace = false;
    return masked.reduce((text, secret) => text.split(secret).join('***'), line);
  };
}

/** Splits a stream of chunks into whole lines; `flush` hands over a last line without a newline. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; flush(): void } {
  let pending = '';
  return {
    push(chunk) {
      pending += chunk;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) onLine(line.replace(/\r$/, ''));
    },
    flush() {
      if (pending !== '') onLine(pending);
      pending = '';
    },
  };
}
