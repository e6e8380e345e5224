-- fail: records a failed attempt; retries after a delay or fails for good.
--
-- A retry happens when the error is retryable, attemptsMade < attempts and no cancel was
-- requested (then the job is cancelled instead). The delay is computed by the caller.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      worker token
-- ARGV[6]      job id
-- ARGV[7]      error message
-- ARGV[8]      retryable (0|1)
-- ARGV[9]      retry delay ms
-- Returns      {1, new state, due ms (-1 unless delayed)} or {0, state or ""} if the lease is lost

local job = load(ARGV[6])
if not owned(job, ARGV[5]) then return { 0, job and job.state or '' } end
job.error = ARGV[7]
local due = -1
if job.cancelRequested then
  finish(job, 'cancelled')
elseif ARGV[8] == '1' and job.attemptsMade < job.attempts then
  due = NOW + tonumber(ARGV[9])
  zrem(KEYS[7], job.id)
  zadd(KEYS[6], fmt(due), job.id)
  job.state = 'delayed'
  job.leaseToken = cjson.null
  touch(job)
  event(job.id, 'delayed')
else
  finish(job, 'failed')
end
flush('failed')
if due >= 0 then wake(1) end
return { 1, job.state, fmt(due) }
