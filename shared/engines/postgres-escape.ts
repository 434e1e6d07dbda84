/**
 * PostgreSQL identifier and string-literal quoting, with the exact output of pg's `escapeIdentifier`
 * and `escapeLiteral`. They live here so the SQL builders do not load the driver at import: a Lambda's
 * init then pays for pg only on its first login.
 */

/** `"name"`, inner double quotes doubled. */
export function escapePostgresIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * `'text'`, inner single quotes doubled. A backslash is doubled too and the literal becomes an E''
 * string (with pg's leading space), so it means the same whatever standard_conforming_strings says.
 */
export function escapePostgresLiteral(text: string): string {
  const quoted = text.replace(/'/g, "''");
  if (!text.includes('\\')) return `'${quoted}'`;
  return ` E'${quoted.replace(/\\/g, '\\\\')}'`;
}
