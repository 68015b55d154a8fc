/**
 * The consumer of the delegator's call log: moves records from the `delegator` queue into the
 * `delegator_calls` table in batches (Sentry's Kafka consumer that filled the `calls` table,
 * seeds/001). Runs on one scheduler at a time, only where a delegator is configured.
 * Rows past 30 days are pruned by the cleanup task (cleanup.ts).
 */
import { drainDelegatorCalls } from '../services/delegator/index.js';
import type { Services } from '../services/index.js';
import { ScheduledTask } from './base-task.js';

export class DelegatorCallsTask extends ScheduledTask {
  readonly name = 'delegator-calls';
  readonly intervalMs = 1_000;
  override readonly leaseMs = 30_000;

  /** Only installations running a delegated service produce records (FAULTLINE_NODESTORE_SECONDARY). */
  override enabled(services: Services): boolean {
    return Boolean(services.config.nodestoreSecondary);
  }

  async run(services: Services): Promise<void> {
    // Keep draining while full batches come back, so a burst does not wait a second per batch.
    for (let i = 0; i < 20; i++) {
      if ((await drainDelegatorCalls(services.queue, services.database.db, 50)) === 0) break;
    }
  }
}
