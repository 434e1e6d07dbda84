/** Runs async tasks with at most `limit` in flight; results keep the input order. */
export async function mapWithLimit<T, R>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Calls `sample` every `intervalMs` until stopped; returns the largest value seen. */
export function sampleMax(sample: () => Promise<number> | number, intervalMs: number): { stop(): Promise<number> } {
  let max = 0;
  let running = true;
  let pending: Promise<void> = Promise.resolve();
  const tick = (): void => {
    if (!running) return;
    pending = Promise.resolve(sample())
      .then((value) => {
        max = Math.max(max, value);
      })
      .catch(() => undefined)
      .finally(() => {
        if (running) setTimeout(tick, intervalMs).unref();
      });
  };
  tick();
  return {
    async stop() {
      running = false;
      await pending;
      return max;
    },
  };
}
