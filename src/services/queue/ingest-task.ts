/**
 * The message ingest puts on the queue for each accepted envelope item, and the worker reads.
 *
 * Format 2: one line of JSON with the task's fields, a newline, then the item's payload bytes as
 * received (event-like items are JSON; binary items are not queued). The payload is not escaped
 * into a JSON string, which kept ingest and the worker busy with multi-kilobyte strings twice
 * over. Format 1 (the whole task as one JSON object, the payload inside) is still read, so tasks
 * queued by an older version are processed after an upgrade.
 */
export const INGEST_QUEUE = 'ingest';

export interface IngestTask {
  /** Format version: set by `decodeIngestTask`; `encodeIngestTask` always writes the current one. */
  v: number;
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

const FORMAT = 2;
const NEWLINE = 0x0a;

/** Writes a task; the payload may be the item's bytes as received, which are copied, not re-encoded. */
export function encodeIngestTask(task: Omit<IngestTask, 'payload'> & { payload: string | Buffer }): Buffer {
  const { payload, ...fields } = task;
  const header = JSON.stringify({ ...fields, v: FORMAT });
  const headerLength = Buffer.byteLength(header);
  const payloadLength = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length;
  const out = Buffer.allocUnsafe(headerLength + 1 + payloadLength);
  out.write(header, 0, 'utf8');
  out[headerLength] = NEWLINE;
  if (typeof payload === 'string') out.write(payload, headerLength + 1, 'utf8');
  else payload.copy(out, headerLength + 1);
  return out;
}

export function decodeIngestTask(buf: Buffer): IngestTask {
  // JSON.stringify never writes a raw newline, so the first one ends the header line.
  const nl = buf.indexOf(NEWLINE);
  if (nl === -1) {
    const task = JSON.parse(buf.toString('utf8')) as IngestTask;
    if (task.v !== 1) throw new Error(`unknown ingest task version ${String(task.v)}`);
    return task;
  }
  const task = JSON.parse(buf.toString('utf8', 0, nl)) as IngestTask;
  if (task.v !== FORMAT) throw new Error(`unknown ingest task version ${String(task.v)}`);
  task.payload = buf.toString('utf8', nl + 1);
  return task;
}
