/**
 * Finding registered passwords in large text (server logs, captured output) in one pass: every value is
 * indexed by its first characters, so the cost grows with the text, not with text × values. A finding
 * names the value by its number in the register and its length, never by the value itself.
 */
import { existsSync, readFileSync } from 'node:fs';

/** noteSensitive keeps values of at least this many characters. */
const KEY_LENGTH = 8;

export interface Leak {
  /** 1-based number of the value in the register. */
  readonly value: number;
  readonly length: number;
  /** Where in the scanned text: a line number. */
  readonly line: number;
  /** What precedes the value on its line (at most 60 characters), every registered value masked. */
  readonly before: string;
}

/**
 * A lowercase word is a test's placeholder (a fake secret string such as "previous"), never a password
 * the toolkit or a fixture makes, and the product's own prose holds such words: one CI run failed on
 * "previous" found in an error message. Scanning for them finds only false leaks.
 */
const PLAIN_WORD = /^[a-z]+$/;

/** The register's values, de-duplicated, in first-seen order, plain lowercase words left out. */
export function readSensitiveValues(file: string | undefined): string[] {
  if (file === undefined || !existsSync(file)) return [];
  const seen = new Set<string>();
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const value = JSON.parse(line) as unknown;
      if (typeof value === 'string' && value.length >= KEY_LENGTH && !PLAIN_WORD.test(value)) seen.add(value);
    } catch {
      // A line cut short by a crashed worker: the values around it still count.
    }
  }
  return [...seen];
}

export class LeakScanner {
  private readonly byKey = new Map<string, Array<{ value: string; number: number }>>();

  constructor(values: readonly string[]) {
    values.forEach((value, i) => {
      if (value.length < KEY_LENGTH) return;
      const key = value.slice(0, KEY_LENGTH);
      const list = this.byKey.get(key) ?? [];
      list.push({ value, number: i + 1 });
      this.byKey.set(key, list);
    });
  }

  get size(): number {
    let n = 0;
    for (const list of this.byKey.values()) n += list.length;
    return n;
  }

  /** Every place a registered value occurs in `text`. */
  scan(text: string): Leak[] {
    const leaks: Leak[] = [];
    if (this.byKey.size === 0) return leaks;
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i + KEY_LENGTH <= text.length; i += 1) {
      if (text.charCodeAt(i) === 10) {
        line += 1;
        lineStart = i + 1;
      }
      const candidates = this.byKey.get(text.slice(i, i + KEY_LENGTH));
      if (candidates === undefined) continue;
      for (const c of candidates) {
        if (text.startsWith(c.value, i)) {
          leaks.push({ value: c.number, length: c.value.length, line, before: this.mask(text.slice(Math.max(lineStart, i - 60), i)) });
        }
      }
    }
    return leaks;
  }

  /** The text with every registered value (and any cut-off start of one) replaced. */
  private mask(text: string): string {
    let out = text;
    for (const list of this.byKey.values()) {
      for (const c of list) out = out.split(c.value).join('[registered value]');
    }
    // A value cut by the excerpt's start cannot be matched whole: drop a leading run of value-like characters.
    return out.replace(/^[A-Za-z0-9_\-+/=]{8,}/, '[…]');
  }
}

/** One line per leak, safe to print. */
export function describeLeaks(where: string, leaks: readonly Leak[]): string[] {
  return leaks.map(
    (l) => `${where}: registered value #${l.value} (${l.length} characters) at line ${l.line}, after ${JSON.stringify(l.before)}`,
  );
}
