/**
 * A reader for the small YAML subset docker-compose.yml is written in (no YAML library is installed):
 * block mappings, block sequences of scalars, double-quoted or plain scalars, JSON-style flow sequences
 * and full-line comments. Anything else throws, so the compose file cannot drift outside what is checked.
 */
export type YamlValue = string | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  readonly indent: number;
  readonly text: string;
  readonly number: number;
}

export function parseYamlSubset(source: string): YamlValue {
  const lines: Line[] = source
    .split('\n')
    .map((raw, i) => ({ raw, number: i + 1 }))
    .filter(({ raw }) => raw.trim() !== '' && !raw.trim().startsWith('#'))
    .map(({ raw, number }) => {
      if (raw.includes('\t')) throw new Error(`line ${number}: tabs are not YAML indentation`);
      return { indent: raw.length - raw.trimStart().length, text: raw.trim(), number };
    });
  const [value, next] = parseBlock(lines, 0, lines[0]?.indent ?? 0);
  if (next !== lines.length) throw new Error(`line ${lines[next]!.number}: unexpected indentation`);
  return value;
}

function parseBlock(lines: readonly Line[], start: number, indent: number): [YamlValue, number] {
  return lines[start]!.text.startsWith('- ') ? parseSequence(lines, start, indent) : parseMapping(lines, start, indent);
}

function parseSequence(lines: readonly Line[], start: number, indent: number): [YamlValue[], number] {
  const items: YamlValue[] = [];
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent && lines[i]!.text.startsWith('- ')) {
    items.push(parseScalar(lines[i]!.text.slice(2).trim(), lines[i]!.number));
    i += 1;
  }
  return [items, i];
}

function parseMapping(lines: readonly Line[], start: number, indent: number): [{ [key: string]: YamlValue }, number] {
  const map: { [key: string]: YamlValue } = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent) {
    const line = lines[i]!;
    const m = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line.text);
    if (!m) throw new Error(`line ${line.number}: not a "key: value" line`);
    const key = m[1]!;
    if (Object.prototype.hasOwnProperty.call(map, key)) throw new Error(`line ${line.number}: duplicate key ${key}`);
    if (m[2] !== undefined) {
      map[key] = parseScalar(m[2], line.number);
      i += 1;
      continue;
    }
    const child = lines[i + 1];
    if (!child || child.indent <= indent) throw new Error(`line ${line.number}: ${key} has no value`);
    const [value, next] = parseBlock(lines, i + 1, child.indent);
    map[key] = value;
    i = next;
  }
  if (i < lines.length && lines[i]!.indent > indent) throw new Error(`line ${lines[i]!.number}: unexpected indentation`);
  return [map, i];
}

function parseScalar(text: string, lineNumber: number): YamlValue {
  if (text.startsWith('[')) {
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) {
      throw new Error(`line ${lineNumber}: only flow sequences of strings are supported`);
    }
    return parsed as string[];
  }
  if (text.startsWith('"')) return JSON.parse(text) as string;
  if (/^['{&*!|>]/.test(text) || /\s#/.test(text)) {
    throw new Error(`line ${lineNumber}: outside the supported YAML subset`);
  }
  return text;
}
