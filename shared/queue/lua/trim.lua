-- trim: retention of finished jobs (completed, failed, cancelled), by age then by count.
--
-- Removes the jobs from their sorted set and their records from the jobs hash. Status keys are
-- left to expire on their own TTL (they already show the final state).
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      max age ms (finished before now - max age are removed)
-- ARGV[6]      max count kept per finished set
-- ARGV[7]      limit: at most this many jobs removed per call, over all three sets
-- Returns      {removed, more (1 if the limit was reached)}

local cutoff = fmt(NOW - tonumber(ARGV[5]))
local max_count = tonumber(ARGV[6])
local left = tonumber(ARGV[7])
local removed = 0
for _, key in ipairs({ KEYS[8], KEYS[9], KEYS[10] }) do
  if left <= 0 then break end
  local ids = redis.call('ZRANGEBYSCORE', key, '-inf', cutoff, 'LIMIT', 0, left)
  local excess = redis.call('ZCARD', key) - #ids - max_count
  if excess > 0 and #ids < left then
    local extra = redis.call('ZRANGE', key, #ids, #ids + math.min(excess, left - #ids) - 1)
    for _, id in ipairs(extra) do ids[#ids + 1] = id end
  end
  if #ids > 0 then
    redis.call('ZREM', key, unpack(ids))
    redis.call('HDEL', KEYS[1], unpack(ids))
    removed = removed + #ids
    left = left - #ids
  end
end
return { removed, left <= 0 and 1 or 0 }
