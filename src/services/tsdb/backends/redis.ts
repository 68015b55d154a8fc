/**
 * The tsdb in Redis: a hash per (model, rollup, bucket) whose fields are the issue or project ids
 * (`faultline:tsdb:group:3600:1718000000` → { 42: 17, 43: 2 }), as Sentry's Redis tsdb keeps them.
 * A chart of N issues over B buckets is B HMGETs of N fields in one round trip, and old data goes
 * away by itself: each hash expires `RETENTION` after its bucket ends.
 *
 * Increments are HINCRBY in a pipeline; `executor` is ignored, so points are not part of the
 * batch's SQL transaction (a batch that rolls back after incrMulti leaves its points counted).
 * Left out: sharding a hot bucket across keys (one hash per hour holds every issue seen in it, a few
 * MB at most) and rollups finer than an hour.
 */
import type { Redis } from '../../redis.js';
import type { Executor } from '../../executor.js';
import { bucketOf, ROLLUPS, type Rollup, type TsdbBackend, type TsdbIncrement, type TsdbModel } from '../index.js';

/** Seconds a bucket is kept after it ends: hourly 30 days (the 24h view), daily 1 year. */
export const RETENTION: Record<Rollup, number> = { 3600: 30 * 86_400, 86400: 365 * 86_400 };

export class RedisTsdbBackend implements TsdbBackend {
  readonly transactional = false;
  readonly #redis: Redis;
  readonly #prefix: string;

  /** Uses `redis` without owning it: the caller closes the connection. */
  constructor(redis: Redis, opts: { prefix?: string } = {}) {
    this.#redis = redis;
    this.#prefix = opts.prefix ?? 'faultline:';
  }

  async incrMulti(items: TsdbIncrement[], _executor?: Executor): Promise<void> {
    // Collapse first, as the SQL backend does: a thousand events of one issue in one hour are one HINCRBY.
    const sums = new Map<string, Map<number, number>>();
    const expiries = new Map<string, number>();
    const now = Date.now() / 1000;
    for (const it of items) {
      for (const rollup of ROLLUPS) {
        const bucket = bucketOf(it.timestamp, rollup) / 1000;
        const expireAt = bucket + rollup + RETENTION[rollup];
        if (expireAt <= now) continue; // already past retention: it would expire at once
        const key = this.#key(it.model, rollup, bucket);
        const fields = sums.get(key) ?? new Map<number, number>();
        fields.set(it.keyId, (fields.get(it.keyId) ?? 0) + it.count);
        sums.set(key, fields);
        expiries.set(key, expireAt);
      }
    }
    if (!sums.size) return;
    const pipeline = this.#redis.pipeline();
    for (const [key, fields] of sums) {
      for (const [id, count] of fields) pipeline.hincrby(key, String(id), count);
      pipeline.expireat(key, expiries.get(key)!);
    }
    for (const [err] of (await pipeline.exec()) ?? []) if (err) throw err;
  }

  async getRange(model: TsdbModel, ids: number[], start: number, end: number, rollup: Rollup) {
    const keyIds = [...new Set(ids)];
    const first = bucketOf(start, rollup);
    const last = bucketOf(end, rollup);
    const buckets: number[] = [];
    for (let b = first; b <= last; b += rollup * 1000) buckets.push(b / 1000);
    const out = new Map<number, [number, number][]>();
    for (const id of keyIds) out.set(id, []);
    if (!keyIds.length) return out;
    const pipeline = this.#redis.pipeline();
    for (const b of buckets) pipeline.hmget(this.#key(model, rollup, b), ...keyIds.map(String));
    const replies = (await pipeline.exec()) ?? [];
    buckets.forEach((b, i) => {
      const [err, values] = replies[i];
      if (err) throw err;
      keyIds.forEach((id, j) => out.get(id)!.push([b, Number((values as (string | null)[])[j] ?? 0)]));
    });
    return out;
  }

  #key(model: TsdbModel, rollup: Rollup, bucketSeconds: number): string {
    return `${this.#prefix}tsdb:${model}:${rollup}:${bucketSeconds}`;
  }
}
