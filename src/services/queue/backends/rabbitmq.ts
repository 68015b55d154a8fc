/**
 * The queue on RabbitMQ (AMQP 0-9-1), for installations that already run a broker.
 *
 * - enqueue publishes persistent messages to a durable queue on a confirm channel and resolves only
 *   when the broker confirmed every one of them (it then has them on disk).
 * - take pulls with basic.get, one round trip per message, up to `max`. A consumer with a prefetch
 *   buffer would save round trips, but messages in that buffer would be held by this process
 *   without anyone having taken them, and `take` could not tell "empty" from "not arrived yet".
 * - The lease is the unacked delivery itself: RabbitMQ has no timed leases, it redelivers a message
 *   when the channel or connection that got it closes (the worker died or lost the broker). So
 *   `leaseMs` is not used; a hung worker that keeps its connection keeps its tasks.
 * - attempts = the `x-faultline-attempts` header (deliveries that ended in a nack) + 1, + 1 more if
 *   the broker flags a redelivery. Classic queues only say "redelivered", not how often, so several
 *   crash redeliveries of one message count as one.
 * - nack republishes with the attempts header, straight back (no delay), through a delay queue
 *   `<queue>.delay.<ms>` whose TTL dead-letters it back into the queue, or to `<queue>.dead` past
 *   maxAttempts; the original is acked only after the broker confirmed the copy.
 *
 * Left out: quorum queues (their delivery count would make attempts exact; classic durable queues
 * work on every RabbitMQ version and need no policy), exchanges and routing (the default exchange
 * is enough), and cluster-wide stats (see `stats`).
 */
import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type GetMessage } from 'amqplib';
import { taskBytes, type QueueBackend, type QueueStats, type QueueTask, type TaskPayload } from '../index.js';
import { redactUrl } from '../../redis.js';

export interface RabbitMqQueueOptions {
  url: string;
  maxAttempts: number;
  /** Prepended to queue names; lets several installations (or test runs) share one vhost. */
  prefix?: string;
}

const ATTEMPTS = 'x-faultline-attempts';

interface Session {
  conn: ChannelModel;
  /** Gets and acks; deliveries belong to it, so when it closes they are all handed back. */
  sub: Channel;
  /** Publishes (confirm mode); reopened after a channel error without touching `sub`. */
  pub: Promise<ConfirmChannel> | null;
  generation: number;
}

interface Delivery {
  message: GetMessage;
  queue: string;
  attempts: number;
  generation: number;
}

export class RabbitMqQueueBackend implements QueueBackend {
  readonly broker = true;
  readonly #opts: RabbitMqQueueOptions;
  readonly #prefix: string;
  #session: Promise<Session> | null = null;
  #generation = 0;
  #declared = new Set<string>();
  /** Deliveries taken and not yet acked or nacked, by task id. */
  readonly #inflight = new Map<string, Delivery>();
  /** Delay queues this process published to, per queue (for `stats`). */
  readonly #delayQueues = new Map<string, Set<string>>();
  #closed = false;

  private constructor(opts: RabbitMqQueueOptions) {
    this.#opts = opts;
    this.#prefix = opts.prefix ?? '';
  }

  static async connect(opts: RabbitMqQueueOptions): Promise<RabbitMqQueueBackend> {
    const backend = new RabbitMqQueueBackend(opts);
    await backend.#open();
    return backend;
  }

  async enqueue(queue: string, payloads: TaskPayload[]): Promise<void> {
    if (!payloads.length) return;
    const s = await this.#open();
    const name = await this.#declareMain(s, queue);
    const pub = await this.#pub(s);
    await Promise.all(payloads.map((p) => publish(pub, name, taskBytes(p), { [ATTEMPTS]: 0 })));
  }

  async take(queue: string, max: number, _leaseMs: number): Promise<QueueTask[]> {
    const s = await this.#open();
    const name = await this.#declareMain(s, queue);
    const out: QueueTask[] = [];
    while (out.length < max) {
      const message = await s.sub.get(name, { noAck: false });
      if (!message) break;
      const prior = Number(message.properties.headers?.[ATTEMPTS] ?? 0) || 0;
      const attempts = prior + 1 + (message.fields.redelivered ? 1 : 0);
      const id = `${s.generation}:${message.fields.deliveryTag}`;
      this.#inflight.set(id, { message, queue, attempts, generation: s.generation });
      out.push({ id, queue, payload: message.content, attempts });
    }
    return out;
  }

  async ack(ids: string[]): Promise<void> {
    const s = await this.#open();
    for (const id of ids) {
      const d = this.#take(id, s);
      // basic.ack has no reply: if it is lost with the connection, the broker redelivers the task.
      if (d) ackQuietly(s, d);
    }
  }

