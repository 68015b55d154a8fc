/**
 * The cache: small objects read on every request (project keys, projects), kept close to the
 * code that reads them. Values must be treated as read-only by callers, and must survive a JSON
 * round trip (the Redis backend serializes them; `undefined` is "not cached", so store `null`
 * to remember "does not exist").
 *
 * Async, because a shared cache is a network hop away; the in-process backend answers at once.
 */

export interface CacheBackend {
  /** The value set under `key`, or `undefined` when absent or expired. */
  get<T>(key: string): Promise<T | undefined>;
  /** Stores `value` for `ttlMs` (the backend's default TTL when omitted). */
  set<T>(key: string, value: T, ttlMs?: number): Promise<void>;
  /** Forgets `key`, so the next `get` reads the source again. */
  delete(key: string): Promise<void>;
}

export { MemoryCacheBackend } from './backends/memory.js';
