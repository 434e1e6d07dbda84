/**
 * A SqlSession that records every statement and answers from a script: the first rule whose pattern
 * matches the statement gives rows or throws. Unmatched statements succeed with no rows.
 */
import type { Row, SqlSession } from '../../shared/rotation/database-engine';

export interface FakeRule {
  readonly match: RegExp;
  readonly rows?: readonly Row[];
  /** Thrown instead of answering (e.g. `{ code: 'ER_SPECIFIC_ACCESS_DENIED_ERROR', errno: 1227 }`). */
  readonly error?: unknown;
  /** Applies only this many times. */
  readonly times?: number;
}

export interface RecordingSession extends SqlSession {
  readonly statements: string[];
  closed: boolean;
}

export function recordingSession(rules: readonly FakeRule[] = []): RecordingSession {
  const uses = new Map<FakeRule, number>();
  const session: RecordingSession = {
    statements: [],
    closed: false,
    async query(sql: string): Promise<readonly Row[]> {
      session.statements.push(sql);
      const rule = rules.find((r) => r.match.test(sql) && (r.times === undefined || (uses.get(r) ?? 0) < r.times));
      if (rule === undefined) return [];
      uses.set(rule, (uses.get(rule) ?? 0) + 1);
      if (rule.error !== undefined) throw rule.error;
      return rule.rows ?? [];
    },
    async close(): Promise<void> {
      session.closed = true;
    },
  };
  return session;
}

/** A mysql2-like error: message and sql carry the statement, as the real driver's do. */
export function driverError(code: string, errno: number, sql: string): Error {
  return Object.assign(new Error(`${code}: refused near '${sql}'`), { code, errno, sql, sqlMessage: `refused: ${sql}` });
}
