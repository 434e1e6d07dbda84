import { fullJitterDelayMs } from '../../shared/backoff';
import { deepFreeze } from '../../shared/deep-freeze';
import { parseSecretString, sameSecretValue } from '../../shared/secret-value';

describe('fullJitterDelayMs', () => {
  const policy = { baseMs: 1000, maxMs: 30_000 };

  it('draws uniformly below a ceiling that doubles per attempt', () => {
    expect(fullJitterDelayMs(1, policy, () => 0.999)).toBe(999);
    expect(fullJitterDelayMs(2, policy, () => 0.999)).toBe(1998);
    expect(fullJitterDelayMs(3, policy, () => 0.5)).toBe(2000);
    expect(fullJitterDelayMs(1, policy, () => 0)).toBe(0);
  });

  it('is capped, and never overflows or becomes NaN after a very long outage', () => {
    for (const attempt of [6, 64, 1025, 1e9, Number.MAX_SAFE_INTEGER]) {
      const delay = fullJitterDelayMs(attempt, policy, () => 0.999);
      expect(Number.isFinite(delay)).toBe(true);
      expect(delay).toBeLessThanOrEqual(30_000);
      expect(delay).toBeGreaterThan(29_000);
    }
  });
});

describe('deepFreeze', () => {
  it('freezes every level without recursion limits and leaves typed arrays alone', () => {
    let deep: any = { leaf: true };
    for (let i = 0; i < 20_000; i++) deep = { next: deep };
    const bytes = new Uint8Array([1, 2]);
    const frozen = deepFreeze({ deep, list: [{ a: 1 }], bytes });
    expect(Object.isFrozen(frozen.list[0])).toBe(true);
    let node: any = frozen.deep;
    while (node.next) node = node.next;
    expect(Object.isFrozen(node)).toBe(true);
    expect(Object.isFrozen(bytes)).toBe(false);
  });
});

describe('secret values', () => {
  it('parses only JSON objects and arrays', () => {
    expect(parseSecretString(' {"a":1}')).toEqual({ a: 1 });
    expect(parseSecretString('[1]')).toEqual([1]);
    expect(parseSecretString('true')).toBe('true');
    expect(parseSecretString('null')).toBe('null');
  });

  it('compares values by content', () => {
    expect(sameSecretValue(parseSecretString('{"a":1}'), parseSecretString('{"a":1}'))).toBe(true);
    expect(sameSecretValue(parseSecretString('{"a":1}'), parseSecretString('{"a":2}'))).toBe(false);
    expect(sameSecretValue(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(sameSecretValue(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(sameSecretValue('x', new Uint8Array([120]))).toBe(false);
  });
});
