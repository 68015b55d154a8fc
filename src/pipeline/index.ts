export { EventWorker, type WorkerOptions } from './worker.js';
export { saveBatch, type ProcessedEvent } from './save.js';
export { eventMessage } from './event-fields.js';
