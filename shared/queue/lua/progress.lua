-- progress: stores a job's progress (JSON text) in its record and status.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      worker token
-- ARGV[6]      job id
-- ARGV[7]      progress JSON text
-- Returns      {1, cancelRequested (0|1)} when the lease is ours, {0, state or ""} when not
-- Progress is not a transition, so no event is written.

local job = load(ARGV[6])
if not owned(job, ARGV[5]) then return { 0, job and job.state or '' } end
job.progress = ARGV[7]
touch(job)
flush('progress')
return { 1, job.cancelRequested and 1 or 0 }
