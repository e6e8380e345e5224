-- stats: everything the dashboard's overview shows of one queue, in one call. Read-only.
--
-- Throughput and failures are counted from the finished sets' scores (finish time), so they
-- cover only jobs that retention (trim) has kept. The oldest waiting job is the oldest among
-- the first `sample` jobs in line of each priority: exact while each client's jobs are FIFO,
-- which the fair slots guarantee, unless more than `sample` clients are interleaved ahead of it.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      short window ms (1 h)
-- ARGV[6]      long window ms (24 h)
-- ARGV[7]      sample: jobs looked at per ready set for the oldest waiting one
-- Returns      {urgent, normal, batch, delayed, active, completed, failed, cancelled, paused,
--               completed_short, failed_short, cancelled_short,
--               completed_long, failed_long, cancelled_long,
--               oldest waiting job's createdAt (-1 = none waiting)}
-- Calls        8 ZCARD + HGET + 6 ZCOUNT + 3 ZRANGE + HMGET = 19

local out = {}
for i = 2, 10 do
  if i ~= 5 then out[#out + 1] = redis.call('ZCARD', KEYS[i]) end
end
out[#out + 1] = redis.call('HGET', KEYS[11], 'paused') == '1' and 1 or 0
for _, window in ipairs({ ARGV[5], ARGV[6] }) do
  local since = '(' .. fmt(NOW - tonumber(window))
  for _, key in ipairs({ KEYS[8], KEYS[9], KEYS[10] }) do
    out[#out + 1] = redis.call('ZCOUNT', key, since, '+inf')
  end
end
local sample = tonumber(ARGV[7])
local heads = {}
for _, key in ipairs({ KEYS[2], KEYS[3], KEYS[4] }) do
  for _, id in ipairs(redis.call('ZRANGE', key, 0, sample - 1)) do heads[#heads + 1] = id end
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
out[#out + 1] = fmt(oldest)
return out
