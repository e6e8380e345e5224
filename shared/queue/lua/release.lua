-- release: hands active jobs back (graceful shutdown): straight to ready with their original
-- slot, no stall counted and the attempt given back. A job with a cancel request is cancelled.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      worker token
-- ARGV[6..]    job ids
-- Returns      per job 1 (released) or 0 (lease lost)

local token = ARGV[5]
local ids = {}
for i = 6, #ARGV do ids[#ids + 1] = ARGV[i] end
local out, released = {}, 0
if #ids > 0 then
  local jobs = load_many(ids)
  for i, id in ipairs(ids) do
    local job = jobs[i]
    if owned(job, token) then
      if job.cancelRequested then
        finish(job, 'cancelled')
      else
        job.attemptsMade = math.max(0, job.attemptsMade - 1)
        requeue(job)
        released = released + 1
      end
      out[i] = 1
    else
      out[i] = 0
    end
  end
end
flush('released')
if released > 0 then wake(released) end
return out
