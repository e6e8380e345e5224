-- retry: puts failed jobs back in ready (operator action), with a fresh fair slot and their
-- attempts, stalls, error, progress and result reset, so each runs as if newly enqueued (the
-- worker still skips items it already stored).
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      limit: with no ids, retry the `limit` oldest failed jobs
-- ARGV[6..]    job ids (optional)
-- Returns      {{retried ids...}, skipped (not failed or missing), more (1 if failed jobs remain
--              after a retry-all)}
-- Calls        ZRANGE (retry-all only) + HMGET + ZREM + ZADD + HMGET/HSET fair + HSET jobs +
--              1 SET status per job + XADD + LLEN (+ RPUSH)

local ids = {}
for i = 6, #ARGV do ids[#ids + 1] = ARGV[i] end
local all = #ids == 0
if all then ids = redis.call('ZRANGE', KEYS[9], 0, tonumber(ARGV[5]) - 1) end

local retried, skipped = {}, 0
if #ids > 0 then
  local jobs = load_many(ids)
  for i, id in ipairs(ids) do
    local job = jobs[i]
    if job and job.state == 'failed' then
      zrem(KEYS[9], id)
      job.attemptsMade = 0
      job.stalls = 0
      job.error = cjson.null
      job.progress = cjson.null
      job.result = cjson.null
      job.cancelRequested = false
      job.state = 'waiting'
      assign_slot(job)
      zadd(READY[job.priority], score(job), id)
      touch(job)
      event(id, 'waiting')
      retried[#retried + 1] = id
    else
      skipped = skipped + 1
    end
  end
end
flush('retried')
if #retried > 0 then wake(#retried) end
local more = 0
if all and redis.call('ZCARD', KEYS[9]) > 0 then more = 1 end
return { retried, skipped, more }
