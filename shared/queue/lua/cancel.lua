-- cancel: removes a waiting or delayed job; flags an active one; leaves a finished one alone.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      job id
-- Returns      {outcome, state}: outcome "cancelled" (was waiting/delayed), "requested" (active:
--              cancelRequested set, the worker finishes it), "finished" (no-op) or "missing"

local job = load(ARGV[5])
if not job then return { 'missing', '' } end
local state = job.state
if state == 'waiting' or state == 'delayed' then
  zrem(state == 'waiting' and READY[job.priority] or KEYS[6], job.id)
  zadd(KEYS[10], ARGV[1], job.id)
  job.state = 'cancelled'
  touch(job)
  event(job.id, 'cancelled')
  flush('cancelled')
  return { 'cancelled', 'cancelled' }
elseif state == 'active' then
  if not job.cancelRequested then
    job.cancelRequested = true
    touch(job)
    event(job.id, 'cancel-requested')
    flush('cancel-requested')
  end
  return { 'requested', 'active' }
end
return { 'finished', state }
