/**
 * Wraps the rotation handler's injectable `Connector` to count and time database logins and the
 * statements sent over them, and to track how many sessions are open at once. Nothing about the
 * credentials is kept: only the login's role, counts and durations.
 */
import { performance } from 'node:perf_hooks';
import { AuthenticationError } from '../shared/errors';
import type { Connector, SqlSession } from '../shared/rotation/database-engine';

export interface DatabaseTally {
  /** Login attempts, refused ones included. */
  logins: number;
  /** Logins the server refused (an AuthenticationError from the connector). */
  refused: number;
  loginMs: number;
  queries: number;
  /** Statement round trips: statements sent while none was in flight (pipelined ones count once). */
  roundTrips: number;
  queryMs: number;
}

export class DatabaseLoginCounter {
  #tally: DatabaseTally = emptyTally();
  #open = 0;
  #peakOpen = 0;

  wrap(connect: Connector): Connector {
    return async (request) => {
      const started = performance.now();
      let session: SqlSession;
      try {
        session = await connect(request);
      } catch (err) {
        if (err instanceof AuthenticationError) this.#tally.refused += 1;
        throw err;
      } finally {
        this.#tally.logins += 1;
        this.#tally.loginMs += performance.now() - started;
      }
      this.#open += 1;
      this.#peakOpen = Math.max(this.#peakOpen, this.#open);
      let closed = false;
      // Pipelined statements overlap: their time is counted once, from the first sent to the last answered.
      let inFlight = 0;
      let busySince = 0;
      return {
        query: async (sql, params) => {
          if (inFlight++ === 0) {
            busySince = performance.now();
            this.#tally.roundTrips += 1;
          }
          try {
            return await session.query(sql, params);
          } finally {
            this.#tally.queries += 1;
            if (--inFlight === 0) this.#tally.queryMs += performance.now() - busySince;
          }
        },
        close: async () => {
          if (!closed) {
            closed = true;
            this.#open -= 1;
          }
          await session.close();
        },
      };
    };
  }

  tally(): DatabaseTally {
    return { ...this.#tally };
  }

  /** Most sessions open at the same time since the last `resetPeak`. */
  peakOpen(): number {
    return this.#peakOpen;
  }

  openNow(): number {
    return this.#open;
  }

  reset(): void {
    this.#tally = emptyTally();
  }

  resetPeak(): void {
    this.#peakOpen = this.#open;
  }
}

function emptyTally(): DatabaseTally {
  return { logins: 0, refused: 0, loginMs: 0, queries: 0, roundTrips: 0, queryMs: 0 };
}
