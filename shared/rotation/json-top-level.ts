/**
 * Setting some top-level keys of a JSON object held as text, leaving every other byte as it was. The
 * next version of a secret is its current text with a new username and password: parsing and
 * re-serializing would rewrite the rest, and JavaScript numbers cannot hold every JSON number (an
 * integer past 2^53 is rounded, 1e400 becomes null), so an extra key of the secret (an account number, a
 * proxy's or a tool's own field) would silently change. Only texts `JSON.parse` accepted come here.
 */

/** Where one top-level member's value lies in the text: `[start, end)`. */
interface MemberSpan {
  readonly key: string;
  readonly start: number;
  readonly end: number;
}

/**
 * `text` (a JSON object) with each key of `values` set to its value, serialized with `JSON.stringify`:
 * every occurrence of a key is replaced (JSON.parse keeps the last of duplicates, so all must agree),
 * a missing key is added at the end. Whitespace, key order, escapes and number forms of the rest stay.
 *
 * @param text a JSON object's text that `JSON.parse` accepts; anything else throws a `SyntaxError`.
 * @param values string values to set (the new credentials, a pre-created pair's swapped name).
 * @throws SyntaxError when `text` is not a JSON object's text (never quoting it).
 */
export function withTopLevelValues(text: string, values: Readonly<Record<string, string>>): string {
  const members = topLevelMembers(text);
  const keys = Object.keys(values);
  let out = '';
  let from = 0;
  for (const member of members) {
    if (!keys.includes(member.key)) continue;
    out += text.slice(from, member.start) + JSON.stringify(values[member.key]);
    from = member.end;
  }
  const missing = keys.filter((key) => !members.some((m) => m.key === key));
  const added = missing.map((key) => `${JSON.stringify(key)}:${JSON.stringify(values[key])}`).join(',');
  if (added === '') return out + text.slice(from);
  // Right after the last member (or the opening brace): the text's own spacing before "}" stays last.
  const last = members[members.length - 1];
  const at = last !== undefined ? last.end : text.indexOf('{') + 1;
  return out + text.slice(from, at) + (last !== undefined ? ',' : '') + added + text.slice(at);
}

/** The top-level members of a JSON object's text, in order. */
function topLevelMembers(text: string): MemberSpan[] {
  const members: MemberSpan[] = [];
  let i = skipSpace(text, 0);
  if (text[i] !== '{') throw new SyntaxError('not a JSON object');
  i = skipSpace(text, i + 1);
  if (text[i] === '}') return members;
  for (;;) {
    const keyEnd = stringEnd(text, i);
    const key = JSON.parse(text.slice(i, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    if (text[i] !== ':') throw new SyntaxError('expected ":"');
    const start = skipSpace(text, i + 1);
    const end = valueEnd(text, start);
    members.push({ key, start, end });
    i = skipSpace(text, end);
    if (text[i] === '}') return members;
    if (text[i] !== ',') throw new SyntaxError('expected "," or "}"');
    i = skipSpace(text, i + 1);
  }
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && ' \t\n\r'.includes(text[i]!)) i += 1;
  return i;
}

/** The index after the string starting at `i` (a `"`). */
function stringEnd(text: string, i: number): number {
  if (text[i] !== '"') throw new SyntaxError('expected a string');
  let j = i + 1;
  while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
  if (j >= text.length) throw new SyntaxError('unterminated string');
  return j + 1;
}

/** The index after the value starting at `i`: a string, an object or array (nested), or a bare token. */
function valueEnd(text: string, i: number): number {
  const c = text[i];
  if (c === '"') return stringEnd(text, i);
  if (c === '{' || c === '[') {
    let depth = 0;
    let j = i;
    while (j < text.length) {
      const d = text[j];
      if (d === '"') {
        j = stringEnd(text, j);
        continue;
      }
      if (d === '{' || d === '[') depth += 1;
      if (d === '}' || d === ']') depth -= 1;
      j += 1;
      if (depth === 0) return j;
    }
    throw new SyntaxError('unterminated object or array');
  }
  let j = i;
  while (j < text.length && !',}] \t\n\r'.includes(text[j]!)) j += 1;
  if (j === i) throw new SyntaxError('expected a value');
  return j;
}
