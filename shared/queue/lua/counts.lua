-- counts: sizes of the queue's sets, for tests, the dashboard and the benchmark.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (unused here)
-- Returns      {urgent, normal, batch, delayed, active, completed, failed, cancelled, paused}

local out = {}
for i = 2, 10 do
  if i ~= 5 then out[#out + 1] = redis.call('ZCARD', KEYS[i]) end
end
out[#out + 1] = redis.call('HGET', KEYS[11], 'paused') == '1' and 1 or 0
return out
