/**
 * The Lua scripts of the Redis Streams queue (see redis-streams.ts for the design). Each runs
 * atomically on the server. Keys, always in this order:
 *   KEYS[1] the stream, KEYS[2] the delayed set (score = due time, member = old entry id),
 *   KEYS[3] the delayed payloads (`<id>:p`, `<id>:a`), KEYS[4] the dead-letter stream,
 *   KEYS[5] the leases (score = lease end, member = entry id).
 * Stream entry fields: `p` payload, `a` attempts made by earlier incarnations of the task.
 */

const HELPERS = `
local function field(fields, name)
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return nil
end
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** ARGV: group, consumer, leaseMs, max. Returns {entry id, payload, attempts} per task. */
export const TAKE_SCRIPT = `${HELPERS}
local group, consumer, lease, max = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local now = nowMs()

-- 1. Nacked tasks whose delay is over go back onto the stream, behind what is already there.
local due = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, 1000)
for _, id in ipairs(due) do
  local d = redis.call('HMGET', KEYS[3], id .. ':p', id .. ':a')
  if d[1] then redis.call('XADD', KEYS[1], '*', 'p', d[1], 'a', d[2]) end
  redis.call('HDEL', KEYS[3], id .. ':p', id .. ':a')
  redis.call('ZREM', KEYS[2], id)
end

local out = {}
-- 2. Expired leases: taken, not acked before the lease ended (the worker died or hung).
-- XCLAIM raises the entry's delivery count; the new lease starts now.
local expired = redis.call('ZRANGEBYSCORE', KEYS[5], '-inf', now, 'LIMIT', 0, max)
for _, id in ipairs(expired) do
  local c = redis.call('XCLAIM', KEYS[1], group, consumer, 0, id)
  if c[1] and c[1][2] then
    local p = redis.call('XPENDING', KEYS[1], group, id, id, 1)
    local deliveries = (p[1] and tonumber(p[1][4])) or 1
    out[#out + 1] = { id, field(c[1][2], 'p'), (tonumber(field(c[1][2], 'a')) or 0) + deliveries }
    redis.call('ZADD', KEYS[5], now + lease, id)
  else
    redis.call('ZREM', KEYS[5], id)
  end
end

-- 3. New entries, delivered for the first time.
if #out < max then
  local r = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', max - #out, 'STREAMS', KEYS[1], '>')
  if r then
    for _, e in ipairs(r[1][2]) do
      out[#out + 1] = { e[1], field(e[2], 'p'), (tonumber(field(e[2], 'a')) or 0) + 1 }
      redis.call('ZADD', KEYS[5], now + lease, e[1])
    end
  end
end
return out
`;

/**
 * ARGV: group, entry id, error, delayMs, maxAttempts. Returns 0 when the task was no longer leased
 * (acked, or nacked before), 1 when it will be retried, 2 when it went to the dead letters.
 */
export const NACK_SCRIPT = `${HELPERS}
local group, id, err, delay, maxAttempts = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local pending = redis.call('XPENDING', KEYS[1], group, id, id, 1)
redis.call('ZREM', KEYS[5], id)
if not pending[1] then return 0 end
local e = redis.call('XRANGE', KEYS[1], id, id)
redis.call('XACK', KEYS[1], group, id)
redis.call('XDEL', KEYS[1], id)
if not e[1] then return 0 end
local payload = field(e[1][2], 'p')
local attempts = (tonumber(field(e[1][2], 'a')) or 0) + tonumber(pending[1][4])
if attempts >= maxAttempts then
  redis.call('XADD', KEYS[4], '*', 'p', payload, 'a', attempts, 'error', err, 'died', nowMs())
  return 2
end
if delay <= 0 then
  redis.call('XADD', KEYS[1], '*', 'p', payload, 'a', attempts)
else
  redis.call('HSET', KEYS[3], id .. ':p', payload, id .. ':a', attempts)
  redis.call('ZADD', KEYS[2], nowMs() + delay, id)
end
return 1
`;

/**
 * ARGV: group. Returns {ready, leased, dead}. Like the SQLite queue, a task waiting out its retry
 * delay counts as leased (it is not available); unlike it, an expired lease counts as leased until
 * a take reclaims it.
 */
export const STATS_SCRIPT = `
local pending = tonumber(redis.call('XPENDING', KEYS[1], ARGV[1])[1])
local ready = redis.call('XLEN', KEYS[1]) - pending
return { ready, pending + redis.call('ZCARD', KEYS[2]), redis.call('XLEN', KEYS[4]) }
`;
