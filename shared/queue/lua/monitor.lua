-- monitor: one tick of a worker's alert monitor, in one call: its liveness beat, what the
-- alert conditions need from the queue, and the events since the last tick.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- KEYS[15]     {q:Q}:workers  ZSET  worker id -> last beat ms (beats older than a day dropped)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      worker id
-- ARGV[6]      '1' if this worker's engine is alive (claimed or renewed a lease lately): beat
-- ARGV[7]      last stream id seen; entries after it are returned
-- ARGV[8]      at most this many entries are returned
-- ARGV[9]      at most this many failed jobs are described
-- Returns      {waiting, paused, oldest waiting createdAt (-1 = none), newest beat ms (-1),
--               {{stream id, event, jobs JSON, at}...}, {{id, type, clientId, error}...}}
-- Calls        3 ZCARD + HGET + ZRANGE x3 + HMGET + ZREVRANGE + ZREMRANGEBYSCORE + XRANGE
--              (+ ZADD when alive, + HMGET for failed jobs) ~ 12

if ARGV[6] == '1' then redis.call('ZADD', KEYS[15], ARGV[1], ARGV[5]) end
redis.call('ZREMRANGEBYSCORE', KEYS[15], '-inf', '(' .. fmt(NOW - 86400000))
local newest = redis.call('ZREVRANGE', KEYS[15], 0, 0, 'WITHSCORES')
local beat = newest[2] and tonumber(newest[2]) or -1

local waiting = 0
local heads = {}
for _, key in ipairs({ KEYS[2], KEYS[3], KEYS[4] }) do
  waiting = waiting + redis.call('ZCARD', key)
  for _, id in ipairs(redis.call('ZRANGE', key, 0, 9)) do heads[#heads + 1] = id end
end
local oldest = -1
if #heads > 0 then
  for _, rec in ipairs(redis.call('HMGET', KEYS[1], unpack(heads))) do
    if rec then
      local created = tonumber(cjson.decode(rec).createdAt)
      if created and (oldest < 0 or created < oldest) then oldest = created end
    end
  end
end
local paused = redis.call('HGET', KEYS[11], 'paused') == '1' and 1 or 0

local entries = redis.call('XRANGE', KEYS[12], '(' .. ARGV[7], '+', 'COUNT', tonumber(ARGV[8]))
local events, failed_ids = {}, {}
local max_failed = tonumber(ARGV[9])
for _, entry in ipairs(entries) do
  local f = entry[2]
  local fields = {}
  for i = 1, #f, 2 do fields[f[i]] = f[i + 1] end
  local jobs = fields.jobs or '[]'
  events[#events + 1] = { entry[1], fields.event or '', jobs, fields.at or '0' }
  if #failed_ids < max_failed and string.find(jobs, '"failed"', 1, true) then
    for _, j in ipairs(cjson.decode(jobs)) do
      if j.to == 'failed' and #failed_ids < max_failed then failed_ids[#failed_ids + 1] = j.id end
    end
  end
end
local failed = {}
if #failed_ids > 0 then
  local recs = redis.call('HMGET', KEYS[1], unpack(failed_ids))
  for i, id in ipairs(failed_ids) do
    if recs[i] then
      local job = cjson.decode(recs[i])
      local err = is_null(job.error) and '' or job.error
      failed[#failed + 1] = { id, job.type or '', job.clientId or '', err }
    end
  end
end
return { waiting, paused, fmt(oldest), fmt(beat), events, failed }
