/** In-process buffer, flushed by the worker inside each batch's transaction (the embedded default). */
import type { Executor } from '../../executor.js';
import { applyGroupCounters } from '../apply.js';
import type { BufferBackend, GroupCounters } from '../index.js';

export class MemoryBufferBackend implements BufferBackend {
  readonly transactional = true;
  /** The worker writes tag values in the batch's transaction itself. */
  readonly carriesTagValues = false;
  #pending = new Map<number, GroupCounters>();

  async incr(items: GroupCounters[]): Promise<void> {
    for (const d of items) {
      const cur = this.#pending.get(d.groupId);
      if (!cur) {
        this.#pending.set(d.groupId, { ...d });
        continue;
      }
      cur.timesSeen += d.timesSeen;
      // Known only if known for every increment (unknown: the flush counts the users again).
      cur.usersAdded = cur.usersAdded === undefined || d.usersAdded === undefined ? undefined : cur.usersAdded + d.usersAdded;
      cur.firstSeen = Math.min(cur.firstSeen, d.firstSeen);
      if (d.lastSeen >= cur.lastSeen) {
        cur.lastSeen = d.lastSeen;
        if (d.lastRelease) cur.lastRelease = d.lastRelease;
        if (d.shown) cur.shown = d.shown;
      }
    }
  }

  async flush(executor: Executor): Promise<number> {
    const pending = this.#pending;
    this.#pending = new Map();
    return applyGroupCounters(executor, pending.values());
  }

  discard(): void {
    this.#pending.clear();
  }
}
