/**
 * The buffer in Redis (deferred lifecycle): workers add to an issue's counters after their batch
 * committed; a scheduled task flushes them to SQL. Many workers increment while one flusher runs.
 *
 * Keys: `buffer:group:<id>` (hash: times_seen, first_seen, last_seen, last_release, shown: what
 * the issue shows after the event at last_seen, as JSON),
 * `buffer:tags:<id>` (list: one JSON entry per event, `[projectId, firstSeen, lastSeen, tags]`),
 * `buffer:pending` (set of issue ids with a hash), `buffer:seen:<dedupeKey>` (15 minutes).
 * - incr is ONE Lua script per call: per item, `SET seen NX EX 900`, and only if that set the key,
 *   HINCRBY times_seen, min first_seen, max last_seen (its release and shown fields with it), RPUSH its tag values,
 *   SADD pending. The dedupe check and the increment are one step, so a redelivered event is
 *   never counted twice and two workers never lose each other's increments.
 * - flush pops up to a batch of ids from the pending set and reads-and-deletes their hashes and
 *   tag lists in one script: an increment lands either in what this flush took, or in a fresh
 *   hash and a fresh pending entry for the next flush. The tag values go to the tagstore (summed
 *   per issue, key and value), then the counters to SQL through applyGroupCounters. When SQL
 *   fails, what was not yet written is added back (same script as incr, without dedupe), so a
 *   database outage delays counts instead of dropping them.
 *
 * Left out: a crash of the flusher between the pop and the SQL write loses that batch's counts
 * (times_seen is a counter to show, not a ledger; events and tsdb points are kept exactly). A flush
 * run inside a caller's transaction that later rolls back loses them too: pass the database.
 */
import type { Executor } from '../../executor.js';
import { LuaScript, type Redis } from '../../redis.js';
import { applyGroupCounters } from '../apply.js';
import { TagValueCounts, type TagstoreBackend } from '../../tagstore/index.js';
import type { BufferBackend, GroupCounters, ShownFields } from '../index.js';

export interface RedisBufferOptions {
  /** Namespace of every key. */
  prefix?: string;
  /** How long a dedupe key is remembered, in seconds: longer than a task's retries take. */
  dedupeTtlSeconds?: number;
  /** Issues per flush round trip. */
  flushBatch?: number;
  /** Where flush writes the tag values the buffer carries. */
  tagstore?: Pick<TagstoreBackend, 'incrMulti'>;
}

// ARGV[1] = dedupe TTL, then 7 per item: groupId, timesSeen, firstSeen, lastSeen, lastRelease ('' =
// none), tag values entry ('' = none), shown fields as JSON ('' = none). KEYS[1] = pending set, then per item: seen key ('' = no
// dedupe key), group hash, tag list.
const INCR = new LuaScript(`
local ttl = ARGV[1]
local n = (#ARGV - 1) / 7
for i = 0, n - 1 do
  local seen, hash, tags = KEYS[2 + 3 * i], KEYS[3 + 3 * i], KEYS[4 + 3 * i]
  local a = 2 + 7 * i
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
      if ARGV[a + 6] ~= '' then redis.call('HSET', hash, 'shown', ARGV[a + 6]) end
    end
    if ARGV[a + 5] ~= '' then redis.call('RPUSH', tags, ARGV[a + 5]) end
    redis.call('SADD', KEYS[1], ARGV[a])
  end
end
return 0
`);

// KEYS[1] = pending set; ARGV[1] = hash key prefix, ARGV[2] = batch size, ARGV[3] = tag list key
// prefix. Returns {id, fields, tag entries}.
const TAKE = new LuaScript(`
local ids = redis.call('SPOP', KEYS[1], ARGV[2])
local out = {}
for _, id in ipairs(ids) do
  local hash = ARGV[1] .. id
  local fields = redis.call('HGETALL', hash)
  redis.call('DEL', hash)
  local list = ARGV[3] .. id
  local tags = redis.call('LRANGE', list, 0, -1)
  redis.call('DEL', list)
  if #fields > 0 or #tags > 0 then out[#out + 1] = { id, fields, tags } end
end
return out
`);

/** A flushed issue: its counters (none if only tag values were put back) and its events' tag value entries. */
interface Taken {
  groupId: number;
  counters: GroupCounters | null;
  tags: string[];
}

export class RedisBufferBackend implements BufferBackend {
  readonly transactional = false;
  readonly carriesTagValues = true;
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #ttl: number;
  readonly #batch: number;
  readonly #tagstore: Pick<TagstoreBackend, 'incrMulti'> | null;

  /** Uses `redis` without owning it: the caller closes the connection. */
  constructor(redis: Redis, opts: RedisBufferOptions = {}) {
    this.#redis = redis;
    this.#prefix = opts.prefix ?? 'faultline:';
    this.#ttl = opts.dedupeTtlSeconds ?? 900;
    this.#batch = opts.flushBatch ?? 500;
    this.#tagstore = opts.tagstore ?? null;
  }

  async incr(items: GroupCounters[]): Promise<void> {
    await this.#add(items, true);
  }

