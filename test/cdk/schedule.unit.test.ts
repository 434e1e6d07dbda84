import { Duration } from 'aws-cdk-lib';
import { rateFromDuration, rotationRules, validateScheduleExpression, windowDuration } from '../../lib/schedule';

describe('rotation schedule', () => {
  it('defaults to every 30 days with no window', () => {
    expect(rotationRules({})).toEqual({ scheduleExpression: 'rate(30 days)' });
  });

  it.each([
    [Duration.days(1), 'rate(1 day)'],
    [Duration.days(7), 'rate(7 days)'],
    [Duration.hours(4), 'rate(4 hours)'],
    [Duration.hours(36), 'rate(36 hours)'],
    [Duration.days(1000), 'rate(1000 days)'],
  ])('writes %s as %s', (interval, expected) => {
    expect(rateFromDuration(interval)).toBe(expected);
  });

  it.each([
    [Duration.hours(3), /at most every 4 hours/],
    [Duration.days(0), /at most every 4 hours/],
    [Duration.days(1001), /longest interval is 1000 days/],
    [Duration.minutes(90), /whole hours/],
  ])('refuses the interval %s', (interval, message) => {
    expect(() => rateFromDuration(interval)).toThrow(message);
  });

  it.each(['rate(12 hours)', 'rate(1 day)', 'cron(0 4 ? * SUN *)', 'cron(0 8 1,15 * ? *)'])('accepts %s', (expression) => {
    expect(validateScheduleExpression(expression)).toBe(expression);
  });

  it.each([
    ['rate(2 hours)', /at most every 4 hours/],
    ['rate(1 days)', /singular/],
    ['rate(5 day)', /plural/],
    ['rate(5 minutes)', /expected rate/],
    ['cron(0 4 * * *)', /6 fields/],
    ['cron(0 4 * * MON *)', /exactly one of day-of-month and day-of-week/],
    ['every sunday', /expected rate/],
  ])('refuses %s', (expression, message) => {
    expect(() => validateScheduleExpression(expression)).toThrow(message);
  });

  it('adds the window in whole hours', () => {
    expect(rotationRules({ scheduleExpression: 'cron(0 2 ? * SAT *)', windowDuration: Duration.hours(3) })).toEqual({
      scheduleExpression: 'cron(0 2 ? * SAT *)',
      duration: '3h',
    });
  });

  it.each([
    [Duration.hours(25), 'rate(2 days)', /1 to 24 whole hours/],
    [Duration.minutes(30), 'rate(2 days)', /1 to 24 whole hours/],
    [Duration.hours(6), 'rate(4 hours)', /reach into the next rotation/],
  ])('refuses a %s window on %s', (window, expression, message) => {
    expect(() => windowDuration(window, expression)).toThrow(message);
  });

  it('refuses both an interval and an expression', () => {
    expect(() => rotationRules({ automaticallyAfter: Duration.days(7), scheduleExpression: 'rate(7 days)' })).toThrow(/not both/);
  });
});
