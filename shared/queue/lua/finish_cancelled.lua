-- finish_cancelled: the worker stopped a job whose cancel it saw; the job becomes cancelled.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      worker token
-- ARGV[6]      job id
-- Returns      1, or 0 if the lease is lost

local job = load(ARGV[6])
if not owned(job, ARGV[5]) then return 0 end
finish(job, 'cancelled')
flush('cancelled')
return 1
