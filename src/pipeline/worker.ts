/**
 * The event worker: takes batches from the ingest queue and walks each item through the steps
 * (normalize → inbound filters → scrub → symbolicate → group → save), then acks. A batch is saved in one transaction; if that fails, the
 * batch is retried one event at a time so one poisoned event cannot hold back the others, and
 * only the failing task is nacked (retried, then dead-lettered with its error). Each saved event
 * then gets one post-process task (post-process.ts: alert rules, snoozes, notifications), enqueued
 * after the commit so rules read what was saved; the events row records that it needs one, so a
 * worker that dies between the commit and the enqueue leaves a task whose redelivery queues it.
 *
 * Batches are pipelined: while one batch's save waits on the database, the next batch is taken
 * and prepared (normalized, scrubbed, grouped), so a networked database's round trips overlap
 * with CPU work instead of idling the worker. Saves still run one after another, in order.
 */
import type { Logger } from 'pino';
import { walPages, WORKER_CHECKPOINT_BYTES, type Dialect } from '../db/index.js';
import { WalCheckpointer } from '../db/checkpointer.js';
import { ProtocolError } from '../protocol/index.js';
import type { Services } from '../services/index.js';
import { decodeIngestTask, INGEST_QUEUE, TaskDictionaryMissing, type IngestTask } from '../services/queue/ingest-task.js';
import type { QueueTask } from '../services/queue/index.js';
import { CacheReadMemo } from '../services/cache/read-memo.js';
import { createBatchContext, type BatchContext } from './context.js';
import { PollingLoop } from './polling-loop.js';
import { groupNormalizedEvent } from './group.js';
import { inboundFilterReason } from './filter.js';
import { normalizeTask } from './normalize.js';
import { scrubEvent } from './scrub.js';
import { outcomesForItem, saveOutcomes, type Outcome } from './outcomes.js';
import { saveSessionCounts, sessionCountsForItem, type SessionCount } from './release-health.js';
import { symbolicateJs } from './symbolicate.js';
import { readyForSave, saveBatch, type ProcessedEvent } from './save.js';
import { isDiscarded } from './tombstones.js';
import { enqueuePostProcess } from './post-process-task.js';

const EVENT_ITEMS = new Set(['event']);

/**
 * Events per batch (and transaction) when `FAULTLINE_WORKER_BATCH_SIZE` is unset. A SQLite commit
 * writes every page the batch dirtied, whole, to the write-ahead log, and the pages of the issues,
 * their tag values and the indexes' hot ends are dirtied by nearly every batch: at 200 events per
 * commit instead of 100 the worker's SQL time fell from 4.9-6.5 to 3.8-4.0 s per 40,000 events
 * (`bench --profile-worker`, five pairs). On PostgreSQL a commit writes only changed rows, but each
 * statement is a round trip that wakes the server: 200 there drained 5-12 % faster at less CPU
 * per event (docs/decisions.md). MySQL keeps 100, not measured.
 */
export const DEFAULT_BATCH_SIZE: Record<Dialect, number> = { sqlite: 200, postgres: 200, mysql: 100 };

export interface WorkerOptions {
  /** Unset: `DEFAULT_BATCH_SIZE` for the database. */
  batchSize?: number;
  leaseMs: number;
  /** How long to wait when the queue is empty (ms); `notify()` wakes the worker earlier. */
  idleMs?: number;
  /**
   * SQLite: run faultline.db's checkpoints on a thread of their own (db/checkpointer.ts; the
   * default). A helper (a spare worker thread, the idle drain) leaves them to the first worker and
   * checkpoints itself only past 40 MB.
   */
  checkpointThread?: boolean;
}

interface PreparedBatch {
  events: { task: QueueTask; processed: ProcessedEvent }[];
  outcomes: Outcome[];
  sessionCounts: SessionCount[];
  /** Tasks already settled (filtered, invalid, non-event items), acked with the batch. */
  done: string[];
}

export class EventWorker {
  readonly #services: Services;
  readonly #ctx: BatchContext;
  readonly #log: Logger;
  readonly #opts: Required<WorkerOptions>;
  readonly #polling: PollingLoop;
  /** The previous batch's save, still running while the next batch is prepared. */
  #saving: Promise<void> = Promise.resolve();
  /** SQLite: runs faultline.db's checkpoints on another thread while batches are prepared. */
  #checkpoints: WalCheckpointer | null = null;

