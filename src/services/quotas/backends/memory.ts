/**
 * Quotas counted in process (the embedded default): exact for one process, and each process of a
 * scale-out installation would count on its own, which is why that one uses Redis.
 */
import { exceeds, quotaCounters, quotaResult, type QuotaLimit, type QuotaResult, type QuotaScope, type QuotasBackend } from '../index.js';

export class MemoryQuotasBackend implements QuotasBackend {
  readonly #now: () => number;
  /** Counter key → quantity used and when the window ends (Unix ms). */
  readonly #counters = new Map<string, { used: number; windowEnd: number }>();
  #checks = 0;

  /** `now` (Unix ms) is injectable for tests. */
  constructor(opts: { now?: () => number } = {}) {
    this.#now = opts.now ?? Date.now;
  }

  async check(scope: QuotaScope, category: string, quantity: number, limits: QuotaLimit[]): Promise<QuotaResult> {
    const now = this.#now();
    if (++this.#checks % 1000 === 0) this.#prune(now);
    const counters = quotaCounters(scope, category, limits, now);
    const rejected = counters.filter((c) => exceeds(c.limit, this.#counters.get(c.key)?.used ?? 0, quantity));
    if (!rejected.length && quantity > 0) {
      for (const c of counters) {
        const cur = this.#counters.get(c.key);
        if (cur) cur.used += quantity;
        else this.#counters.set(c.key, { used: quantity, windowEnd: c.windowEnd });
      }
    }
    return quotaResult(rejected, now);
  }

  /** Drops the counters of windows that ended, so the map stays as big as the active senders. */
  #prune(now: number): void {
    for (const [key, c] of this.#counters) if (c.windowEnd <= now) this.#counters.delete(key);
  }
}
