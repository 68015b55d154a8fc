/**
 * The delegator's call log. Sentry's delegator logged every call to Kafka and a consumer wrote
 * them to a `calls` table (seeds/001); here the records go, in small batches, to the durable
 * queue (queue `delegator`), and `drainDelegatorCalls` — run by the scheduler — writes them to
 * `delegator_calls` in batches. The request path only appends to an in-memory array.
 *
 * Left out: back-pressure. When the queue cannot keep up, records past `maxPending` are dropped
 * and counted: losing samples is better than slowing or failing the calls they describe.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../../db/index.js';
import type { QueueBackend } from '../queue/index.js';
import type { DelegatorCallRecord } from './index.js';

export const DELEGATOR_QUEUE = 'delegator';

export class DelegatorRecorder {
  readonly #queue: QueueBackend;
  readonly #maxPending: number;
  #pending: DelegatorCallRecord[] = [];
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();
  /** Records dropped because the queue fell behind. */
  dropped = 0;

  constructor(queue: QueueBackend, opts: { flushMs?: number; maxPending?: number } = {}) {
    this.#queue = queue;
    this.#maxPending = opts.maxPending ?? 20_000;
    this.#timer = setInterval(() => void this.flush(), opts.flushMs ?? 1_000);
    this.#timer.unref();
  }

  /** Appends records; never throws, never waits. */
  record = (records: DelegatorCallRecord[]): void => {
    if (this.#pending.length + records.length > this.#maxPending) {
      this.dropped += records.length;
      return;
    }
    this.#pending.push(...records);
    if (this.#pending.length >= 500) void this.flush();
  };

  /** Sends what is pending to the queue (one task per flush). */
  flush(): Promise<void> {
    this.#flushing = this.#flushing.then(async () => {
      if (this.#pending.length === 0) return;
      const batch = this.#pending;
      this.#pending = [];
      try {
        await this.#queue.enqueue(DELEGATOR_QUEUE, [Buffer.from(JSON.stringify(batch))]);
      } catch {
        this.dropped += batch.length;
      }
    });
    return this.#flushing;
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.flush();
  }
}

const toRow = (r: DelegatorCallRecord) => ({
  call_id: r.callId,
  service: r.service,
  method: r.method,
  backend: r.backend,
  role: r.role,
  latency_ms: Math.round(r.latencyMs * 1000) / 1000,
  error: r.error === null ? null : r.error.slice(0, 500),
  similarity: r.similarity,
  sampled_at: r.sampledAt,
  organization_id: r.organizationId,
  project_id: r.projectId,
});

/**
 * The consumer: moves queued call records into `delegator_calls`, up to `maxTasks` queue tasks
 * per run, one transaction per run. Returns how many rows were written.
 */
export async function drainDelegatorCalls(queue: QueueBackend, db: Kysely<Database>, maxTasks = 50): Promise<number> {
  const tasks = await queue.take(DELEGATOR_QUEUE, maxTasks, 60_000);
  if (tasks.length === 0) return 0;
  const rows = tasks.flatMap((t) => {
    try {
      return (JSON.parse(t.payload.toString('utf8')) as DelegatorCallRecord[]).map(toRow);
    } catch {
      return []; // a payload we cannot read is dropped rather than retried forever
    }
  });
  await db.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += 200) await trx.insertInto('delegator_calls').values(rows.slice(i, i + 200)).execute();
  });
  await queue.ack(tasks.map((t) => t.id));
  return rows.length;
}
