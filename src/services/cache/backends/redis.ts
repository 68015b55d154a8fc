/**
 * The cache in Redis, shared by every process: a key disabled through the API is refused by every
 * ingest process at once, instead of within each process's own TTL.
 *
 * Values are JSON (`SET key json PX ttl`). In front of Redis sits a small in-process LRU that keeps
 * a value for `localTtlMs` (2 s by default; 0 turns it off): ingest asks for the same project key
 * on every request, and a network round trip for each would cost more than the rest of the lookup.
 * The price: a `delete` made by another process is seen here up to `localTtlMs` late.
 *
 * A Redis that is down makes `get` a miss and `set` a no-op, so callers fall back to the database
 * instead of failing; `delete` still fails loudly, since a lost invalidation means stale data.
 * Left out: cache stampede protection (the objects are cheap to read from SQL).
 */
import { LRUCache } from 'lru-cache';
import type { Redis } from '../../redis.js';
import type { CacheBackend } from '../index.js';

export interface RedisCacheOptions {
  /** Namespace of every key. */
  prefix?: string;
  /** TTL when `set` is given none. */
  defaultTtlMs?: number;
  /** How long a value read from Redis is reused in process; 0 = always ask Redis. */
  localTtlMs?: number;
  /** Entries kept in process. */
  localMax?: number;
}

export class RedisCacheBackend implements CacheBackend {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #defaultTtlMs: number;
  readonly #localTtlMs: number;
  readonly #local: LRUCache<string, { v: unknown }> | null;

  /** Uses `redis` without owning it: the caller closes the connection. */
  constructor(redis: Redis, opts: RedisCacheOptions = {}) {
    this.#redis = redis;
    this.#prefix = opts.prefix ?? 'faultline:cache:';
    this.#defaultTtlMs = opts.defaultTtlMs ?? 10_000;
    this.#localTtlMs = opts.localTtlMs ?? 2_000;
    this.#local = this.#localTtlMs > 0 ? new LRUCache({ max: opts.localMax ?? 10_000, ttl: this.#localTtlMs }) : null;
  }

  async get<T>(key: string): Promise<T | undefined> {
    const hit = this.#local?.get(key);
    if (hit) return hit.v as T;
    let raw: string | null;
    try {
      raw = await this.#redis.get(this.#prefix + key);
    } catch {
      return undefined;
    }
    if (raw === null) return undefined;
    const value = JSON.parse(raw) as T;
    this.#local?.set(key, { v: value });
    return value;
  }

  async set<T>(key: string, value: T, ttlMs?: number): Promise<void> {
    if (value === undefined) throw new TypeError('cannot cache undefined; store null to remember "absent"');
    const ttl = Math.max(1, Math.floor(ttlMs ?? this.#defaultTtlMs));
    this.#local?.set(key, { v: value }, { ttl: Math.min(ttl, this.#localTtlMs) });
    try {
      await this.#redis.set(this.#prefix + key, JSON.stringify(value), 'PX', ttl);
    } catch {
      // A cache that cannot store is a slower cache, not an error.
    }
  }

  async delete(key: string): Promise<void> {
    this.#local?.delete(key);
    await this.#redis.del(this.#prefix + key);
  }
}
