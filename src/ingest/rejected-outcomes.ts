/**
 * Items the edge refuses (rate limits, back-pressure) never reach the queue, so ingest counts
 * them itself as `rate_limited` outcomes, the way Relay reports what it drops. Counts are kept in
 * memory and written once a second in one aggregated statement per (project, hour, category,
 * reason): a flood of refused requests costs a map update each, not a database write. Up to a
 * second of counts is lost if the process dies.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../db/index.js';
import { dialectOfDb } from '../db/sql.js';
import { saveOutcomes, type Outcome } from '../pipeline/outcomes.js';

export class RejectedOutcomes {
  #pending: Outcome[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly onError: (err: unknown) => void,
    private readonly flushMs = 1000,
  ) {}

  add(projectId: number, category: string, reason: string, quantity = 1): void {
    this.#pending.push({ projectId, timestamp: Date.now(), category, outcome: 'rate_limited', reason, quantity });
    this.#timer ??= setTimeout(() => void this.flush(), this.flushMs).unref();
  }

  async flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    try {
      await saveOutcomes(this.db, dialectOfDb(this.db), batch);
    } catch (err) {
      this.onError(err); // statistics only: never fail or retry ingest for them
    }
  }
}