  async nack(id: string, error: string, delayMs: number): Promise<void> {
    const s = await this.#open();
    const d = this.#take(id, s);
    // Unknown id: the channel that got it is gone, so the broker already gave the task back.
    if (!d) return;
    const name = this.#prefix + d.queue;
    const pub = await this.#pub(s);
    const headers = { [ATTEMPTS]: d.attempts, 'x-faultline-error': error.slice(0, 2000) };
    if (d.attempts >= this.#opts.maxAttempts) {
      await publish(pub, await this.#declare(s, `${name}.dead`), d.message.content, { ...headers, 'x-faultline-died': Date.now() });
    } else if (delayMs <= 0) {
      await publish(pub, name, d.message.content, headers);
    } else {
      const delayQueue = `${name}.delay.${Math.floor(delayMs)}`;
      // Declared on every use: a redeclare resets `x-expires`, which removes delay queues that
      // nobody has used for a while (it counts from the last declare, not the last publish).
      await pub.assertQueue(delayQueue, {
        durable: true,
        arguments: {
          'x-message-ttl': Math.floor(delayMs),
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': name,
          'x-expires': Math.floor(delayMs) * 2 + 3_600_000,
        },
      });
      this.#delayQueues.set(d.queue, (this.#delayQueues.get(d.queue) ?? new Set()).add(delayQueue));
      await publish(pub, delayQueue, d.message.content, headers);
    }
    ackQuietly(s, d);
  }

  /**
   * `ready` and `dead` are the broker's counts. `leased` is what this process holds unacked plus
   * what waits in the delay queues it used: AMQP does not report other consumers' unacked
   * messages (the management API does).
   */
  async stats(queue: string): Promise<QueueStats> {
    const s = await this.#open();
    const pub = await this.#pub(s);
    const ready = (await pub.assertQueue(this.#prefix + queue, { durable: true })).messageCount;
    const dead = (await pub.assertQueue(`${this.#prefix}${queue}.dead`, { durable: true })).messageCount;
    let leased = [...this.#inflight.values()].filter((d) => d.queue === queue).length;
    const delayQueues = this.#delayQueues.get(queue);
    if (delayQueues?.size) {
      // A delay queue may have expired: checking it then fails with 404, which closes the channel,
      // so ask on a throwaway one.
      const ch = await s.conn.createChannel();
      ch.on('error', () => {});
      for (const q of delayQueues) {
        try {
          leased += (await ch.checkQueue(q)).messageCount;
        } catch {
          delayQueues.delete(q);
          break;
        }
      }
      await ch.close().catch(() => {});
    }
    return { ready, leased, dead };
  }

  async close(): Promise<void> {
    this.#closed = true;
    const session = this.#session;
    this.#session = null;
    this.#inflight.clear();
    if (!session) return;
    // Closing the connection hands unacked deliveries back to the broker: that is how a lease ends.
    await (await session).conn.close().catch(() => {});
  }

  /** The current connection and channels; a new set when the broker connection was lost. */
  #open(): Promise<Session> {
    if (this.#closed) return Promise.reject(new Error('queue is closed'));
    if (this.#session) return this.#session;
    const session = this.#connect();
    this.#session = session;
    session.catch(() => {
      if (this.#session === session) this.#session = null;
    });
    return session;
  }

  async #connect(): Promise<Session> {
    let conn: ChannelModel;
    try {
      conn = await amqp.connect(this.#opts.url);
    } catch (err) {
      throw new Error(`cannot connect to RabbitMQ at ${redactUrl(this.#opts.url)}: ${(err as Error).message}`, { cause: err });
    }
    const generation = ++this.#generation;
    const lost = () => {
      // Deliveries of a lost channel are redelivered by the broker; forget them.
      for (const [id, d] of this.#inflight) if (d.generation === generation) this.#inflight.delete(id);
      if (this.#session && this.#generation === generation) this.#session = null;
      this.#declared.clear();
    };
    // Without 'error' listeners, a broker-side close would be an unhandled error event.
    conn.on('error', () => {});
    conn.on('close', lost);
    const sub = await conn.createChannel();
    sub.on('error', () => {});
    sub.on('close', () => {
      lost();
      void conn.close().catch(() => {});
    });
    return { conn, sub, pub: null, generation };
  }

  /** The session's confirm channel, opened again if a channel error closed it. */
  #pub(s: Session): Promise<ConfirmChannel> {
    if (!s.pub) {
      const pub = s.conn.createConfirmChannel();
      s.pub = pub;
      pub.then(
        (ch) => {
          ch.on('error', () => {});
          ch.on('close', () => {
            if (s.pub === pub) s.pub = null;
          });
        },
        () => {
          if (s.pub === pub) s.pub = null;
        },
      );
    }
    return s.pub;
  }

  #take(id: string, s: Session): Delivery | undefined {
    const d = this.#inflight.get(id);
    this.#inflight.delete(id);
    return d && d.generation === s.generation ? d : undefined;
  }

  #declareMain(s: Session, queue: string): Promise<string> {
    return this.#declare(s, this.#prefix + queue);
  }

  async #declare(s: Session, name: string): Promise<string> {
    if (!this.#declared.has(name)) {
      await (await this.#pub(s)).assertQueue(name, { durable: true });
      this.#declared.add(name);
    }
    return name;
  }
}

/** Acks a delivery; a channel that closed meanwhile has already handed it back to the broker. */
function ackQuietly(s: Session, d: Delivery): void {
  try {
    s.sub.ack(d.message);
  } catch {
    // IllegalOperationError (channel closed): the broker redelivers the task; at-least-once holds.
  }
}

/** Publishes one persistent message and resolves when the broker confirmed it. */
function publish(ch: ConfirmChannel, queue: string, content: Buffer, headers: Record<string, unknown>): Promise<void> {
  return new Promise((resolve, reject) => {
    ch.sendToQueue(queue, content, { persistent: true, headers }, (err) =>
      err ? reject(new Error(`RabbitMQ did not confirm the message to ${queue}`, { cause: err })) : resolve(),
    );
  });
}