  constructor(services: Services, log: Logger, opts: WorkerOptions) {
    this.#services = services;
    this.#ctx = createBatchContext(services);
    this.#log = log;
    this.#opts = { idleMs: 250, checkpointThread: true, ...opts, batchSize: opts.batchSize ?? DEFAULT_BATCH_SIZE[services.database.dialect] };
    const sqlite = services.database.sqlite;
    if (sqlite) {
      // Also when the thread fails; by then the connection may be closed (a worker never started).
      const ownCheckpoints = () => sqlite.open && sqlite.pragma(`wal_autocheckpoint = ${walPages(sqlite, WORKER_CHECKPOINT_BYTES)}`);
      if (sqlite.memory || !this.#opts.checkpointThread) ownCheckpoints();
      else this.#checkpoints = new WalCheckpointer(sqlite, WORKER_CHECKPOINT_BYTES, ownCheckpoints);
    }
    // SQLite collects a statement's RETURNING rows (the user tag values' upsert) in a temporary
    // table, by default backed by a file opened for each statement: in memory, a 200-row upsert
    // took 790 instead of 1,000 µs. The worker's statements are batch-sized, so this stays small;
    // the API's connection keeps spilling large sorts to a file.
    sqlite?.pragma('temp_store = MEMORY');
    this.#polling = new PollingLoop(() => this.runOnce(), this.#opts.idleMs, (err) => this.#log.error({ err }, 'worker batch failed'));
  }

  start(): void {
    this.#polling.start();
  }

  /** Stops after the batch in hand is saved and acked. */
  async stop(): Promise<void> {
    await this.#polling.stop();
    await this.#saving;
    await this.#checkpoints?.close();
  }

  /** Tells an idle worker that new tasks are waiting (same-process ingest). */
  notify(): void {
    this.#polling.notify();
  }

  /**
   * Takes and prepares one batch, waits for the previous batch's save, then starts this one's and
   * returns how many tasks it took. When the queue is empty it returns 0 only after the last save
   * finished, so `while (await runOnce() > 0);` leaves everything saved.
   */
  async runOnce(): Promise<number> {
    const tasks = await this.#services.queue.take(INGEST_QUEUE, this.#opts.batchSize, this.#opts.leaseMs);
    if (tasks.length === 0) {
      await this.#saving;
      return 0;
    }
    const prepared = await this.#prepare(tasks);
    await this.#saving;
    this.#saving = this.#save(prepared).catch((err) => this.#log.error({ err }, 'worker batch save failed'));
    return tasks.length;
  }

  async #prepare(tasks: QueueTask[]): Promise<PreparedBatch> {
    const events: { task: QueueTask; processed: ProcessedEvent }[] = [];
    const outcomes: Outcome[] = [];
    const sessionCounts: SessionCount[] = []; // release health (release-health.ts)
    const done: string[] = [];
    // The batch's events read the same few cache keys (settings, discarded hashes, release files):
    // each is read once per batch (services/cache/read-memo.ts).
    const ctx = createBatchContext({ ...this.#services, cache: new CacheReadMemo(this.#services.cache) });
    let n = 0;
    for (const task of tasks) {
      // Normalizing and grouping are synchronous CPU work: give the event loop back every few
      // events so a same-process ingest keeps answering SDKs quickly during a big batch.
      if (++n % 8 === 0) await new Promise((resolve) => setImmediate(resolve));
      let ingest: IngestTask;
      try {
        ingest = await this.#decode(task);
      } catch (err) {
        await this.#services.queue.nack(task.id, `undecodable task: ${(err as Error).message}`, 0);
        continue;
      }
      try {
        if (!EVENT_ITEMS.has(ingest.itemType)) {
          outcomes.push(...outcomesForItem(ingest));
          sessionCounts.push(...sessionCountsForItem(ingest)); // [] unless a session item with a release
          done.push(task.id);
          continue;
        }
        const project = await ctx.project(ingest.projectId);
        if (!project) {
          // The project was deleted after the event was accepted: nothing to save it to.
          outcomes.push({ projectId: ingest.projectId, timestamp: ingest.receivedAt, category: 'error', outcome: 'invalid', reason: 'project_missing', quantity: 1 });
          done.push(task.id);
          continue;
        }
        const event = normalizeTask(ingest);
        const filtered = inboundFilterReason(event, project.options);
        if (filtered) {
          outcomes.push({ projectId: ingest.projectId, timestamp: ingest.receivedAt, category: 'error', outcome: 'filtered', reason: filtered, quantity: 1 });
          done.push(task.id);
          continue;
        }
        scrubEvent(event, project.options);
        await symbolicateJs(ctx, event, project); // JS source maps, before grouping
        const grouping = groupNormalizedEvent(event, project);
        if (await isDiscarded(ctx.services, project.id, grouping.hashes)) {
          outcomes.push({ projectId: ingest.projectId, timestamp: ingest.receivedAt, category: 'error', outcome: 'filtered', reason: 'discarded_hash', quantity: 1 });
          done.push(task.id);
          continue;
        }
        await this.#services.bodyDictionaries.ready(project.id);
        const ready = readyForSave(event, project, this.#services.bodyDictionaries);
        // A literal, not a spread with fields added: see normalize.ts on V8's maps.
        const processed: ProcessedEvent = { event: ready.event, body: ready.body, message: ready.message, grouping, project, size: Buffer.byteLength(ingest.payload) };
        events.push({ task, processed });
      } catch (err) {
        if (err instanceof ProtocolError) {
          outcomes.push({ projectId: ingest.projectId, timestamp: ingest.receivedAt, category: 'error', outcome: 'invalid', reason: err.reason, quantity: 1 });
          done.push(task.id);
        } else {
          this.#log.warn({ err, task: task.id }, 'event processing failed; will retry');
          await this.#services.queue.nack(task.id, String((err as Error)?.stack ?? err), 1000);
        }
      }
    }
    return { events, outcomes, sessionCounts, done };
  }

  /**
   * Reads a task, first loading the body dictionary its payload was compressed with (format 4).
   * `decodeIngestTask` keeps nothing of the bytes it is given (the payload becomes a string), so it
   * may read them from the queue's reused buffer.
   */
  async #decode(task: QueueTask): Promise<IngestTask> {
    const { lookup } = this.#services.bodyDictionaries;
    const decode = () => (task.readPayload ? task.readPayload((bytes) => decodeIngestTask(bytes, lookup)) : decodeIngestTask(task.payload, lookup));
    try {
      return decode();
    } catch (err) {
      if (!(err instanceof TaskDictionaryMissing)) throw err;
      await this.#services.bodyDictionaries.load([err.dictionaryId]);
      return decode();
    }
  }

  async #save({ events, outcomes, sessionCounts, done }: PreparedBatch): Promise<void> {
    // Tasks delivered for the first time cannot have been saved by an earlier delivery; an event id
    // sent twice by an SDK fails the batch on the unique key (PostgreSQL, MySQL; SQLite checks
    // every batch) and is found one by one below.
    const checkSaved = events.some((e) => e.task.attempts > 1);
    await this.#checkpoints?.beforeWrite();
    try {
      const saved = await saveBatch(this.#ctx, events.map((e) => e.processed), { checkSaved });
      await enqueuePostProcess(this.#services.queue, saved.events.filter((e) => e.postProcess));
      done.push(...events.map((e) => e.task.id));
    } catch (err) {
      this.#log[checkSaved ? 'warn' : 'info']({ err }, 'batch save failed; saving events one by one');
      for (const e of events) {
        try {
          const saved = await saveBatch(this.#ctx, [e.processed]);
          await enqueuePostProcess(this.#services.queue, saved.events.filter((e) => e.postProcess));
          done.push(e.task.id);
        } catch (inner) {
          await this.#services.queue.nack(e.task.id, String((inner as Error)?.stack ?? inner), 1000);
        }
      }
    }
    if (outcomes.length) await saveOutcomes(this.#services.database.db, this.#services.database.dialect, outcomes);
    // One transaction, so release health never shows a crashed session without its crashed user.
    if (sessionCounts.length) {
      await this.#services.database.db.transaction().execute((trx) => saveSessionCounts(trx, this.#services.database.dialect, sessionCounts));
    }
    this.#checkpoints?.committed();
    await this.#services.queue.ack(done);
  }
}
