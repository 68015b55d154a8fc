/**
 * In-process LRU with a TTL (the embedded default): a change made by another process is seen
 * within the TTL. Values are kept as they are, not copied, which is why callers must not mutate them.
 */
import { LRUCache } from 'lru-cache';
import type { CacheBackend } from '../index.js';

export class MemoryCacheBackend implements CacheBackend {
  readonly #lru: LRUCache<string, { v: unknown }>;

  constructor(max = 10_000, ttlMs = 10_000) {
    this.#lru = new LRUCache({ max, ttl: ttlMs });
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.#lru.get(key)?.v as T | undefined;
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    this.#lru.set(key, { v: value }, ttlMs ? { ttl: ttlMs } : undefined);
  }

  async delete(key: string): Promise<void> {
    this.#lru.delete(key);
  }
}
