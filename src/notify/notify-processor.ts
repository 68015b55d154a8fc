/**
 * Consumes the `notify` queue: one job = one action of one rule, delivered by its channel. A
 * failure (SMTP down, webhook answering 500) throws; the queue retries that job alone after
 * FAULTLINE_NOTIFY_RETRY_MS, doubling each attempt, and dead-letters it after the last.
 */
import { A } from '../alerts/rules.js';
import { QueueProcessor } from '../pipeline/queue-processor.js';
import type { QueueTask } from '../services/queue/index.js';
import { sendEmail } from './email.js';
import { decodeNotifyJob, NOTIFY_QUEUE } from './job.js';
import { loadMessage } from './message.js';
import { sendSlack } from './slack.js';
import { sendWebhook } from './webhook.js';

export class NotifyProcessor extends QueueProcessor {
  readonly queue = NOTIFY_QUEUE;
  override readonly batchSize = 5;

  override retryDelayMs(attempts: number): number {
    return this.services.config.notifyRetryMs * 2 ** Math.max(0, attempts - 1);
  }

  async process(task: QueueTask): Promise<void> {
    const message = await loadMessage(this.services, decodeNotifyJob(task.payload));
    if (!message) return;
    switch (message.action.id) {
      case A.email:
        return sendEmail(this.services, message);
      case A.webhook:
        return sendWebhook(this.services, message);
      case A.slack:
        return sendSlack(this.services, message);
    }
  }
}
