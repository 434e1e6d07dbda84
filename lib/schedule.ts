/**
 * The rotation schedule as Secrets Manager accepts it, checked at synth so a typo fails `cdk synth`
 * rather than a deploy an hour later. Limits from RotationRulesType: every 4 hours at the most, every
 * 1000 days at the least; the window (`Duration`) is whole hours and must not reach the next rotation.
 */
import { Duration, Token } from 'aws-cdk-lib';
import { ConfigError } from '../shared/errors';

/** When a secret rotates: every `automaticallyAfter`, or on a schedule expression. */
export interface RotationScheduleOptions {
  /** Rotate every so often. @default Duration.days(30) */
  readonly automaticallyAfter?: Duration;
  /** A `rate(...)` or `cron(...)` expression; exclusive with automaticallyAfter. @default none */
  readonly scheduleExpression?: string;
  /** How long the rotation window stays open, in whole hours (1 to 24). @default Secrets Manager's */
  readonly windowDuration?: Duration;
}

export interface RotationRules {
  readonly scheduleExpression: string;
  readonly duration?: string;
}

/** How often a secret rotates when no schedule is given: 30 days, as aws-cdk-lib's rotation. */
export const DEFAULT_ROTATION_INTERVAL: Duration = Duration.days(30);
const MIN_HOURS = 4;
const MAX_DAYS = 1000;
const HOURS_PER_DAY = 24;

/** The CloudFormation RotationRules, or a ConfigError saying what is wrong with the options. */
export function rotationRules(options: RotationScheduleOptions): RotationRules {
  if (options.automaticallyAfter && options.scheduleExpression !== undefined) {
    throw new ConfigError('Give either automaticallyAfter or scheduleExpression, not both');
  }
  const scheduleExpression =
    options.scheduleExpression !== undefined
      ? validateScheduleExpression(options.scheduleExpression)
      : rateFromDuration(options.automaticallyAfter ?? DEFAULT_ROTATION_INTERVAL);
  if (!options.windowDuration) return { scheduleExpression };
  return { scheduleExpression, duration: windowDuration(options.windowDuration, scheduleExpression) };
}

/** `rate(N days)` when the interval is whole days, else `rate(N hours)`. */
export function rateFromDuration(interval: Duration): string {
  if (Token.isUnresolved(interval.toMinutes({ integral: false }))) {
    throw new ConfigError('The rotation interval must be a concrete duration, not a token');
  }
  const hours = interval.toHours({ integral: false });
  if (!Number.isInteger(hours)) throw new ConfigError(`The rotation interval must be whole hours; got ${interval.toHumanString()}`);
  const [value, unit] = hours % HOURS_PER_DAY === 0 ? [hours / HOURS_PER_DAY, 'day'] : [hours, 'hour'];
  return validateScheduleExpression(`rate(${value} ${unit}${value === 1 ? '' : 's'})`);
}

const RATE = /^rate\((\d+) (hour|hours|day|days)\)$/;
const CRON = /^cron\(([^()]+)\)$/;

/** Returns the expression when Secrets Manager would accept it, else a ConfigError naming the rule broken. */
export function validateScheduleExpression(expression: string): string {
  if (Token.isUnresolved(expression)) return expression;
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    const inHours = rate[2].startsWith('hour') ? value : value * HOURS_PER_DAY;
    if (inHours < MIN_HOURS) throw new ConfigError(`${expression}: Secrets Manager rotates at most every ${MIN_HOURS} hours`);
    if (inHours > MAX_DAYS * HOURS_PER_DAY) throw new ConfigError(`${expression}: the longest interval is ${MAX_DAYS} days`);
    if ((value === 1) !== !rate[2].endsWith('s')) {
      throw new ConfigError(`${expression}: write rate(1 day)/rate(1 hour) in the singular and other values in the plural`);
    }
    return expression;
  }
  const cron = CRON.exec(expression);
  if (cron) {
    const fields = cron[1].trim().split(/\s+/);
    if (fields.length !== 6) {
      throw new ConfigError(`${expression}: a cron expression has 6 fields (minutes hours day-of-month month day-of-week year)`);
    }
    const [, , dayOfMonth, , dayOfWeek] = fields;
    if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
      throw new ConfigError(`${expression}: exactly one of day-of-month and day-of-week must be '?'`);
    }
    return expression;
  }
  throw new ConfigError(`${expression}: expected rate(N hours), rate(N days) or cron(minutes hours day-of-month month day-of-week year)`);
}

/** `Nh`, checked against the 24-hour limit and against an hourly rate's interval. */
export function windowDuration(window: Duration, scheduleExpression: string): string {
  const hours = window.toHours({ integral: false });
  if (!Number.isInteger(hours) || hours < 1 || hours > HOURS_PER_DAY) {
    throw new ConfigError(`The rotation window must be 1 to 24 whole hours; got ${window.toHumanString()}`);
  }
  const rate = RATE.exec(scheduleExpression);
  if (rate && rate[2].startsWith('hour') && hours > Number(rate[1])) {
    throw new ConfigError(`A ${hours}h window would reach into the next rotation of ${scheduleExpression}`);
  }
  return `${hours}h`;
}
