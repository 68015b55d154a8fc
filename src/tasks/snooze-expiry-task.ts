/** Brings back issues whose "ignore for N minutes" has passed (src/pipeline/snooze.ts). */
import type { Services } from '../services/index.js';
import { expireSnoozes } from '../pipeline/snooze.js';
import { ScheduledTask } from './base-task.js';

export class SnoozeExpiryTask extends ScheduledTask {
  readonly name = 'snooze-expiry';
  readonly intervalMs = 5_000;

  async run(services: Services): Promise<void> {
    await expireSnoozes(services.database.db);
  }
}
