/** In-process buffer, flushed by the worker with each batch (the embedded default). */
import { sql } from 'kysely';
import type { Executor } from '../../executor.js';
import type { BufferBackend, GroupCounters } from '../index.js';

export class MemoryBufferBackend implements BufferBackend {
  #pending = new Map<number, GroupCounters>();

  incr(groupId: number, d: GroupCounters): void {
    const cur = this.#pending.get(groupId);
    if (!cur) {
      this.#pending.set(groupId, { ...d });
      return;
    }
    cur.timesSeen += d.timesSeen;
    cur.usersSeen += d.usersSeen;
    cur.firstSeen = Math.min(cur.firstSeen, d.firstSeen);
    if (d.lastSeen >= cur.lastSeen) {
      cur.lastSeen = d.lastSeen;
      if (d.lastRelease) cur.lastRelease = d.lastRelease;
    }
  }

  async flush(executor: Executor): Promise<number> {
    const pending = this.#pending;
    this.#pending = new Map();
    for (const [groupId, c] of pending) {
      await executor
        .updateTable('groups')
        .set({
          times_seen: sql`times_seen + ${c.timesSeen}`,
          users_seen: sql`users_seen + ${c.usersSeen}`,
          first_seen: sql`min(first_seen, ${c.firstSeen})`,
          last_seen: sql`max(last_seen, ${c.lastSeen})`,
          ...(c.lastRelease ? { last_release: sql`case when last_seen <= ${c.lastSeen} then ${c.lastRelease} else last_release end` } : {}),
        })
        .where('id', '=', groupId)
        .execute();
    }
    return pending.size;
  }

  discard(): void {
    this.#pending.clear();
  }
}
