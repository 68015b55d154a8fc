/**
 * The scheduler role: runs each enabled ScheduledTask on its interval, on whichever process holds
 * the task's lease, so any number of `faultline scheduler` (or `start`) processes run each job once.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Services } from '../services/index.js';
import type { ScheduledTask } from './base-task.js';
import { BufferFlushTask } from './buffer-flush-task.js';
import { CleanupTask } from './cleanup-task.js';
import { DelegatorCallsTask } from './delegator-calls-task.js';
import { DigestTask } from './digest-task.js';
import { SnoozeExpiryTask } from './snooze-expiry-task.js';
import { releaseLease, tryAcquireLease } from './lock.js';

export const DEFAULT_TASKS = (services?: Services): ScheduledTask[] => [
  new BufferFlushTask(services?.config.bufferFlushMs),
  new CleanupTask(),
  new SnoozeExpiryTask(),
  new DigestTask(services?.config.digestIntervalMs ?? 30 * 60_000),
  new DelegatorCallsTask(),
];

export class Scheduler {
  readonly #services: Services;
  readonly #log: Logger;
  readonly #tasks: ScheduledTask[];
  readonly #holder = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly #timers: NodeJS.Timeout[] = [];
  readonly #running = new Set<Promise<void>>();
  #stopped = false;

  constructor(services: Services, log: Logger, tasks: ScheduledTask[] = DEFAULT_TASKS(services)) {
    this.#services = services;
    this.#log = log;
    this.#tasks = tasks.filter((t) => t.enabled(services));
  }

  start(): void {
    for (const task of this.#tasks) {
      const tick = () => {
        if (this.#stopped) return;
        const p = this.runOnce(task).finally(() => {
          this.#running.delete(p);
          if (!this.#stopped) this.#timers.push(setTimeout(tick, task.intervalMs));
        });
        this.#running.add(p);
      };
      this.#timers.push(setTimeout(tick, task.intervalMs));
    }
  }

  /** Runs a task now if this process gets its lease; returns whether it ran. */
  async runOnce(task: ScheduledTask): Promise<void> {
    const db = this.#services.database.db;
    try {
      if (!(await tryAcquireLease(db, task.name, this.#holder, task.leaseMs))) return;
      await task.run(this.#services);
    } catch (err) {
      this.#log.error({ err, task: task.name }, 'scheduled task failed');
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const t of this.#timers) clearTimeout(t);
    await Promise.all(this.#running);
    // One last run of each job, so counters buffered by this process are not left waiting.
    for (const task of this.#tasks) await this.runOnce(task);
    for (const task of this.#tasks) await releaseLease(this.#services.database.db, task.name, this.#holder).catch(() => {});
  }
}
