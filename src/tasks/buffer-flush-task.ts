/** Moves deferred buffer counters (Redis) into the issue rows. Not needed for the embedded buffer. */
import type { Services } from '../services/index.js';
import { ScheduledTask } from './base-task.js';

export class BufferFlushTask extends ScheduledTask {
  readonly name = 'buffer-flush';
  readonly intervalMs: number;
  override readonly leaseMs = 30_000;

  constructor(intervalMs = 1_000) {
    super();
    this.intervalMs = intervalMs;
  }

  override enabled(services: Services): boolean {
    return !services.buffer.transactional;
  }

  async run(services: Services): Promise<void> {
    await services.buffer.flush(services.database.db);
  }
}
