/** Sends the pending digests of noisy alert rules (src/notify/digest.ts) every digest interval. */
import type { Services } from '../services/index.js';
import { sendDigests } from '../notify/digest.js';
import { ScheduledTask } from './base-task.js';

export class DigestTask extends ScheduledTask {
  readonly name = 'digest';
  readonly intervalMs: number;

  constructor(intervalMs: number) {
    super();
    this.intervalMs = intervalMs;
  }

  async run(services: Services): Promise<void> {
    await sendDigests(services);
  }
}
