/**
 * The durable task queue between ingest and the workers ("queue everything").
 *
 * At-least-once: a task taken by a worker is leased, and comes back if it is not acked before the
 * lease ends (the worker died) or is nacked (the step failed); after `maxAttempts` it moves to the
 * dead letters with its last error. Consumers must therefore be idempotent. Payloads are bytes,
 * serialized by the producer even in one process, so backends are interchangeable.
 */
export interface QueueTask {
  id: string;
  queue: string;
  /**
   * Read it once, before the task is acked: the embedded queue reads it from its segment file at
   * each access (so a batch's payloads do not outlive their decoding).
   */
  payload: Buffer;
  /**
   * Where a backend offers it: hands `use` the payload in a buffer it reuses for the next read, so
   * a consumer that only decodes the bytes allocates none. The bytes are valid only during the
   * call; `use` copies whatever it keeps.
   */
  readPayload?<T>(use: (bytes: Buffer) => T): T;
  /** How many times this task has been taken, including this time. */
  attempts: number;
}

/**
 * A task's bytes as one buffer, or as parts that are its bytes one after another (a task's header
 * and the payload as received: the embedded queue writes them out without joining them).
 */
export type TaskPayload = Buffer | readonly Buffer[];

/** A task's bytes as one buffer (parts joined). */
export function taskBytes(p: TaskPayload): Buffer {
  if (Buffer.isBuffer(p)) return p;
  const parts = p as readonly Buffer[];
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** How many bytes a task has. */
export function taskLength(p: TaskPayload): number {
  if (Buffer.isBuffer(p)) return p.length;
  let n = 0;
  for (const b of p as readonly Buffer[]) n += b.length;
  return n;
}

export interface QueueStats {
  ready: number;
  leased: number;
  dead: number;
}

export interface QueueBackend {
  /**
   * A broker over the network (Redis, RabbitMQ) that keeps queued payloads in its memory, where
   * compressing them pays (`FAULTLINE_QUEUE_COMPRESSION=auto`); false for the embedded queue.
   */
  readonly broker: boolean;
  /** Stores the payloads durably; resolves only once they survive a process crash. */
  enqueue(queue: string, payloads: TaskPayload[]): Promise<void>;
  /** Takes up to `max` ready tasks and leases them for `leaseMs`. */
  take(queue: string, max: number, leaseMs: number): Promise<QueueTask[]>;
  /** Marks tasks done; they are deleted. */
  ack(ids: string[]): Promise<void>;
  /** Gives a task back after a failure: retried after `delayMs`, or dead-lettered past max attempts. */
  nack(id: string, error: string, delayMs: number): Promise<void>;
  stats(queue: string): Promise<QueueStats>;
  /**
   * Whether `queue` holds more than `limit` tasks, ready or leased: what back-pressure asks every
   * second. Left out where `stats` is cheap (brokers keep counts); the embedded queue answers it
   * without counting while its tasks are well below the limit.
   */
  backlogAbove?(queue: string, limit: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface QueueOptions {
  dataDir: string;
  maxAttempts: number;
  /**
   * Where the queue lives: unset or `sqlite:` = the embedded SQLite file under `dataDir`;
   * `redis://` / `rediss://` = Redis Streams; `amqp://` / `amqps://` = RabbitMQ.
   */
  queueUrl?: string;
}

/** Picks the queue backend from configuration; only the chosen backend's module is loaded. */
export async function createQueue(opts: QueueOptions): Promise<QueueBackend> {
  const url = opts.queueUrl?.trim() || 'sqlite:';
  const scheme = url.slice(0, url.indexOf(':') + 1).toLowerCase();
  switch (scheme) {
    case 'sqlite:': {
      const { SqliteQueueBackend } = await import('./backends/sqlite.js');
      return new SqliteQueueBackend(opts);
    }
    case 'redis:':
    case 'rediss:': {
      const { RedisStreamsQueueBackend } = await import('./backends/redis-streams.js');
      return RedisStreamsQueueBackend.connect({ url, maxAttempts: opts.maxAttempts });
    }
    case 'amqp:':
    case 'amqps:': {
      const { RabbitMqQueueBackend } = await import('./backends/rabbitmq.js');
      return RabbitMqQueueBackend.connect({ url, maxAttempts: opts.maxAttempts });
    }
    default:
      throw new Error(`unsupported queue URL scheme "${scheme || url}": use sqlite:, redis://, rediss://, amqp:// or amqps://`);
  }
}
