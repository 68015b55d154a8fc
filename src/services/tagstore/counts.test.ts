import { describe, expect, it } from 'vitest';
import { TagValueCounts } from './counts.js';

function rows(c: TagValueCounts) {
  return Array.from({ length: c.size }, (_, i) => [c.projectIds[i], c.groupIds[i], c.keys[i], c.values[i], c.counts[i], c.firstSeen[i], c.lastSeen[i]]);
}

describe('TagValueCounts', () => {
  it('sums repeats of an (issue, key, value) and keeps the earliest first and latest last seen', () => {
    const c = new TagValueCounts();
    c.addTags(1, 10, [['browser', 'Chrome'], ['level', 'error']], 5000);
    c.addTags(1, 10, [['browser', 'Chrome'], ['level', 'error']], 3000);
    c.add(1, 10, 'browser', 'Chrome', 2, 4000, 9000);
    expect(rows(c)).toEqual([
      [1, 10, 'browser', 'Chrome', 4, 3000, 9000],
      [1, 10, 'level', 'error', 2, 3000, 5000],
    ]);
  });

  it('keeps each value of a key apart, and the same value of other issues apart', () => {
    const c = new TagValueCounts();
    for (const v of ['Chrome', 'Firefox', 'Safari', 'Firefox', 'Chrome', 'Safari', 'Safari']) c.add(1, 10, 'browser', v, 1, 1, 1);
    c.add(1, 11, 'browser', 'Chrome', 1, 1, 1);
    c.add(1, 10, 'os', 'Chrome', 1, 1, 1);
    expect(rows(c).map((r) => [r[1], r[2], r[3], r[4]])).toEqual([
      [10, 'browser', 'Chrome', 2],
      [10, 'browser', 'Firefox', 2],
      [10, 'browser', 'Safari', 3],
      [11, 'browser', 'Chrome', 1],
      [10, 'os', 'Chrome', 1],
    ]);
  });

  it('is made from increments', () => {
    const c = TagValueCounts.of([
      { projectId: 2, groupId: 7, key: 'user', value: 'id:1', count: 1, firstSeen: 10, lastSeen: 10 },
      { projectId: 2, groupId: 7, key: 'user', value: 'id:1', count: 3, firstSeen: 5, lastSeen: 8 },
    ]);
    expect(rows(c)).toEqual([[2, 7, 'user', 'id:1', 4, 5, 10]]);
  });
});
