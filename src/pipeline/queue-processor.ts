/**
 * A consumer of one durable queue (outline's BaseProcessor habit): takes a few tasks at a time,
 * hands each to `process`, acks it on success and nacks it on failure with the subclass's delay,
 * so a failing task (a webhook that is down) retries alone and ends in the dead letters.
 * Left out: concurrency within one process; run more worker processes instead.
 */
import type { Logger } from 'pino';
import type { QueueTask } from '../services/queue/index.js';
import type { Services } from '../services/index.js';
import { PollingLoop } from './polling-loop.js';

export abstract class QueueProcessor {
  abstract readonly queue: string;
  readonly batchSize: number = 20;
  readonly leaseMs: number = 60_000;
  readonly idleMs: number = 200;
  protected readonly services: Services;
  protected readonly log: Logger;
  #polling: PollingLoop | null = null;

  constructor(services: Services, log: Logger) {
    this.services = services;
    this.log = log;
  }

  abstract process(task: QueueTask): Promise<void>;

  /**
   * Called with each batch before its tasks are processed, for what they share (read once instead
   * of once per task). Must not throw: `process` still handles each task on its own.
   */
  protected async prepare(_tasks: QueueTask[]): Promise<void> {}

  /** How long to wait before the next attempt of a failed task (ms). */
  retryDelayMs(_attempts: number): number {
    return 1_000;
  }

  start(): void {
    // Created here, not in the constructor: subclasses set idleMs as class fields.
    this.#polling ??= new PollingLoop(() => this.runOnce(), this.idleMs, (err) => this.log.error({ err, queue: this.queue }, 'queue processor failed'));
    this.#polling.start();
  }

  async stop(): Promise<void> {
    await this.#polling?.stop();
  }

  /** Processes one batch; returns how many tasks it took. */
  async runOnce(): Promise<number> {
    const tasks = await this.services.queue.take(this.queue, this.batchSize, this.leaseMs);
    if (tasks.length) await this.prepare(tasks);
    const done: string[] = [];
    for (const task of tasks) {
      try {
        await this.process(task);
        done.push(task.id);
      } catch (err) {
        this.log.warn({ err, queue: this.queue, task: task.id, attempts: task.attempts }, 'task failed; will retry');
        await this.services.queue.nack(task.id, String((err as Error)?.stack ?? err), this.retryDelayMs(task.attempts));
      }
    }
    if (done.length) await this.services.queue.ack(done);
    return tasks.length;
  }
}
