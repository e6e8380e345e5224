-- promote: moves a delayed job (or a retry waiting out its backoff) to ready now (operator
-- action), with a fresh fair slot, and wakes a worker.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      job id
-- Returns      {outcome, state}: outcome 'promoted', 'not-delayed' (state = its state) or
--              'missing'
-- Calls        HMGET + ZREM + ZADD + HMGET/HSET fair + HSET + SET + XADD + LLEN (+ RPUSH)

local job = load(ARGV[5])
if not job then return { 'missing', '' } end
if job.state ~= 'delayed' then return { 'not-delayed', job.state } end
zrem(KEYS[6], job.id)
job.state = 'waiting'
assign_slot(job)
zadd(READY[job.priority], score(job), job.id)
touch(job)
event(job.id, 'waiting')
flush('promoted')
wake(1)
return { 'promoted', 'waiting' }
