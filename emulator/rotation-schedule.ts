/**
 * RotationRules: validation as RotateSecret applies it, and the NextRotationDate it implies. Only the
 * date is computed; nothing fires on schedule here (rotation runs when RotateSecret is called).
 */
import { optInteger, optString, type JsonObject } from './input';
import type { RotationConfig, RotationRules } from './store';
import { invalidParameter } from './wire-errors';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const RATE = /^rate\((\d+) (day|days|hour|hours)\)$/;
const CRON = /^cron\((\S+ ){5}\S+\)$/;
const DURATION = /^(\d{1,2})h$/;

export function parseRotationRules(raw: JsonObject): RotationRules {
  const days = optInteger(raw, 'AutomaticallyAfterDays', { min: 1, max: 1000 });
  const expression = optString(raw, 'ScheduleExpression', { min: 1, max: 256 });
  const duration = optString(raw, 'Duration', { min: 2, max: 3 });
  if (days !== undefined && expression !== undefined) {
    throw invalidParameter('You can specify AutomaticallyAfterDays or ScheduleExpression in RotationRules, but not both.');
  }
  if (expression !== undefined) {
    const rate = RATE.exec(expression);
    if (rate) {
      const amount = Number(rate[1]);
      const hours = rate[2]!.startsWith('hour') ? amount : amount * 24;
      if (hours < 4 || hours > 1000 * 24) throw invalidParameter('The rotation schedule rate must be between 4 hours and 1000 days.');
    } else if (!CRON.test(expression)) {
      throw invalidParameter('The ScheduleExpression is not a valid rate() or cron() expression.');
    }
  }
  if (duration !== undefined) {
    const hours = DURATION.exec(duration);
    if (!hours || Number(hours[1]) < 1 || Number(hours[1]) > 24) {
      throw invalidParameter('The rotation window Duration must be between 1h and 24h.');
    }
  }
  return { AutomaticallyAfterDays: days, ScheduleExpression: expression, Duration: duration };
}

/** When the next scheduled rotation falls due, where the rules make that computable (not for cron). */
export function nextRotationDate(rotation: RotationConfig): Date | undefined {
  if (!rotation.enabled || !rotation.rules || !rotation.scheduleBase) return undefined;
  const base = rotation.scheduleBase.getTime();
  const { AutomaticallyAfterDays: days, ScheduleExpression: expression } = rotation.rules;
  if (days !== undefined) return new Date(base + days * DAY_MS);
  const rate = expression === undefined ? null : RATE.exec(expression);
  if (!rate) return undefined;
  const amount = Number(rate[1]);
  return new Date(base + amount * (rate[2]!.startsWith('hour') ? HOUR_MS : DAY_MS));
}
