/**
 * The main thread of `faultline start` helping its worker thread drain a backlog while ingest is
 * quiet. Under load the two threads already keep two cores busy (ingest on this one, the worker on
 * the other), so this thread only helps once SDKs stop sending: after a burst, the backlog then
 * drains on both cores instead of one, and events show up sooner. It is one more consumer of the
 * ingest queue, with connections of its own, so its batches are leased, saved and acked exactly as
 * the worker thread's are; SQLite takes the two writers' transactions one after the other.
 *
 * Memory: the events this thread prepares pass through its own V8 heap, which V8 lets grow to twice
 * what survived its last full collection before collecting again; left to itself, helping took the
 * main thread's heap from about 45 to 100 MB. So the helper collects its garbage itself, in full,
 * each time its heap has grown by `gcEveryMb` (about 50 ms, with ingest quiet) and once it is done,
 * and it does not help while the process's resident memory is above `maxRssMb`.
 */
import { getHeapStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import { INGEST_QUEUE } from '../services/queue/ingest-task.js';
import { DEFAULT_BATCH_SIZE, EventWorker, type WorkerOptions } from './worker.js';

export interface IdleDrainOptions extends WorkerOptions {
  /** Accepted requests per second below which ingest counts as quiet. */
  quietRate?: number;
  /** How often a quiet ingest looks for a backlog (ms). */
  checkMs?: number;
  /** Growth of this thread's heap (MB) after which the helper collects it in full. */
  gcEveryMb?: number;
  /** Resident memory of the process (MB) above which the helper stops, and does not start. */
  maxRssMb?: number;
}

/** Accepted requests per second at which ingest spends a few percent of its core. */
const QUIET_RATE = 100;
const CHECK_MS = 500;
/**
 * Measured with `bench --layout embedded`: collecting every 16 MB held the process's peak at
 * 260–271 MB against 272–310 without, for about 25 µs of collection per event helped.
 */
const GC_EVERY_MB = 16;
const MAX_RSS_MB = 280;

/**
 * V8's full collection for this thread. Node gives it only to a process started with
 * `--expose-gc`; setting the flag makes new contexts get `gc`, so it is taken from one and the flag
 * cleared again.
 */
function fullGc(): () => void {
  if (typeof globalThis.gc === 'function') return globalThis.gc as () => void;
  setFlagsFromString('--expose-gc');
  try {
    const gc = runInNewContext('gc') as unknown;
    // A runtime that does not hand it out still drains; its heap is then left to V8.
    return typeof gc === 'function' ? (gc as () => void) : () => {};
  } catch {
    return () => {};
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}

export class IdleDrain {
  readonly #open: () => Promise<Services>;
  readonly #log: Logger;
  readonly #opts: IdleDrainOptions;
  #services: Services | null = null;
  #worker: EventWorker | null = null;
  #accepted = 0;
  #running = false;
  #loop: Promise<void> | null = null;
  #wake: (() => void) | null = null;
  #gc: (() => void) | null = null;
  /** This thread's heap in use after the helper's last full collection (bytes). */
  #heapAfterGc = 0;
  #collections = 0;

  /** `open` gives the helper services (database and queue connections) of its own. */
  constructor(open: () => Promise<Services>, log: Logger, opts: IdleDrainOptions) {
    this.#open = open;
    this.#log = log;
    this.#opts = opts;
  }

  /** Full collections the helper has run (tests, diagnostics). */
  get collections(): number {
    return this.#collections;
  }

  /** Counts an accepted request: ingest calls it for each. */
  accepted(): void {
    this.#accepted++;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run().catch((err) => this.#log.error({ err }, 'idle drain stopped'));
  }

  /** Stops after the batch in hand is saved and acked. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
    await this.#worker?.stop();
    await this.#services?.close();
    // Stopping twice (tests, a second shutdown signal) must not close the connections twice.
    this.#worker = null;
    this.#services = null;
  }

  async #run(): Promise<void> {
    const checkMs = this.#opts.checkMs ?? CHECK_MS;
    const quietRate = this.#opts.quietRate ?? QUIET_RATE;
    while (this.#running) {
      const before = this.#accepted;
      await this.#sleep(checkMs);
      if (!this.#running || ((this.#accepted - before) * 1000) / checkMs >= quietRate) continue;
      try {
        await this.#drain(quietRate);
      } catch (err) {
        this.#log.error({ err }, 'idle drain batch failed');
      }
    }
  }

  /** Takes batches while a backlog is left (at least two batches' worth) and ingest stays quiet. */
  async #drain(quietRate: number): Promise<void> {
    this.#services ??= await this.#open();
    const services = this.#services;
    // A helper: faultline.db's checkpoints stay with the worker thread's checkpointing thread.
    this.#worker ??= new EventWorker(services, this.#log, { ...this.#opts, checkpointThread: false });
    const worker = this.#worker;
    const batch = this.#opts.batchSize ?? DEFAULT_BATCH_SIZE[services.database.dialect];
    const backlog = (await services.queue.stats(INGEST_QUEUE)).ready;
    if (backlog < 2 * batch || this.#overMemory()) return;
    this.#log.debug({ backlog }, 'ingest is quiet: helping drain the backlog');
    this.#gc ??= fullGc();
    this.#heapAfterGc ||= getHeapStatistics().used_heap_size;
    let taken = 0;
    let since = performance.now();
    let before = this.#accepted;
    let trafficBack = false;
    while (this.#running) {
      const n = await worker.runOnce();
      taken += n;
      if (n < batch) break; // the worker thread keeps up from here
      if (this.#overMemory()) {
        this.#log.debug({ rssMb: Math.round(process.memoryUsage.rss() / 1e6) }, 'idle drain: resident memory above its limit');
        break;
      }
      const now = performance.now();
      if (now - since >= 250) {
        if (((this.#accepted - before) * 1000) / (now - since) >= quietRate) {
          trafficBack = true;
          break;
        }
        since = now;
        before = this.#accepted;
      }
      this.#collectIfGrown();
    }
    // What it prepared is garbage now: collected at once, the heap it grew shrinks before the next
    // burst. Not when requests are back: a full collection would hold them up for about 50 ms.
    if (!trafficBack) this.#collect();
    this.#log.debug({ taken }, 'stopped helping drain the backlog');
  }

  #collectIfGrown(): void {
    const grown = getHeapStatistics().used_heap_size - this.#heapAfterGc;
    if (grown >= (this.#opts.gcEveryMb ?? GC_EVERY_MB) * 1e6) this.#collect();
  }

  #collect(): void {
    this.#gc!();
    this.#collections++;
    this.#heapAfterGc = getHeapStatistics().used_heap_size;
  }

  #overMemory(): boolean {
    return process.memoryUsage.rss() > (this.#opts.maxRssMb ?? MAX_RSS_MB) * 1e6;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    }).finally(() => (this.#wake = null));
  }
}
