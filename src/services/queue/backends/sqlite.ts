/**
 * The embedded queue: a SQLite file of its own (`<dataDir>/queue.db`), so enqueueing never waits
 * on the metadata database's write lock (the habit of Bugsink's snappea). WAL with
 * synchronous=NORMAL: a committed enqueue survives kill -9 of the process.
 *
 * Enqueues are group-committed: the requests that arrive in one turn of the event loop are
 * written in one transaction, and each resolves only after that commit. A commit per request
 * was a third of ingest's CPU time.
 *
 * Payload bytes live in segment files beside it (payload-log.ts); queue.db holds the task rows
 * and where each payload is. Payloads of tasks queued by an older version, and of an in-memory
 * queue, are in the `task_payloads` table.
 *
 * Checkpoints (copying the WAL back into the file, with an fsync) are left to consumers: a
 * connection that only enqueues checkpoints only once the WAL passes 64 MB (no consumer running),
 * and switches to every 32 MB on its first `take`. A checkpoint on ingest's
 * connection stalled its event loop for tens of milliseconds; p99 loop delay went from ~33 ms
 * to ~9 ms and ingest accepted about 40 % more.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { taskBytes, taskLength, type QueueBackend, type QueueOptions, type QueueStats, type QueueTask, type TaskPayload } from '../index.js';
import { PayloadLog, type PayloadRef } from './payload-log.js';

/**
 * 16 KB pages: an event's payload (15 KB typical) takes one or two pages instead of a chain of
 * four 4 KB overflow pages, each its own WAL frame. Measured on 15 KB payloads in group commits of
 * 16, checkpointing every 64 MB (three runs each): CPU per payload to enqueue 52 µs with 4 KB
 * pages, 45 µs with 16 KB, 73 µs with 64 KB (checkpoints copy more); to take and ack 33, 27, 30 µs.
 */
const PAGE_SIZE = 16_384;
/** `readPayload` reads payloads up to this size into one reused buffer (SDK events are far smaller). */
const SCRATCH_BYTES = 256 * 1024;

/** 64 MB of WAL: a producer checkpoints only when no consumer does. */
const PRODUCER_CHECKPOINT_PAGES = (64 * 1024 * 1024) / PAGE_SIZE;
/**
 * The consumer's: below the producer's, so ingest's connection never checkpoints while a worker
 * runs. At SQLite's usual 4 MB the worker checkpointed several times a second, each time copying
 * the same few hot pages (the queue's tail, its index) and syncing the file: its takes and acks
 * took 2.2–2.4 ms each under load, 1.6–1.8 ms at 32 MB (docs/decisions.md).
 */
const CONSUMER_CHECKPOINT_PAGES = (32 * 1024 * 1024) / PAGE_SIZE;
/** Free pages past this many bytes are given back to the file system once the queue is empty. */
const FREE_BYTES_KEPT = 64 * 1024 * 1024;
const SHRINK_STEP_BYTES = 16 * 1024 * 1024;
/** Older files are converted to the page size on open only when their live tasks copy quickly. */
const CONVERT_MAX_TASKS = 50_000;
/** A payload segment is closed for appends past this size; it is deleted once its tasks are done. */
const SEGMENT_BYTES = 32 * 1024 * 1024;
/** With no task left, a segment holding more than this is closed, so its space goes back. */
const EMPTY_ROTATE_BYTES = 1024 * 1024;

interface LeasedRow {
  id: number;
  attempts: number;
  log_segment: number | null;
  log_offset: number | null;
  log_length: number | null;
}

function refOf(r: LeasedRow): PayloadRef | null {
  return r.log_segment === null ? null : { segment: r.log_segment, offset: r.log_offset!, length: r.log_length! };
}

