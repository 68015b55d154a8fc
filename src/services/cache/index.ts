/**
 * The cache: small objects read on every request (project keys, projects), kept close to the
 * code that reads them. Values must be treated as read-only by callers.
 */
import { LRUCache } from 'lru-cache';

export interface CacheBackend {
  get<T>(key: string): T | undefined;
  set<T>(key: string, value: T, ttlMs?: number): void;
  delete(key: string): void;
}

/** In-process LRU with a TTL: a change made by another process is seen within the TTL. */
export class MemoryCacheBackend implements CacheBackend {
  readonly #lru: LRUCache<string, { v: unknown }>;
  constructor(max = 10_000, ttlMs = 10_000) {
    this.#lru = new LRUCache({ max, ttl: ttlMs });
  }
  get<T>(key: string): T | undefined {
    return this.#lru.get(key)?.v as T | undefined;
  }
  set<T>(key: string, value: T, ttlMs?: number): void {
    this.#lru.set(key, { v: value }, ttlMs ? { ttl: ttlMs } : undefined);
  }
  delete(key: string): void {
    this.#lru.delete(key);
  }
}
