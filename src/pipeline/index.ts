export { EventWorker, type WorkerOptions } from './worker.js';
export { IdleDrain } from './idle-drain.js';
export { saveBatch, type ProcessedEvent } from './save.js';
export { eventMessage } from './event-fields.js';
export { PostProcessProcessor } from './post-process.js';

import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import { NotifyProcessor } from '../notify/notify-processor.js';
import { PostProcessProcessor } from './post-process.js';

/** The worker role's consumers after the event worker: post-processing and notifications. */
export function startPostProcessing(services: Services, log: Logger): { stop(): Promise<void> } {
  const processors = [new PostProcessProcessor(services, log), new NotifyProcessor(services, log)];
  for (const p of processors) p.start();
  return { stop: async () => void (await Promise.all(processors.map((p) => p.stop()))) };
}