export class SqliteQueueBackend implements QueueBackend {
  readonly broker = false;
  readonly #db: BetterSqlite3.Database;
  readonly #maxAttempts: number;
  /** Payload segment files; null for an in-memory queue, whose payloads stay in `task_payloads`. */
  readonly #log: PayloadLog | null;
  /** Writes one group commit's tasks (in a transaction that holds the write lock). */
  readonly #insert: (items: { queue: string; payloads: TaskPayload[] }[], now: number) => void;
  readonly #take: BetterSqlite3.Transaction<(queue: string, now: number, leaseMs: number, max: number) => { leased: LeasedRow[]; inTable: Map<number, Buffer> }>;
  readonly #delete: BetterSqlite3.Transaction<(ids: number[]) => void>;
  #pending: { queue: string; payloads: TaskPayload[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  /** `readPayload`'s buffer, shared by this connection's consumers (each read is used synchronously). */
  readonly #scratch = Buffer.allocUnsafeSlow(SCRATCH_BYTES);
  /** The log bytes `#scratch` holds: committed payloads only, so they never change. */
  #window: { segment: number; start: number; end: number } | null = null;
  #flushScheduled = false;
  /** This connection takes tasks, so it does the checkpoints. */
  #consumer = false;
  #lastShrink = 0;
  #lastCollect = 0;
  readonly #anyTask: BetterSqlite3.Statement;
  readonly #logPosition: BetterSqlite3.Statement;
  readonly #oldestSegment: BetterSqlite3.Statement;
  readonly #rotateIfEmpty: BetterSqlite3.Transaction<(segment: number) => void>;

