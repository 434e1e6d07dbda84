/**
 * Runs code with the global `Date` shifted by a controllable offset, for libraries that read the wall
 * clock directly (Powertools' ExpirableValue uses `new Date()` and `Date.now()`) and take no clock.
 * Real time keeps flowing underneath, so the SDK and the endpoint behave normally.
 */
export interface SimulatedDate {
  /** Moves the simulated wall clock forward. */
  advance(ms: number): void;
  /** Puts the real `Date` back. */
  restore(): void;
}

export function installSimulatedDate(): SimulatedDate {
  const RealDate = Date;
  let offsetMs = 0;
  const now = (): number => RealDate.now() + offsetMs;
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(now());
      else super(...(args as [string | number | Date]));
    }
    static override now(): number {
      return now();
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
  return {
    advance(ms) {
      offsetMs += ms;
    },
    restore() {
      globalThis.Date = RealDate;
    },
  };
}
