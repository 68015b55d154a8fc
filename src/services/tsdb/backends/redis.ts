/**
 * The tsdb in Redis: a hash per (model, rollup, bucket) whose fields are the issue or project ids
 * (`faultline:tsdb:group:3600:1718000000` → { 42: 17, 43: 2 }), as Sentry's Redis tsdb keeps them.
 * A chart of N issues over B buckets is B HMGETs of N fields in one round trip, and old data goes
 * away by itself: each hash expires `RETENTION` after its bucket ends.
 *
 * Increments are HINCRBY in a pipeline; `executor` is ignored, so points are not part of the
 * batch's SQL transaction: the worker writes them after the commit, and points with a dedupe key
 * go through one Lua script that counts each key once (`tsdb:seen:<key>`, remembered 15 minutes),
 * so a redelivered event adds its points only if its first delivery died before adding them.
 * Left out: sharding a hot bucket across keys (one hash per hour holds every issue seen in it, a few
 * MB at most) and rollups finer than an hour.
 */
import { LuaScript, type Redis } from '../../redis.js';
import type { Executor } from '../../executor.js';
import { bucketOf, ROLLUPS, type Rollup, type TsdbBackend, type TsdbIncrement, type TsdbModel } from '../index.js';

/** Seconds a bucket is kept after it ends: hourly 30 days (the 24h view), daily 1 year. */
export const RETENTION: Record<Rollup, number> = { 3600: 30 * 86_400, 86400: 365 * 86_400 };

// KEYS: per event its seen key ('' = always count), then the hash of each of its points.
// ARGV[1] = seen TTL, then per event: point count, then per point: field, increment, expire-at.
const INCR_ONCE = new LuaScript(`
local ttl = tonumber(ARGV[1])
local ki, ai = 1, 2
while ai <= #ARGV do
  local seen = KEYS[ki]
  ki = ki + 1
  local n = tonumber(ARGV[ai])
  ai = ai + 1
  local fresh = seen == '' or redis.call('SET', seen, '1', 'NX', 'EX', ttl)
  for _ = 1, n do
    if fresh then
      redis.call('HINCRBY', KEYS[ki], ARGV[ai], tonumber(ARGV[ai + 1]))
      redis.call('EXPIREAT', KEYS[ki], tonumber(ARGV[ai + 2]))
    end
    ki = ki + 1
    ai = ai + 3
  end
end
return 1
`);

/** Seconds a dedupe key is remembered: longer than a task's retries take. */
const SEEN_TTL = 900;

export class RedisTsdbBackend implements TsdbBackend {
  readonly transactional = false;
  readonly #redis: Redis;
  readonly #prefix: string;

  /** Uses `redis` without owning it: the caller closes the connection. */
  constructor(redis: Redis, opts: { prefix?: string } = {}) {
    this.#redis = redis;
    this.#prefix = opts.prefix ?? 'faultline:';
  }

  async incrMulti(all: TsdbIncrement[], _executor?: Executor): Promise<void> {
    const items = all.filter((it) => !it.dedupeKey);
    const once = all.filter((it) => it.dedupeKey);
    if (once.length) await this.#incrOnce(once);
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

  /** Points with dedupe keys: one script call per chunk of events, each event counted once. */
  async #incrOnce(items: TsdbIncrement[]): Promise<void> {
    const byEvent = new Map<string, TsdbIncrement[]>();
    for (const it of items) {
      let list = byEvent.get(it.dedupeKey!);
      if (!list) byEvent.set(it.dedupeKey!, (list = []));
      list.push(it);
    }
    const now = Date.now() / 1000;
    const events = [...byEvent];
    for (let i = 0; i < events.length; i += 100) {
      const keys: string[] = [];
      const args: (string | number)[] = [SEEN_TTL];
      for (const [dedupeKey, points] of events.slice(i, i + 100)) {
        keys.push(`${this.#prefix}tsdb:seen:${dedupeKey}`);
        const fields: [string, string, number, number][] = [];
        for (const it of points) {
          for (const rollup of ROLLUPS) {
            const bucket = bucketOf(it.timestamp, rollup) / 1000;
            const expireAt = bucket + rollup + RETENTION[rollup];
            if (expireAt > now) fields.push([this.#key(it.model, rollup, bucket), String(it.keyId), it.count, expireAt]);
          }
        }
        args.push(fields.length);
        for (const [key, field, count, expireAt] of fields) {
          keys.push(key);
          args.push(field, count, expireAt);
        }
      }
      await INCR_ONCE.run(this.#redis, keys, args);
    }
  }

  #key(model: TsdbModel, rollup: Rollup, bucketSeconds: number): string {
    return `${this.#prefix}tsdb:${model}:${rollup}:${bucketSeconds}`;
  }
}
