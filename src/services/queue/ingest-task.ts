/**
 * The message ingest puts on the queue for each accepted envelope item, and the worker reads.
 *
 * Format 2: one line of JSON with the task's fields, a newline, then the item's payload bytes as
 * received (event-like items are JSON; binary items are not queued). The payload is not escaped
 * into a JSON string, which kept ingest and the worker busy with multi-kilobyte strings twice
 * over.
 * Format 3: format 2 with the payload in one Zstandard frame (header field `c: "zstd"`), written
 * when ingest is asked to compress (a queue held in a broker's memory: Redis keeps every queued
 * byte in RAM). Uncompressed tasks are still written as format 2, so a worker of the previous
 * release reads them.
 * Format 4: format 3 with the frame made at level 1 with the project's body dictionary (header
 * field `d`: its id; services/nodestore/dictionaries.ts). The dictionary holds the code of the
 * project's events, which is most of a payload's text: benchmark payloads of 16 KB took 1.0 KB
 * instead of 2.2 KB, and compressing and decompressing were no slower (docs/decisions.md).
 * Format 1 (the whole task as one JSON object, the payload inside) is still read, so tasks
 * queued by an older version are processed after an upgrade.
 */
import { Compressor, Decompressor } from 'zstd-napi';
import { compressWithDictionary, decompressWithDictionary, type BodyDictionary } from '../nodestore/codec.js';
import { taskBytes } from './index.js';

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
const FORMAT_COMPRESSED = 3;
const FORMAT_DICTIONARY = 4;
const NEWLINE = 0x0a;
/** Below this a payload is queued as it is: a frame's overhead and the call cost more than they save. */
const COMPRESS_FROM = 1024;

// One context each per thread, reused: setting one up costs more than compressing an event.
let compressor: Compressor | undefined;
let decompressor: Decompressor | undefined;

/** A queued payload was compressed with a dictionary the reader has not loaded: load it and decode again. */
export class TaskDictionaryMissing extends Error {
  constructor(readonly dictionaryId: number) {
    super(`ingest task needs body dictionary ${dictionaryId}, which is not loaded`);
  }
}

/**
 * Writes a task; the payload may be the item's bytes as received, which are copied, not
 * re-encoded. With `compress`, a payload of 1 KB or more is stored in a Zstandard frame: with the
 * project's body `dictionary` when it has one (format 4), else at level -1, zstd's fast mode
 * (format 3: a 6 KB SDK event takes about 2.3 KB; docs/decisions.md).
 */
export function encodeIngestTask(
  task: Omit<IngestTask, 'payload'> & { payload: string | Buffer },
  opts: { compress?: boolean; dictionary?: BodyDictionary | null } = {},
): Buffer {
  return taskBytes(encodeIngestTaskParts(task, opts));
}

/**
 * `encodeIngestTask` as its header line and its payload, which a queue writes one after the
 * other (`TaskPayload`): a payload as received is then not copied at all. Copying it into one
 * buffer with its header cost ingest 4–7 µs per 15 KB event (docs/decisions.md).
 */
export function encodeIngestTaskParts(
  task: Omit<IngestTask, 'payload'> & { payload: string | Buffer },
  opts: { compress?: boolean; dictionary?: BodyDictionary | null } = {},
): Buffer[] {
  const { payload, ...fields } = task;
  let body = payload;
  let header: string;
  if (opts.compress && (typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length) >= COMPRESS_FROM) {
    const bytes = typeof payload === 'string' ? Buffer.from(payload) : payload;
    if (opts.dictionary) {
      body = compressWithDictionary(bytes, opts.dictionary);
      header = JSON.stringify({ ...fields, v: FORMAT_DICTIONARY, c: 'zstd', d: opts.dictionary.id });
    } else {
      if (!compressor) {
        compressor = new Compressor();
        compressor.setParameters({ compressionLevel: -1 });
      }
      body = compressor.compress(bytes);
      header = JSON.stringify({ ...fields, v: FORMAT_COMPRESSED, c: 'zstd' });
    }
  } else {
    header = JSON.stringify({ ...fields, v: FORMAT });
  }
  // JSON.stringify never writes a raw newline, so the first one ends the header line.
  if (typeof body === 'string') return [Buffer.from(`${header}\n${body}`)];
  return [Buffer.from(`${header}\n`), body];
}

/**
 * Reads a task. `dictionary` looks up a body dictionary's content by id (format 4); a task whose
 * dictionary it does not have throws `TaskDictionaryMissing`.
 */
export function decodeIngestTask(buf: Buffer, dictionary?: (id: number) => Buffer | undefined): IngestTask {
  // JSON.stringify never writes a raw newline, so the first one ends the header line.
  const nl = buf.indexOf(NEWLINE);
  if (nl === -1) {
    const task = JSON.parse(buf.toString('utf8')) as IngestTask;
    if (task.v !== 1) throw new Error(`unknown ingest task version ${String(task.v)}`);
    return task;
  }
  const task = JSON.parse(buf.toString('utf8', 0, nl)) as IngestTask & { c?: string; d?: number };
  if (task.v === FORMAT_DICTIONARY && task.c === 'zstd' && typeof task.d === 'number') {
    const id = task.d;
    const data = dictionary?.(id);
    if (!data) throw new TaskDictionaryMissing(id);
    // The header's last fields, deleted last first so V8 takes back the map they added.
    delete task.d;
    delete task.c;
    task.payload = decompressWithDictionary(buf.subarray(nl + 1), { id, data }).toString('utf8');
    return task;
  }
  if (task.v === FORMAT_COMPRESSED && task.c === 'zstd') {
    decompressor ??= new Decompressor();
    delete task.c;
    task.payload = decompressor.decompress(buf.subarray(nl + 1)).toString('utf8');
    return task;
  }
  if (task.v !== FORMAT) throw new Error(`unknown ingest task version ${String(task.v)}`);
  task.payload = buf.toString('utf8', nl + 1);
  return task;
}
