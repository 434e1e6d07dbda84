/**
 * A small lexer for the statements MySQL and MariaDB print about accounts (SHOW GRANTS, SHOW CREATE
 * USER). Splitting such text on " TO " (as AWS's template does) breaks as soon as a quoted name holds
 * " TO "; here keywords are recognised only outside quotes and parentheses.
 */

export type TokenKind = 'word' | 'quoted' | 'punct';

export interface Token {
  readonly kind: TokenKind;
  /** The token exactly as written. */
  readonly text: string;
  readonly start: number;
  readonly end: number;
  /** Parenthesis depth at the token (column lists are depth 1). */
  readonly depth: number;
}

const WORD = /[A-Za-z0-9_$*.]/;

/** Splits a statement into tokens; quoted names and strings stay whole, with their quotes. */
export function tokenize(statement: string): Token[] {
  const tokens: Token[] = [];
  let depth = 0;
  let i = 0;
  while (i < statement.length) {
    const ch = statement[i]!;
    if (/\s/.test(ch)) {
      i += 1;
      continue;
    }
    if (ch === '`' || ch === "'" || ch === '"') {
      const end = quotedEnd(statement, i, ch);
      tokens.push({ kind: 'quoted', text: statement.slice(i, end), start: i, end, depth });
      i = end;
      continue;
    }
    if (WORD.test(ch)) {
      let end = i + 1;
      while (end < statement.length && WORD.test(statement[end]!)) end += 1;
      tokens.push({ kind: 'word', text: statement.slice(i, end), start: i, end, depth });
      i = end;
      continue;
    }
    if (ch === ')') depth = Math.max(0, depth - 1);
    tokens.push({ kind: 'punct', text: ch, start: i, end: i + 1, depth });
    if (ch === '(') depth += 1;
    i += 1;
  }
  return tokens;
}

/** Index of the first top-level bare keyword (any case) at or after `from`, or -1. */
export function findKeyword(tokens: readonly Token[], keyword: string, from = 0): number {
  const wanted = keyword.toUpperCase();
  for (let i = from; i < tokens.length; i += 1) {
    const t = tokens[i]!;
    if (t.kind === 'word' && t.depth === 0 && t.text.toUpperCase() === wanted) return i;
  }
  return -1;
}

/**
 * The account name starting at token `index` (`user`, `'user'@'host'`, `` `role`@`%` ``): the index
 * of the token after it, or -1 when there is no account there.
 */
export function accountEnd(tokens: readonly Token[], index: number): number {
  const first = tokens[index];
  if (first === undefined || first.kind === 'punct') return -1;
  const at = tokens[index + 1];
  if (at?.kind === 'punct' && at.text === '@') {
    const host = tokens[index + 2];
    return host !== undefined && host.kind !== 'punct' ? index + 3 : -1;
  }
  return index + 1;
}

/** The value of a quoted string or name as the server reads it ('' / `` doubling and backslash escapes). */
export function unquote(text: string): string {
  const q = text[0];
  if (q !== '`' && q !== "'" && q !== '"') return text;
  const body = text.slice(1, -1);
  if (q === '`') return body.split('``').join('`');
  let out = '';
  for (let i = 0; i < body.length; i += 1) {
    const ch = body[i]!;
    if (ch === '\\' && i + 1 < body.length) {
      const next = body[i + 1]!;
      out += next === 'n' ? '\n' : next === 't' ? '\t' : next === 'r' ? '\r' : next === '0' ? '\0' : next;
      i += 1;
    } else if (ch === q && body[i + 1] === q) {
      out += q;
      i += 1;
    } else {
      out += ch;
    }
  }
  return out;
}

function quotedEnd(text: string, start: number, quote: string): number {
  let i = start + 1;
  while (i < text.length) {
    const ch = text[i]!;
    // Backticks have no backslash escape; strings do.
    if (ch === '\\' && quote !== '`') {
      i += 2;
      continue;
    }
    if (ch === quote) {
      if (text[i + 1] === quote) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i += 1;
  }
  return text.length;
}
