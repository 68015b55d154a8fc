/**
 * Checkpoints of faultline.db on a thread of their own, for the event worker.
 *
 * A WAL checkpoint copies the log's pages into the database file and waits for the disk. Run by
 * the committing connection (`wal_autocheckpoint`), it held the worker's commit for 40–110 ms
 * every few batches: in a database holding 300,000 events, a drain without any checkpoint was
 * 9–14 % faster. Here the worker's connection leaves them to a thread with a connection of its
 * own, which runs one while the worker prepares its next batch.
 *
 * SQLite starts the log over from its beginning only when a writer begins at a moment when every
 * page of it is in the database file; a writer that keeps committing while checkpoints run never
 * lets it, and the log grows. So the worker waits for a running checkpoint before its next write
 * transaction (`beforeWrite`), which is also what it did when the commit ran the checkpoint, but
 * now the batch was prepared meanwhile.
 *
 * How much log a commit writes varies (a grown database dirties more pages per batch), and only a
 * checkpoint reads the log's length: so one is started every `every` commits, and `every` is
 * corrected after each by how far its log was from the target size.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type BetterSqlite3 from 'better-sqlite3';

/** The thread: a connection that only ever runs passive checkpoints (it never blocks a reader or the writer). */
const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
parentPort.on('message', (message) => {
  if (message !== 'checkpoint') {
    db.close();
    parentPort.close();
    return;
  }
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)');
    parentPort.postMessage(result);
  } catch (err) {
    parentPort.postMessage({ error: String(err && err.message || err) });
  }
});
`;

interface CheckpointResult {
  busy: number;
  /** Pages in the log. */
  log: number;
  /** Pages of it now in the database file. */
  checkpointed: number;
  error?: string;
}

/** Commits between checkpoints, before the first one has measured the log. */
const FIRST_EVERY = 8;
const MAX_EVERY = 200;

export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #targetPages: number;
  readonly #fallback: () => void;
  #every = FIRST_EVERY;
  #commits = 0;
  #running: Promise<void> | null = null;
  #finish: (() => void) | null = null;
  #failed = false;
  #closed = false;
  /** Checkpoints run, for tests and profiles. */
  runs = 0;

  /**
   * Takes over the checkpoints of `conn` (a file database in WAL mode): its own stop at four
   * times `targetBytes` stays as a backstop. `fallback` is called if the thread fails, to give
   * them back to the connection.
   */
  constructor(conn: BetterSqlite3.Database, targetBytes: number, fallback: () => void) {
    const pageSize = conn.pragma('page_size', { simple: true }) as number;
    this.#targetPages = Math.max(1, Math.round(targetBytes / pageSize));
    this.#fallback = fallback;
    conn.pragma(`wal_autocheckpoint = ${4 * this.#targetPages}`);
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.#worker = new Worker(THREAD, { eval: true, workerData: { file: conn.name, driver }, resourceLimits: { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 16 } });
    // Never keeps a process alive on its own.
    this.#worker.unref();
    this.#worker.on('message', (r: CheckpointResult) => this.#done(r));
    this.#worker.on('error', () => this.#fail());
    this.#worker.on('exit', () => this.#fail());
  }

  /** Resolves once no checkpoint is running: call before a write transaction. */
  beforeWrite(): Promise<void> {
    return this.#running ?? Promise.resolve();
  }

  /** Counts a commit; starts a checkpoint when enough commits went by since the last. */
  committed(): void {
    if (this.#failed || this.#closed || this.#running) return;
    if (++this.#commits < this.#every) return;
    this.#commits = 0;
    this.#running = new Promise((resolve) => (this.#finish = resolve));
    this.#worker.postMessage('checkpoint');
  }

  /** Waits for a running checkpoint, then ends the thread. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#running;
    this.#closed = true;
    if (this.#failed) return;
    const exited = new Promise((resolve) => this.#worker.once('exit', resolve));
    this.#worker.postMessage('close');
    await exited;
  }

  #done(r: CheckpointResult): void {
    this.runs++;
    if (r.error) {
      // A checkpoint that failed (a full disk, say) is tried again at the next commit that counts.
      this.#every = 1;
    } else if (r.log > 0) {
      // Proportional: a log twice the target halves the commits between checkpoints.
      this.#every = Math.min(MAX_EVERY, Math.max(1, Math.round((this.#every * this.#targetPages) / r.log)));
    }
    this.#settle();
  }

  #fail(): void {
    if (this.#failed || this.#closed) return;
    this.#failed = true;
    try {
      this.#fallback();
    } finally {
      this.#settle();
    }
  }

  #settle(): void {
    const finish = this.#finish;
    this.#running = null;
    this.#finish = null;
    finish?.();
  }
}
