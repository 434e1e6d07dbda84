/**
 * Deep immutability for parsed secret values. A cached object handed out by reference (as Powertools
 * does) lets one caller's mutation change what every later caller reads; freezing once at store time
 * makes sharing safe without a copy per read.
 */

export type DeepReadonly<T> = T extends (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * Freezes `value` and everything reachable from it, in place, and returns it. Iterative, so a deeply
 * nested value cannot overflow the stack. Typed arrays are left as they are: the engine refuses to
 * freeze a non-empty one.
 */
export function deepFreeze<T>(value: T): DeepReadonly<T> {
  const pending: unknown[] = [value];
  const seen = new Set<object>();
  while (pending.length > 0) {
    const next = pending.pop();
    if (next === null || typeof next !== 'object' || seen.has(next) || ArrayBuffer.isView(next)) continue;
    seen.add(next);
    for (const key of Reflect.ownKeys(next)) {
      pending.push((next as Record<PropertyKey, unknown>)[key]);
    }
    Object.freeze(next);
  }
  return value as DeepReadonly<T>;
}