  async flush(executor: Executor): Promise<number> {
    // Bounded by what was pending at the start, so a flush ends even while workers keep adding.
    let budget = await this.#redis.scard(`${this.#prefix}buffer:pending`);
    let written = 0;
    while (budget > 0) {
      const rows = (await TAKE.run(this.#redis, [`${this.#prefix}buffer:pending`], [`${this.#prefix}buffer:group:`, this.#batch, `${this.#prefix}buffer:tags:`])) as [
        string,
        string[],
        string[],
      ][];
      if (!rows.length) break;
      budget -= rows.length;
      const taken: Taken[] = rows.map(([id, fields, tags]) => ({ groupId: Number(id), counters: fields.length ? toCounters(Number(id), fields) : null, tags }));
      // Tag values first: the counters' update counts the affected users from them, or adds the new ones.
      const withTags = taken.filter((t) => t.tags.length);
      if (withTags.length) {
        try {
          if (!this.#tagstore) throw new Error('buffer: tag values to flush, but no tagstore to write them to');
          // Not for an issue deleted or merged away since (its counters' UPDATE finds no row either).
          const rows = await executor.selectFrom('groups').select('id').where('id', 'in', withTags.map((t) => t.groupId)).execute();
          const live = new Set(rows.map((r) => Number(r.id)));
          const counts = new TagValueCounts();
          for (const t of withTags) if (live.has(t.groupId)) addTagEntries(counts, t.groupId, t.tags);
          const newUsers = await this.#tagstore.incrMulti(counts, executor);
          // This round wrote these issues' user values: their counters add the new ones.
          if (newUsers) for (const t of taken) if (t.counters) t.counters.usersAdded = newUsers.get(t.groupId) ?? 0;
        } catch (err) {
          await this.#readd(taken);
          throw err;
        }
      }
      const done = new Set<number>();
      try {
        written += await applyGroupCounters(executor, taken.flatMap((t) => (t.counters ? [t.counters] : [])), done);
      } catch (err) {
        // Their tag values are written; the counters not yet written go back.
        await this.#readd(taken.filter((t) => t.counters && !done.has(t.groupId)).map((t) => ({ ...t, tags: [] })));
        throw err;
      }
    }
    return written;
  }

  /** Nothing to drop: increments reach Redis only after the batch committed. */
  discard(): void {}

  /** Puts back what a failed flush took: its tag value entries, then its counters. */
  async #readd(taken: Taken[]): Promise<void> {
    const pipeline = this.#redis.pipeline();
    for (const t of taken) if (t.tags.length) pipeline.rpush(`${this.#prefix}buffer:tags:${t.groupId}`, ...t.tags);
    for (const t of taken) if (t.tags.length && !t.counters) pipeline.sadd(`${this.#prefix}buffer:pending`, t.groupId);
    await pipeline.exec();
    await this.#add(
      taken.flatMap((t) => (t.counters ? [t.counters] : [])),
      false,
    );
  }

  async #add(items: GroupCounters[], dedupe: boolean): Promise<void> {
    // Several thousand items make one script call of a few hundred kB; chunk to keep Redis
    // responsive to other clients while it runs.
    for (let start = 0; start < items.length; start += 1000) {
      const chunk = items.slice(start, start + 1000);
      const keys = [`${this.#prefix}buffer:pending`];
      const args: (string | number)[] = [this.#ttl];
      for (const c of chunk) {
        keys.push(dedupe && c.dedupeKey ? `${this.#prefix}buffer:seen:${c.dedupeKey}` : '', `${this.#prefix}buffer:group:${c.groupId}`, `${this.#prefix}buffer:tags:${c.groupId}`);
        const tags = c.tagValues?.tags.length ? JSON.stringify([c.tagValues.projectId, c.firstSeen, c.lastSeen, c.tagValues.tags]) : '';
        args.push(c.groupId, c.timesSeen, c.firstSeen, c.lastSeen, c.lastRelease ?? '', tags, c.shown ? JSON.stringify(c.shown) : '');
      }
      await INCR.run(this.#redis, keys, args);
    }
  }
}

/** Adds the tag value entries of one issue's events to `counts`. */
function addTagEntries(counts: TagValueCounts, groupId: number, entries: string[]): void {
  for (const entry of entries) {
    const [projectId, firstSeen, lastSeen, tags] = JSON.parse(entry) as [number, number, number, [string, string][]];
    for (const [key, value] of tags) counts.add(projectId, groupId, key, value, 1, firstSeen, lastSeen);
  }
}

function toCounters(groupId: number, fields: string[]): GroupCounters {
  const h = new Map<string, string>();
  for (let i = 0; i < fields.length; i += 2) h.set(fields[i], fields[i + 1]);
  const shown = h.get('shown');
  return {
    groupId,
    timesSeen: Number(h.get('times_seen') ?? 0),
    firstSeen: Number(h.get('first_seen')),
    lastSeen: Number(h.get('last_seen')),
    lastRelease: h.get('last_release') ?? null,
    ...(shown ? { shown: JSON.parse(shown) as ShownFields } : {}),
  };
}
