/**
 * The queue on Redis Streams, for several ingest and worker processes sharing one Redis.
 *
 * One stream per queue (`faultline:queue:{<queue>}`) read through one consumer group:
 * - enqueue = XADD, the requests of one event-loop turn in one pipeline. It is durable once Redis
 *   answers, as far as Redis itself is: whether a Redis crash loses the last second of tasks (AOF
 *   `appendfsync everysec`), nothing (`always`) or everything since the last snapshot (no AOF) is
 *   the operator's choice (docs/operations).
 * - take = XCLAIM of entries whose lease ran out, then XREADGROUP of new ones. Lease ends are kept
 *   in a sorted set (`:leases`) written by the take. XAUTOCLAIM by idle time would be one command
 *   less, but it compares the idle time with the *next* taker's `leaseMs`, not the lease the task
 *   was taken with, which the contract suite caught.
 * - attempts = the entry's delivery count (which XCLAIM raises) plus the attempts carried over
 *   from earlier incarnations of the task (a nack re-adds it as a new entry).
 * - ack = XACK + XDEL; nack = XACK + XDEL and either XADD again (no delay), a delayed set moved
 *   back onto the stream by the next take once due, or XADD to `<queue>:dead` past maxAttempts.
 * take and nack are Lua scripts, so two workers never get the same entry and a task is never both
 * re-added and dead. Time comes from the Redis server (TIME), so worker clocks may disagree.
 *
 * Left out: trimming dead letters (an operator's job), Redis Cluster across queues (all keys of
 * one queue share a hash tag, so one queue lives on one node).
 */
import { taskBytes, type QueueBackend, type QueueStats, type QueueTask, type TaskPayload } from '../index.js';
import { closeRedis, connectRedis, LuaScript, type Redis } from '../../redis.js';
import { NACK_SCRIPT, STATS_SCRIPT, TAKE_SCRIPT } from './redis-streams-scripts.js';

export interface RedisStreamsQueueOptions {
  url: string;
  maxAttempts: number;
  /** Namespace of every key; lets several installations (or test runs) share one Redis. */
  prefix?: string;
}

const GROUP = 'workers';
// One consumer name for every process. The pending list is shared by the group anyway and leases
// are reclaimed by their end time, so per-process names would only pile up dead consumers.
const CONSUMER = 'faultline';

const take = new LuaScript(TAKE_SCRIPT);
const nack = new LuaScript(NACK_SCRIPT);
const stats = new LuaScript(STATS_SCRIPT);

export class RedisStreamsQueueBackend implements QueueBackend {
  readonly broker = true;
  readonly #redis: Redis;
  readonly #maxAttempts: number;
  readonly #prefix: string;
  readonly #groups = new Set<string>();
  #pending: { queue: string; payloads: Buffer[]; resolve: () => void; reject: (err: unknown) => void }[] = [];
  #flushScheduled = false;

  private constructor(redis: Redis, opts: RedisStreamsQueueOptions) {
    this.#redis = redis;
    this.#maxAttempts = opts.maxAttempts;
    this.#prefix = opts.prefix ?? 'faultline:queue:';
  }

  static async connect(opts: RedisStreamsQueueOptions): Promise<RedisStreamsQueueBackend> {
    return new RedisStreamsQueueBackend(await connectRedis(opts.url), opts);
  }