  constructor(opts: QueueOptions) {
    const file = opts.dataDir === ':memory:' ? ':memory:' : path.join(opts.dataDir, 'queue.db');
    if (file !== ':memory:') mkdirSync(opts.dataDir, { recursive: true });
    this.#db = new BetterSqlite3(file);
    setPageSize(this.#db);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 10000');
    this.#db.pragma(`wal_autocheckpoint = ${PRODUCER_CHECKPOINT_PAGES}`);
    migrate(this.#db);
    this.#anyTask = this.#db.prepare('SELECT 1 FROM tasks LIMIT 1');
    this.#maxAttempts = opts.maxAttempts;
    this.#log = file === ':memory:' ? null : new PayloadLog(opts.dataDir);
    this.#logPosition = this.#db.prepare('SELECT segment, next_offset FROM payload_log WHERE id = 1');
    this.#oldestSegment = this.#db.prepare('SELECT MIN(log_segment) AS segment FROM tasks');
    const setPosition = this.#db.prepare('UPDATE payload_log SET segment = ?, next_offset = ? WHERE id = 1');
    const insertTask = this.#db.prepare('INSERT INTO tasks (queue, available_at, created) VALUES (?, 0, ?)');
    const insertPayload = this.#db.prepare('INSERT INTO task_payloads (id, payload) VALUES (?, ?)');
    const insertLogged = this.#db.prepare('INSERT INTO tasks (queue, available_at, created, log_segment, log_offset, log_length) VALUES (?, 0, ?, ?, ?, ?)');
    this.#insert = (items, now) => {
      const log = this.#log;
      if (!log) {
        for (const { queue, payloads } of items) for (const p of payloads) insertPayload.run(insertTask.run(queue, now).lastInsertRowid, taskBytes(p));
        return;
      }
      let { segment, next_offset: offset } = this.#logPosition.get() as { segment: number; next_offset: number };
      // A task in parts (its header, then the payload as received) is written as they are.
      const parts: Buffer[] = [];
      let bytes = 0;
      for (const it of items) {
        for (const p of it.payloads) {
          if (Buffer.isBuffer(p)) parts.push(p);
          else parts.push(...p);
          bytes += taskLength(p);
        }
      }
      if (offset > 0 && offset + bytes > SEGMENT_BYTES) {
        segment++;
        offset = 0;
      }
      log.write(segment, offset, parts);
      for (const { queue, payloads } of items) {
        for (const p of payloads) {
          const length = taskLength(p);
          insertLogged.run(queue, now, segment, offset, length);
          offset += length;
        }
      }
      setPosition.run(segment, offset);
    };
    // Closes an idle segment so the next collection deletes it; only if still nothing refers to it.
    this.#rotateIfEmpty = this.#db.transaction((segment: number) => {
      if ((this.#oldestSegment.get() as { segment: number | null }).segment !== null) return;
      this.#db.prepare('UPDATE payload_log SET segment = segment + 1, next_offset = 0 WHERE id = 1 AND segment = ?').run(segment);
    });
    // One statement selects and leases, so it is atomic even with several worker processes.
    const lease = this.#db.prepare(
      `UPDATE tasks SET available_at = ?, attempts = attempts + 1
       WHERE id IN (SELECT id FROM tasks WHERE queue = ? AND available_at <= ? ORDER BY available_at, id LIMIT ?)
       RETURNING id, attempts, log_segment, log_offset, log_length`,
    );
    const payloads = this.#db.prepare('SELECT id, payload FROM task_payloads WHERE id IN (SELECT value FROM json_each(?))');
    this.#take = this.#db.transaction((queue: string, now: number, leaseMs: number, max: number) => {
      const leased = lease.all(now + leaseMs, queue, now, max) as LeasedRow[];
      const old = leased.filter((r) => r.log_segment === null).map((r) => r.id);
      const inTable = new Map(old.length ? (payloads.all(JSON.stringify(old)) as { id: number; payload: Buffer }[]).map((r) => [r.id, r.payload]) : []);
      return { leased, inTable };
    });
    const deleteTasks = this.#db.prepare('DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))');
    const deletePayloads = this.#db.prepare('DELETE FROM task_payloads WHERE id IN (SELECT value FROM json_each(?))');
    this.#delete = this.#db.transaction((ids: number[]) => {
      const json = JSON.stringify(ids);
      deleteTasks.run(json);
      deletePayloads.run(json);
    });
  }

  enqueue(queue: string, payloads: TaskPayload[]): Promise<void> {
    if (payloads.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#pending.push({ queue, payloads, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    if (batch.length === 0) return;
    const now = Date.now();
    try {
      // IMMEDIATE: the transaction reads the log position before it writes.
      this.#db.transaction(() => this.#insert(batch, now)).immediate();
      for (const b of batch) b.resolve();
    } catch {
      // Something in the batch failed (disk full, a lock timeout): commit each request on its own
      // so one failure is answered as one, and the others still get their own verdict.
      for (const b of batch) {
        try {
          this.#db.transaction(() => this.#insert([b], now)).immediate();
          b.resolve();
        } catch (err) {
          b.reject(err);
        }
      }
    }
  }

  async take(queue: string, max: number, leaseMs: number): Promise<QueueTask[]> {
    if (!this.#consumer) {
      this.#consumer = true;
      this.#db.pragma(`wal_autocheckpoint = ${CONSUMER_CHECKPOINT_PAGES}`);
      // The lease's RETURNING rows go to a temporary table: in memory, not a file per statement.
      this.#db.pragma('temp_store = MEMORY');
    }
    const { leased, inTable } = this.#take.immediate(queue, Date.now(), leaseMs, max);
    this.#collect();
    if (leased.length === 0) {
      this.#shrink();
      return [];
    }
    leased.sort((a, b) => a.id - b.id); // RETURNING gives no order
    // A payload in the log is read when the consumer asks for it: `payload` into a buffer of its
    // own, `readPayload` into this connection's reused one. Read together, a batch's payloads shared
    // one buffer that lived until the whole batch was saved, outlived V8's young generation and,
    // 2-3 MB a batch, held 60-70 MB of the worker's memory until a full collection
    // (docs/decisions.md). The segment stays while the task is leased.
    const log = this.#log;
    const refs = leased.map(refOf);
    // Where each task's run of neighbouring payloads ends: a read for one task may take its
    // neighbours' bytes along, never bytes past the run (they may belong to no committed task yet).
    const runEnds = new Array<number>(refs.length);
    for (let i = refs.length - 1; i >= 0; i--) {
      const ref = refs[i];
      if (!ref) continue;
      const next = refs[i + 1];
      runEnds[i] = next && next.segment === ref.segment && next.offset === ref.offset + ref.length ? runEnds[i + 1] : ref.offset + ref.length;
    }
    const tasks: QueueTask[] = [];
    for (let i = 0; i < leased.length; i++) {
      const r = leased[i];
      const ref = refs[i];
      if (ref && log) tasks.push(new LoggedTask(String(r.id), queue, r.attempts, ref, runEnds[i], log, this.#reader));
      else tasks.push({ id: String(r.id), queue, payload: inTable.get(r.id) ?? Buffer.alloc(0), attempts: r.attempts });
    }
    return tasks;
  }

  /** Reads a payload through `#scratch` (`LoggedTask.readPayload`). */
  readonly #reader = (log: PayloadLog, ref: PayloadRef, runEnd: number): Buffer => this.#readWindowed(log, ref, runEnd);

  /**
   * A payload from `#scratch`, reading it (with the neighbours up to `runEnd`, as far as the buffer
   * holds) when it is not there yet. One read per payload cost the worker about 14 µs each, nearly
   * all of it a fixed cost of the system call with the caches cold from processing the event before;
   * one read of 240 KB cost about as much as one of 15 KB (docs/decisions.md).
   */
  #readWindowed(log: PayloadLog, ref: PayloadRef, runEnd: number): Buffer {
    const w = this.#window;
    if (w && w.segment === ref.segment && ref.offset >= w.start && ref.offset + ref.length <= w.end) {
      return this.#scratch.subarray(ref.offset - w.start, ref.offset - w.start + ref.length);
    }
    this.#window = null;
    if (ref.length > this.#scratch.length) {
      const own = Buffer.allocUnsafe(ref.length);
      return own.subarray(0, log.readAt(ref.segment, ref.offset, ref.length, own));
    }
    const length = Math.max(ref.length, Math.min(runEnd - ref.offset, this.#scratch.length));
    const got = log.readAt(ref.segment, ref.offset, length, this.#scratch);
    if (got > 0) this.#window = { segment: ref.segment, start: ref.offset, end: ref.offset + got };
    return this.#scratch.subarray(0, Math.min(got, ref.length));
  }

  /**
   * At most once a second, by a consumer: deletes payload segments no task refers to, closes an
   * idle segment so its space goes back, and flushes the segment being written to the disk (an OS
   * crash loses at most about a second of payloads; a killed process loses none).
   */
  #collect(): void {
    const log = this.#log;
    const now = Date.now();
    if (!log || now - this.#lastCollect < 1_000) return;
    this.#lastCollect = now;
    const position = this.#logPosition.get() as { segment: number; next_offset: number };
    let current = position.segment;
    const oldest = (this.#oldestSegment.get() as { segment: number | null }).segment;
    if (oldest === null && position.next_offset > EMPTY_ROTATE_BYTES) {
      this.#rotateIfEmpty.immediate(current);
      current = (this.#logPosition.get() as { segment: number }).segment;
    }
    log.deleteBelow(Math.min(oldest ?? current, current));
    if (position.next_offset > 0 && current === position.segment) log.sync(current);
  }

  /**
   * After a burst the file keeps its peak size (hundreds of MB): once the queue runs empty, give
   * free pages past FREE_BYTES_KEPT back, 16 MB at most once a second (about 20 ms each: the
   * write lock it holds would stall a same-process ingest that long).
   */
  #shrink(): void {
    const now = Date.now();
    if (now - this.#lastShrink < 1_000) return;
    this.#lastShrink = now;
    // Only when every queue is empty: free pages are reused by the next enqueue anyway.
    if (this.#anyTask.get()) return;
    const free = this.#db.pragma('freelist_count', { simple: true }) as number;
    const pageSize = this.#db.pragma('page_size', { simple: true }) as number;
    const excess = free - Math.floor(FREE_BYTES_KEPT / pageSize);
    if (excess > 0) this.#db.pragma(`incremental_vacuum(${Math.min(excess, Math.ceil(SHRINK_STEP_BYTES / pageSize))})`);
  }

  async ack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    this.#delete(ids.map(Number));
    this.#collect();
  }

  async nack(id: string, error: string, delayMs: number): Promise<void> {
    this.#db.transaction(() => {
      const row = this.#db
        .prepare('SELECT t.id, t.queue, t.attempts, t.created, t.log_segment, t.log_offset, t.log_length, p.payload FROM tasks t LEFT JOIN task_payloads p ON p.id = t.id WHERE t.id = ?')
        .get(Number(id)) as (LeasedRow & { queue: string; created: number; payload: Buffer | null }) | undefined;
      if (!row) return;
      if (row.attempts >= this.#maxAttempts) {
        // A dead letter keeps its payload in queue.db: the segment it came from will be deleted.
        const ref = refOf(row);
        const payload = ref && this.#log ? this.#log.read([ref])[0] : (row.payload ?? Buffer.alloc(0));
        this.#db
          .prepare('INSERT INTO dead_letters (id, queue, payload, attempts, created, died, last_error) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(row.id, row.queue, payload, row.attempts, row.created, Date.now(), error.slice(0, 2000));
        this.#delete([row.id]);
      } else {
        this.#db
          .prepare('UPDATE tasks SET available_at = ?, last_error = ? WHERE id = ?')
          .run(Date.now() + delayMs, error.slice(0, 2000), row.id);
      }
    })();
  }

  /**
   * Counted on the `tasks_ready` index alone (a queue's entries, then the few leased ones past
   * now): reading each task's lease time to sum ready and leased apart took 13–33 ms for 200,000
   * tasks, counting 5 ms; on the ingest thread either holds every request that long.
   */
  async stats(queue: string): Promise<QueueStats> {
    const now = Date.now();
    const all = (this.#db.prepare('SELECT COUNT(*) AS n FROM tasks WHERE queue = ?').get(queue) as { n: number }).n;
    const leased = (this.#db.prepare('SELECT COUNT(*) AS n FROM tasks WHERE queue = ? AND available_at > ?').get(queue, now) as { n: number }).n;
    const d = this.#db.prepare('SELECT COUNT(*) AS n FROM dead_letters WHERE queue = ?').get(queue) as { n: number };
    return { ready: all - leased, leased, dead: d.n };
  }

  /**
   * Task ids are distinct integers, so the file holds at most `max(id) - min(id) + 1` tasks of all
   * queues together: two lookups, and while that is within the limit (nearly always) nothing is
   * counted. Past it, the queue's tasks are counted, up to the limit.
   */
  async backlogAbove(queue: string, limit: number): Promise<boolean> {
    const lo = (this.#db.prepare('SELECT MIN(id) AS id FROM tasks').get() as { id: number | null }).id;
    if (lo === null) return false;
    const hi = (this.#db.prepare('SELECT MAX(id) AS id FROM tasks').get() as { id: number }).id;
    if (hi - lo + 1 <= limit) return false;
    const r = this.#db.prepare('SELECT COUNT(*) AS n FROM (SELECT 1 FROM tasks WHERE queue = ? LIMIT ?)').get(queue, limit + 1) as { n: number };
    return r.n > limit;
  }

  async close(): Promise<void> {
    this.#flush();
    this.#db.close();
    this.#log?.close();
  }
}

/**
 * New files get 16 KB pages and incremental auto-vacuum (both must be chosen before the first
 * table). A file made with other settings is rebuilt with VACUUM when it holds few tasks and no
 * other process has it open; otherwise it is used as it is (slower, never wrong).
 */
function setPageSize(db: BetterSqlite3.Database): void {
  const isNew = (db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n === 0;
  if (isNew) {
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('auto_vacuum = INCREMENTAL');
    return;
  }
  if ((db.pragma('page_size', { simple: true }) as number) === PAGE_SIZE && (db.pragma('auto_vacuum', { simple: true }) as number) === 2) return;
  try {
    const count = (table: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;
    if (count('tasks') + count('dead_letters') > CONVERT_MAX_TASKS) return;
    db.pragma('busy_timeout = 0');
    db.pragma('journal_mode = DELETE'); // page size cannot change in WAL mode; fails if others have the file open
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('auto_vacuum = INCREMENTAL');
    db.exec('VACUUM');
  } catch {
    // Busy or not convertible now: keep the file as it is.
  }
}

/**
 * Schema version 2 keeps the payload bytes in a table of their own: leasing rewrites a task's row,
 * and SQLite rewrites a whole row, so with the payload inside every lease copied the event's
 * kilobytes. Version 1 files (tasks with their payload) are converted in place on open.
 * Version 3 adds where a payload is in the segment files (payload-log.ts) and the append position;
 * tasks of version 2 keep their payload in `task_payloads`.
 */
function migrate(db: BetterSqlite3.Database): void {
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < 2) migrateToV2(db);
    if (version < 3) {
      db.exec(`
        ALTER TABLE tasks ADD COLUMN log_segment INTEGER;
        ALTER TABLE tasks ADD COLUMN log_offset INTEGER;
        ALTER TABLE tasks ADD COLUMN log_length INTEGER;
        CREATE INDEX tasks_log_segment ON tasks (log_segment) WHERE log_segment IS NOT NULL;
        CREATE TABLE payload_log (id INTEGER PRIMARY KEY CHECK (id = 1), segment INTEGER NOT NULL, next_offset INTEGER NOT NULL);
        INSERT INTO payload_log (id, segment, next_offset) VALUES (1, 1, 0);`);
      db.pragma('user_version = 3');
    }
  }).immediate();
}

function migrateToV2(db: BetterSqlite3.Database): void {
  const hasV1 = (db.prepare("SELECT COUNT(*) AS n FROM pragma_table_info('tasks') WHERE name = 'payload'").get() as { n: number }).n > 0;
  if (hasV1) db.exec('DROP INDEX IF EXISTS tasks_ready; ALTER TABLE tasks RENAME TO tasks_v1;');
  db.exec(`
    CREATE TABLE tasks (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      queue TEXT NOT NULL,
      attempts INTEGER NOT NULL DEFAULT 0,
      available_at INTEGER NOT NULL,
      created INTEGER NOT NULL,
      last_error TEXT
    );
    CREATE INDEX tasks_ready ON tasks (queue, available_at, id);
    CREATE TABLE task_payloads (id INTEGER PRIMARY KEY, payload BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS dead_letters (
      id INTEGER PRIMARY KEY,
      queue TEXT NOT NULL,
      payload BLOB NOT NULL,
      attempts INTEGER NOT NULL,
      created INTEGER NOT NULL,
      died INTEGER NOT NULL,
      last_error TEXT
    );`);
  if (hasV1) {
    db.exec(`
      INSERT INTO tasks (id, queue, attempts, available_at, created, last_error)
        SELECT id, queue, attempts, available_at, created, last_error FROM tasks_v1;
      INSERT INTO task_payloads (id, payload) SELECT id, payload FROM tasks_v1;
      DROP TABLE tasks_v1;`);
  }
  db.pragma('user_version = 2');
}

/**
 * A task whose payload is in the segment file. A class rather than an object with closures made
 * for each task: a batch's tasks live until it is saved, and V8 compiled closures made per call
 * again every few batches (docs/decisions.md).
 */
class LoggedTask implements QueueTask {
  constructor(
    readonly id: string,
    readonly queue: string,
    readonly attempts: number,
    private readonly ref: PayloadRef,
    private readonly runEnd: number,
    private readonly log: PayloadLog,
    private readonly reader: (log: PayloadLog, ref: PayloadRef, runEnd: number) => Buffer,
  ) {}

  get payload(): Buffer {
    return this.log.read([this.ref])[0];
  }

  readPayload<T>(use: (bytes: Buffer) => T): T {
    return use(this.reader(this.log, this.ref, this.runEnd));
  }
}
