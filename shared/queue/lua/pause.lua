-- pause: pauses or resumes claiming. Enqueue keeps working while paused; resuming wakes an
-- idle worker, since jobs may have queued up meanwhile.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      '1' to pause, '0' to resume
-- Returns      1 if the queue's paused flag changed, 0 if it already was so
-- Calls        HGET, and when it changes HSET + XADD (+ LLEN, RPUSH on resume)

local pause = ARGV[5] == '1'
local was = redis.call('HGET', KEYS[11], 'paused') == '1'
if was == pause then return 0 end
redis.call('HSET', KEYS[11], 'paused', pause and '1' or '0')
redis.call('XADD', KEYS[12], 'MAXLEN', '~', ARGV[2], '*',
  'event', pause and 'paused' or 'resumed', 'jobs', '[]', 'at', ARGV[1])
if not pause then wake(1) end
return 1
