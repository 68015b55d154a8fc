/** Step 1: turn a queued item's payload into a normalized event (src/protocol does the work). */
import { normalizePayload, type NormalizedEvent } from '../protocol/index.js';
import type { IngestTask } from '../services/queue/ingest-task.js';

export function normalizeTask(task: IngestTask): NormalizedEvent {
  return normalizePayload(task.payload, {
    receivedAt: task.receivedAt / 1000,
    clientIp: task.clientIp,
    eventId: task.eventId,
    userAgent: task.userAgent,
  });
}
