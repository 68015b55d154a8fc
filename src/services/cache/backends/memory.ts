/**
 * In-process LRU with a TTL: a change made by another process is seen within the TTL. Deletes are
 * also broadcast to the other threads of this process on `channel` (the worker thread of
 * `faultline start` keeps its own cache), so an invalidation there is as immediate as here.
 */
import { BroadcastChannel } from 'node:worker_threads';
import { LRUCache } from 'lru-cache';
import type { CacheBackend } from '../index.js';

export class MemoryCacheBackend implements CacheBackend {
  readonly #lru: LRUCache<string, { v: unknown }>;
  readonly #channel: BroadcastChannel | null;

  constructor(max = 10_000, ttlMs = 10_000, channel?: string) {
    this.#lru = new LRUCache({ max, ttl: ttlMs });
    this.#channel = channel ? new BroadcastChannel(channel) : null;
    if (this.#channel) {
      this.#channel.onmessage = (message) => {
        const key = (message as { data?: unknown }).data;
        if (typeof key === 'string') this.#lru.delete(key);
      };
      // Never keeps a process alive on its own.
      this.#channel.unref();
    }
  }

  async get<T>(key: string): Promise<T | undefined> {
    return this.#lru.get(key)?.v as T | undefined;
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    this.#lru.set(key, { v: value }, ttlMs ? { ttl: ttlMs } : undefined);
  }

  async delete(key: string): Promise<void> {
    this.#lru.delete(key);
    this.#channel?.postMessage(key);
  }
}
