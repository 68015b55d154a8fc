/**
 * A batch's tag value counts, summed per (issue, key, value) as they are added and kept as one
 * array per column. A batch of 200 events has about 3,000 tag values; as an object each (and a
 * string key each to sum them by) they lived through the batch's statements, so through
 * young-generation collections, which copied them: a third of what the worker's scavenges copied
 * (docs/decisions.md).
 */
import type { TagValueIncrement } from './index.js';

export class TagValueCounts {
  readonly projectIds: number[] = [];
  readonly groupIds: number[] = [];
  readonly keys: string[] = [];
  readonly values: string[] = [];
  readonly counts: number[] = [];
  readonly firstSeen: number[] = [];
  readonly lastSeen: number[] = [];
  /** Per issue, per key: the first row with that key (tag keys repeat; strings need no joining). */
  readonly #rowOf = new Map<number, Map<string, number>>();
  /** The next row with the same issue and key (another value), or -1. */
  readonly #next: number[] = [];

  static of(items: Iterable<TagValueIncrement>): TagValueCounts {
    const out = new TagValueCounts();
    for (const it of items) out.add(it.projectId, it.groupId, it.key, it.value, it.count, it.firstSeen, it.lastSeen);
    return out;
  }

  get size(): number {
    return this.groupIds.length;
  }

  add(projectId: number, groupId: number, key: string, value: string, count: number, firstSeen: number, lastSeen: number): void {
    let byKey = this.#rowOf.get(groupId);
    if (!byKey) this.#rowOf.set(groupId, (byKey = new Map()));
    const first = byKey.get(key);
    if (first === undefined) {
      byKey.set(key, this.#push(projectId, groupId, key, value, count, firstSeen, lastSeen));
      return;
    }
    let row: number = first;
    for (;;) {
      if (this.values[row] === value) {
        this.counts[row] += count;
        if (firstSeen < this.firstSeen[row]) this.firstSeen[row] = firstSeen;
        if (lastSeen > this.lastSeen[row]) this.lastSeen[row] = lastSeen;
        return;
      }
      const next: number = this.#next[row];
      if (next === -1) break;
      row = next;
    }
    this.#next[row] = this.#push(projectId, groupId, key, value, count, firstSeen, lastSeen);
  }

  /** One event's tags, each counted once at `seen`. */
  addTags(projectId: number, groupId: number, tags: readonly (readonly [string, string])[], seen: number): void {
    for (const [key, value] of tags) this.add(projectId, groupId, key, value, 1, seen, seen);
  }

  #push(projectId: number, groupId: number, key: string, value: string, count: number, firstSeen: number, lastSeen: number): number {
    const row = this.groupIds.length;
    this.projectIds.push(projectId);
    this.groupIds.push(groupId);
    this.keys.push(key);
    this.values.push(value);
    this.counts.push(count);
    this.firstSeen.push(firstSeen);
    this.lastSeen.push(lastSeen);
    this.#next.push(-1);
    return row;
  }
}
