/**
 * The buffer in Redis (deferred lifecycle): workers add to an issue's counters after their batch
 * committed; a scheduled task flushes them to SQL. Many workers increment while one flusher runs.
 *
 * Keys: `buffer:group:<id>` (hash: times_seen, first_seen, last_seen, last_release),
 * `buffer:pending` (set of issue ids with a hash), `buffer:seen:<dedupeKey>` (15 minutes).
 * - incr is ONE Lua script per call: per item, `SET seen NX EX 900`, and only if that set the key,
 *   HINCRBY times_seen, min first_seen, max last_seen (its release with it), SADD pending. The
 *   dedupe check and the increment are one step, so a redelivered event is never counted twice
 *   and two workers never lose each other's increments.
 * - flush pops up to a batch of ids from the pending set and reads-and-deletes their hashes in one
 *   script: an increment lands either in a hash this flush took, or in a fresh hash and a fresh
 *   pending entry for the next flush. The counters then go to SQL through applyGroupCounters.
 *   When SQL fails, the counters not yet written are added back (same script as incr, without
 *   dedupe), so a database outage delays counts instead of dropping them.
 *
 * Left out: a crash of the flusher between the pop and the SQL write loses that batch's counts
 * (times_seen is a counter to show, not a ledger; events and tsdb points are kept exactly). A flush
 * run inside a caller's transaction that later rolls back loses them too: pass the database.
 */
import type { Executor } from '../../executor.js';
import { LuaScript, type Redis } from '../../redis.js';
import { applyGroupCounters } from '../apply.js';
import type { BufferBackend, GroupCounters } from '../index.js';

export interface RedisBufferOptions {
  /** Namespace of every key. */
  prefix?: string;
  /** How long a dedupe key is remembered, in seconds: longer than a task's retries take. */
  dedupeTtlSeconds?: number;
  /** Issues per flush round trip. */
  flushBatch?: number;
}

// ARGV[1] = dedupe TTL, then 5 per item: groupId, timesSeen, firstSeen, lastSeen, lastRelease ('' =
// none). KEYS[1] = pending set, then per item: seen key ('' = no dedupe key), group hash.
const INCR = new LuaScript(`
local ttl = ARGV[1]
local n = (#ARGV - 1) / 5
for i = 0, n - 1 do
  local seen, hash = KEYS[2 + 2 * i], KEYS[3 + 2 * i]
  local a = 2 + 5 * i
  local fresh = true
  if seen ~= '' then fresh = redis.call('SET', seen, '1', 'NX', 'EX', ttl) end
  if fresh then
    redis.call('HINCRBY', hash, 'times_seen', ARGV[a + 1])
    local first = redis.call('HGET', hash, 'first_seen')
    if not first or tonumber(ARGV[a + 2]) < tonumber(first) then redis.call('HSET', hash, 'first_seen', ARGV[a + 2]) end
    local last = redis.call('HGET', hash, 'last_seen')
    if not last or tonumber(ARGV[a + 3]) >= tonumber(last) then
      redis.call('HSET', hash, 'last_seen', ARGV[a + 3])
      if ARGV[a + 4] ~= '' then redis.call('HSET', hash, 'last_release', ARGV[a + 4]) end
    end
    redis.call('SADD', KEYS[1], ARGV[a])
  end
end
return 0
`);

// KEYS[1] = pending set; ARGV[1] = hash key prefix, ARGV[2] = batch size. Returns {id, fields}.
const TAKE = new LuaScript(`
local ids = redis.call('SPOP', KEYS[1], ARGV[2])
local out = {}
for _, id in ipairs(ids) do
  local hash = ARGV[1] .. id
  local fields = redis.call('HGETALL', hash)
  redis.call('DEL', hash)
  if #fields > 0 then out[#out + 1] = { id, fields } end
end
return out
`);

export class RedisBufferBackend implements BufferBackend {
  readonly transactional = false;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttl: number;
  readonly #batch: number;

  /** Uses `redis` without owning it: the caller closes the connection. */
  constructor(redis: Redis, opts: RedisBufferOptions = {}) {
    this.#redis = redis;
    this.#prefix = opts.prefix ?? 'faultline:';
    this.#ttl = opts.dedupeTtlSeconds ?? 900;
    this.#batch = opts.flushBatch ?? 500;
  }

  async incr(items: GroupCounters[]): Promise<void> {
    await this.#add(items, true);
  }

  async flush(executor: Executor): Promise<number> {
    // Bounded by what was pending at the start, so a flush ends even while workers keep adding.
    let budget = await this.#redis.scard(`${this.#prefix}buffer:pending`);
    let written = 0;
    while (budget > 0) {
      const taken = (await TAKE.run(this.#redis, [`${this.#prefix}buffer:pending`], [`${this.#prefix}buffer:group:`, this.#batch])) as [
        string,
        string[],
      ][];
      if (!taken.length) break;
      budget -= taken.length;
      const counters = taken.map(([id, fields]) => toCounters(Number(id), fields));
      for (let i = 0; i < counters.length; i++) {
        try {
          written += await applyGroupCounters(executor, [counters[i]]);
        } catch (err) {
          await this.#add(counters.slice(i), false);
          throw err;
        }
      }
    }
    return written;
  }

  /** Nothing to drop: increments reach Redis only after the batch committed. */
  discard(): void {}

  async #add(items: GroupCounters[], dedupe: boolean): Promise<void> {
    // Several thousand items make one script call of a few hundred kB; chunk to keep Redis
    // responsive to other clients while it runs.
    for (let start = 0; start < items.length; start += 1000) {
      const chunk = items.slice(start, start + 1000);
      const keys = [`${this.#prefix}buffer:pending`];
      const args: (string | number)[] = [this.#ttl];
      for (const c of chunk) {
        keys.push(dedupe && c.dedupeKey ? `${this.#prefix}buffer:seen:${c.dedupeKey}` : '', `${this.#prefix}buffer:group:${c.groupId}`);
        args.push(c.groupId, c.timesSeen, c.firstSeen, c.lastSeen, c.lastRelease ?? '');
      }
      await INCR.run(this.#redis, keys, args);
    }
  }
}

function toCounters(groupId: number, fields: string[]): GroupCounters {
  const h = new Map<string, string>();
  for (let i = 0; i < fields.length; i += 2) h.set(fields[i], fields[i + 1]);
  return {
    groupId,
    timesSeen: Number(h.get('times_seen') ?? 0),
    firstSeen: Number(h.get('first_seen')),
    lastSeen: Number(h.get('last_seen')),
    lastRelease: h.get('last_release') ?? null,
  };
}