  /**
   * Requests of one event-loop turn are sent together in one pipeline (one socket write, as the
   * embedded queue commits them together): a MULTI/XADD/EXEC round per request made socket
   * writes a fifth of ingest's CPU. A request with one payload is one XADD in the shared pipeline
   * (atomic by itself); a request with several keeps its own MULTI, so its items are queued all
   * or none.
   */
  enqueue(queue: string, payloads: TaskPayload[]): Promise<void> {
    if (!payloads.length) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.#pending.push({ queue, payloads: payloads.map(taskBytes), resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    this.#flushScheduled = false;
    const batch = this.#pending;
    this.#pending = [];
    try {
      for (const queue of new Set(batch.map((b) => b.queue))) {
        const stream = this.#stream(queue);
        if (!this.#groups.has(stream)) await this.#createGroup(stream);
      }
    } catch (err) {
      for (const b of batch) b.reject(err);
      return;
    }
    // Several payloads of one request: their own MULTI, so they are queued all or none.
    const singles = batch.filter((b) => b.payloads.length === 1);
    for (const b of batch) {
      if (b.payloads.length === 1) continue;
      const multi = this.#redis.multi();
      for (const p of b.payloads) multi.xadd(this.#stream(b.queue), '*', 'p', p, 'a', '0');
      multi.exec().then((r) => {
        try {
          throwFirstError(r);
          b.resolve();
        } catch (err) {
          b.reject(err);
        }
      }, b.reject);
    }
    if (!singles.length) return;
    const pipeline = this.#redis.pipeline();
    for (const b of singles) pipeline.xadd(this.#stream(b.queue), '*', 'p', b.payloads[0], 'a', '0');
    try {
      const results = await pipeline.exec();
      singles.forEach((b, i) => {
        const err = results ? results[i]?.[0] : new Error('Redis pipeline returned nothing');
        if (err) b.reject(err);
        else b.resolve();
      });
    } catch (err) {
      for (const b of singles) b.reject(err);
    }
  }

  async take(queue: string, max: number, leaseMs: number): Promise<QueueTask[]> {
    if (max <= 0) return [];
    const rows = (await this.#withGroup(queue, (stream) =>
      take.runBuffer(this.#redis, this.#keys(stream), [GROUP, CONSUMER, Math.max(0, Math.floor(leaseMs)), max]),
    )) as [Buffer, Buffer, number][];
    return rows.map(([id, payload, attempts]) => ({ id: taskId(queue, id.toString()), queue, payload, attempts }));
  }

  async ack(ids: string[]): Promise<void> {
    const byQueue = new Map<string, string[]>();
    for (const id of ids) {
      const { queue, entry } = parseTaskId(id);
      byQueue.set(queue, [...(byQueue.get(queue) ?? []), entry]);
    }
    if (!byQueue.size) return;
    const multi = this.#redis.multi();
    for (const [queue, entries] of byQueue) {
      const stream = this.#stream(queue);
      multi.xack(stream, GROUP, ...entries);
      multi.xdel(stream, ...entries);
      multi.zrem(`${stream}:leases`, ...entries);
    }
    throwFirstError(await multi.exec());
  }

  async nack(id: string, error: string, delayMs: number): Promise<void> {
    const { queue, entry } = parseTaskId(id);
    await this.#withGroup(queue, (stream) =>
      nack.run(this.#redis, this.#keys(stream), [GROUP, entry, error.slice(0, 2000), Math.max(0, Math.floor(delayMs)), this.#maxAttempts]),
    );
  }

  async stats(queue: string): Promise<QueueStats> {
    const [ready, leased, dead] = (await this.#withGroup(queue, (stream) =>
      stats.run(this.#redis, this.#keys(stream), [GROUP]),
    )) as [number, number, number];
    return { ready, leased, dead };
  }

  async close(): Promise<void> {
    if (this.#pending.length) await this.#flush();
    await closeRedis(this.#redis);
  }

  #stream(queue: string): string {
    // The braces are a hash tag: on a cluster, all keys of one queue land on one node.
    return `${this.#prefix}{${queue}}`;
  }

  #keys(stream: string): string[] {
    return [stream, `${stream}:delayed`, `${stream}:delayed-data`, `${stream}:dead`, `${stream}:leases`];
  }

  /** Runs `fn` once the queue's stream and consumer group exist; recreates them if they vanished. */
  async #withGroup<T>(queue: string, fn: (stream: string) => Promise<T>): Promise<T> {
    const stream = this.#stream(queue);
    if (!this.#groups.has(stream)) await this.#createGroup(stream);
    try {
      return await fn(stream);
    } catch (err) {
      // NOGROUP: the keys were deleted behind our back (FLUSHALL, an operator); create them again.
      if (!(err instanceof Error) || !err.message.includes('NOGROUP')) throw err;
      this.#groups.delete(stream);
      await this.#createGroup(stream);
      return fn(stream);
    }
  }

  async #createGroup(stream: string): Promise<void> {
    try {
      // From id 0, so entries added before the group existed are delivered too.
      await this.#redis.xgroup('CREATE', stream, GROUP, '0', 'MKSTREAM');
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('BUSYGROUP')) throw err;
    }
    this.#groups.add(stream);
  }
}

/** Task ids carry their queue, because `ack` and `nack` get ids only. Entry ids never hold '#'. */
function taskId(queue: string, entry: string): string {
  return `${queue}#${entry}`;
}

function parseTaskId(id: string): { queue: string; entry: string } {
  const at = id.lastIndexOf('#');
  if (at < 0) throw new Error(`not a Redis Streams task id: ${id}`);
  return { queue: id.slice(0, at), entry: id.slice(at + 1) };
}

function throwFirstError(results: [Error | null, unknown][] | null): void {
  if (!results) throw new Error('Redis transaction was aborted');
  for (const [err] of results) if (err) throw err;
}
