import { describe, expect, it } from 'vitest';
import { MemoryCacheBackend } from './backends/memory.js';
import { CacheReadMemo } from './read-memo.js';
import type { CacheBackend } from './index.js';

/** Counts the reads that reach the cache behind the view. */
function counting(cache: CacheBackend) {
  const reads: string[] = [];
  return {
    reads,
    cache: {
      get: <T>(key: string) => {
        reads.push(key);
        return cache.get<T>(key);
      },
      set: cache.set.bind(cache),
      delete: cache.delete.bind(cache),
    } satisfies CacheBackend,
  };
}

describe('CacheReadMemo', () => {
  it('reads each key from the cache once, misses included', async () => {
    const inner = new MemoryCacheBackend();
    await inner.set('project:1', { slug: 'web' });
    const { reads, cache } = counting(inner);
    const memo = new CacheReadMemo(cache);
    for (let i = 0; i < 3; i++) {
      expect(await memo.get('project:1')).toEqual({ slug: 'web' });
      expect(await memo.get('project:2')).toBeUndefined();
    }
    expect(reads).toEqual(['project:1', 'project:2']);
  });

  it('keeps what it read, so a change elsewhere reaches only a new view', async () => {
    const inner = new MemoryCacheBackend();
    await inner.set('tombstones:1', []);
    const memo = new CacheReadMemo(inner);
    expect(await memo.get('tombstones:1')).toEqual([]);
    await inner.set('tombstones:1', ['abc']);
    expect(await memo.get('tombstones:1')).toEqual([]);
    expect(await new CacheReadMemo(inner).get('tombstones:1')).toEqual(['abc']);
  });

  it('passes writes and deletes through, and answers with them', async () => {
    const inner = new MemoryCacheBackend();
    const memo = new CacheReadMemo(inner);
    expect(await memo.get('k')).toBeUndefined();
    await memo.set('k', 1);
    expect(await memo.get('k')).toBe(1);
    expect(await inner.get('k')).toBe(1);
    await memo.delete('k');
    expect(await inner.get('k')).toBeUndefined();
    await inner.set('k', 2);
    expect(await memo.get('k')).toBe(2);
  });
});
