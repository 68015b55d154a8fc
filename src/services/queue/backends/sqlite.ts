/**
 * The embedded queue: a SQLite file of its own (`<dataDir>/queue.db`), so enqueueing never waits
 * on the metadata database's write lock (the habit of Bugsink's snappea). WAL with
 * synchronous=NORMAL: a committed enqueue survives kill -9 of the process.
 *
 * Enqueues are group-committed: the requests that arrive in one turn of the event loop are
 * written in one transaction, and each resolves only after that commit. A commit per request
 * was a third of ingest's CPU time.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import type { QueueBackend, QueueOptions, QueueStats, QueueTask } from '../index.js';

export class SqliteQueueBackend implements QueueBackend {
  readonly #db: BetterSqlite3.Database;
  readonly #maxAttempts: number;
  readonly #insert: BetterSqlite3.Statement;
  readonly #take: BetterSqlite3.Statement;
  readonly #delete: BetterSqlite3.Statement;
  readonly #deleteMany: BetterSqlite3.Statement;
  #pending: { queue: string; payloads: Buffer[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  #flushScheduled = false;

  constructor(opts: QueueOptions) {
    const file = opts.dataDir === ':memory:' ? ':memory:' : path.join(opts.dataDir, 'queue.db');
    if (file !== ':memory:') mkdirSync(opts.dataDir, { recursive: true });
    this.#db = new BetterSqlite3(file);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 10000');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS tasks (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        queue TEXT NOT NULL,
        payload BLOB NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        available_at INTEGER NOT NULL,
        created INTEGER NOT NULL,
        last_error TEXT
      );
      CREATE INDEX IF NOT EXISTS tasks_ready ON tasks (queue, available_at, id);
      CREATE TABLE IF NOT EXISTS dead_letters (
        id INTEGER PRIMARY KEY,
        queue TEXT NOT NULL,
        payload BLOB NOT NULL,
        attempts INTEGER NOT NULL,
        created INTEGER NOT NULL,
        died INTEGER NOT NULL,
        last_error TEXT
      );`);
    this.#maxAttempts = opts.maxAttempts;
    this.#insert = this.#db.prepare('INSERT INTO tasks (queue, payload, available_at, created) VALUES (?, ?, 0, ?)');
    // One statement selects and leases, so it is atomic even with several worker processes.
    this.#take = this.#db.prepare(
      `UPDATE tasks SET available_at = ?, attempts = attempts + 1
       WHERE id IN (SELECT id FROM tasks WHERE queue = ? AND available_at <= ? ORDER BY available_at, id LIMIT ?)
       RETURNING id, payload, attempts`,
    );
    this.#delete = this.#db.prepare('DELETE FROM tasks WHERE id = ?');
    this.#deleteMany = this.#db.prepare('DELETE FROM tasks WHERE id IN (SELECT value FROM json_each(?))');
  }

  enqueue(queue: string, payloads: Buffer[]): Promise<void> {
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
      this.#db.transaction(() => {
        for (const b of batch) for (const p of b.payloads) this.#insert.run(b.queue, p, now);
      })();
      for (const b of batch) b.resolve();
    } catch {
      // Something in the batch failed (disk full, a lock timeout): commit each request on its own
      // so one failure is answered as one, and the others still get their own verdict.
      for (const b of batch) {
        try {
          this.#db.transaction(() => {
            for (const p of b.payloads) this.#insert.run(b.queue, p, now);
          })();
          b.resolve();
        } catch (err) {
          b.reject(err);
        }
      }
    }
  }

  async take(queue: string, max: number, leaseMs: number): Promise<QueueTask[]> {
    const now = Date.now();
    const rows = this.#take.all(now + leaseMs, queue, now, max) as { id: number; payload: Buffer; attempts: number }[];
    rows.sort((a, b) => a.id - b.id); // RETURNING gives no order
    return rows.map((r) => ({ id: String(r.id), queue, payload: r.payload, attempts: r.attempts }));
  }

  async ack(ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    this.#deleteMany.run(JSON.stringify(ids.map(Number)));
  }

  async nack(id: string, error: string, delayMs: number): Promise<void> {
    this.#db.transaction(() => {
      const row = this.#db.prepare('SELECT * FROM tasks WHERE id = ?').get(Number(id)) as
        | { id: number; queue: string; payload: Buffer; attempts: number; created: number }
        | undefined;
      if (!row) return;
      if (row.attempts >= this.#maxAttempts) {
        this.#db
          .prepare('INSERT INTO dead_letters (id, queue, payload, attempts, created, died, last_error) VALUES (?, ?, ?, ?, ?, ?, ?)')
          .run(row.id, row.queue, row.payload, row.attempts, row.created, Date.now(), error.slice(0, 2000));
        this.#delete.run(row.id);
      } else {
        this.#db
          .prepare('UPDATE tasks SET available_at = ?, last_error = ? WHERE id = ?')
          .run(Date.now() + delayMs, error.slice(0, 2000), row.id);
      }
    })();
  }

  async stats(queue: string): Promise<QueueStats> {
    const now = Date.now();
    const r = this.#db
      .prepare(
        `SELECT SUM(CASE WHEN available_at <= ? THEN 1 ELSE 0 END) AS ready,
                SUM(CASE WHEN available_at > ? THEN 1 ELSE 0 END) AS leased FROM tasks WHERE queue = ?`,
      )
      .get(now, now, queue) as { ready: number | null; leased: number | null };
    const d = this.#db.prepare('SELECT COUNT(*) AS n FROM dead_letters WHERE queue = ?').get(queue) as { n: number };
    return { ready: r.ready ?? 0, leased: r.leased ?? 0, dead: d.n };
  }

  async close(): Promise<void> {
    this.#flush();
    this.#db.close();
  }
}
