/** Daily retention run (see cleanup.ts); one process of the fleet runs it. */
import type { Services } from '../services/index.js';
import { ScheduledTask } from './base-task.js';
import { cleanup } from './cleanup.js';

export class CleanupTask extends ScheduledTask {
  readonly name = 'cleanup';
  readonly intervalMs = 6 * 3_600_000;
  override readonly leaseMs = 3_600_000;

  async run(services: Services): Promise<void> {
    await cleanup(services);
  }
}
