/**
 * The message ingest puts on the queue for each accepted envelope item, and the worker reads.
 * JSON with the item's payload as text (event-like items are JSON; binary items are not queued).
 * Versioned, so a worker can refuse a format it does not know instead of misreading it.
 */
export const INGEST_QUEUE = 'ingest';

export interface IngestTask {
  v: 1;
  /** The envelope item type (`event`, `transaction`, `session`, ...), or `store` for /store/ bodies. */
  itemType: string;
  projectId: number;
  keyId: number;
  /** Unix ms at which ingest accepted the item. */
  receivedAt: number;
  clientIp: string | null;
  userAgent: string | null;
  /** The event id ingest answered with; wins over the payload's. */
  eventId: string | null;
  /** `sentry_client` from the auth, e.g. `sentry.python/1.9.10` (decides NaN tolerance). */
  client: string | null;
  payload: string;
}

export function encodeIngestTask(task: IngestTask): Buffer {
  return Buffer.from(JSON.stringify(task));
}

export function decodeIngestTask(buf: Buffer): IngestTask {
  const task = JSON.parse(buf.toString('utf8')) as IngestTask;
  if (task.v !== 1) throw new Error(`unknown ingest task version ${String(task.v)}`);
  return task;
}
