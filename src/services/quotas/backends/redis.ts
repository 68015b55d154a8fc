/**
 * Quotas counted in Redis, shared by every ingest process. One Lua script per check reads every
 * applicable counter and, only when none would be exceeded, INCRBYs them all and sets their
 * expiry: no other check runs in between, so concurrent requests cannot overshoot a limit.
 *
 * Windows are computed from the ingest process's clock (the counter key holds the window start);
 * servers whose clocks differ by a few seconds count a few seconds into the neighbouring window.
 * Counters expire a minute after their window ends.
 */
import { LuaScript, type Redis } from '../../redis.js';
import { quotaCounters, quotaResult, type QuotaLimit, type QuotaResult, type QuotaScope, type QuotasBackend } from '../index.js';

// KEYS: the counters. ARGV[1] = quantity, then per counter: limit, TTL in seconds.
// Returns the 1-based indexes of the counters that reject; empty = counted.
const CHECK = new LuaScript(`
local quantity = tonumber(ARGV[1])
local rejected = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 * i])
  local used = tonumber(redis.call('GET', key) or '0')
  if limit <= 0 or used + quantity > limit then rejected[#rejected + 1] = i end
end
if #rejected == 0 and quantity > 0 then
  for i, key in ipairs(KEYS) do
    redis.call('INCRBY', key, quantity)
    redis.call('EXPIRE', key, ARGV[2 * i + 1])
  end
end
return rejected
`);

export class RedisQuotasBackend implements QuotasBackend {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #now: () => number;

  /** Uses `redis` without owning it: the caller closes the connection. `now` is for tests. */
  constructor(redis: Redis, opts: { prefix?: string; now?: () => number } = {}) {
    this.#redis = redis;
    this.#prefix = opts.prefix ?? 'faultline:';
    this.#now = opts.now ?? Date.now;
  }

  async check(scope: QuotaScope, category: string, quantity: number, limits: QuotaLimit[]): Promise<QuotaResult> {
    const now = this.#now();
    const counters = quotaCounters(scope, category, limits, now);
    if (!counters.length) return { limited: false };
    const args: number[] = [quantity];
    for (const c of counters) args.push(c.limit.limit, Math.ceil((c.windowEnd - now) / 1000) + 60);
    const keys = counters.map((c) => `${this.#prefix}quota:${c.key}`);
    const rejected = (await CHECK.run(this.#redis, keys, args)) as number[];
    return quotaResult(
      rejected.map((i) => counters[i - 1]),
      now,
    );
  }
}
