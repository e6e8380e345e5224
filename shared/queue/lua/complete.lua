-- complete: finishes jobs with their results.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      worker token
-- ARGV[6..]    pairs: job id, result JSON text
-- Returns      per job 1 (completed) or 0 (lease lost: not ours or no longer active)

local token = ARGV[5]
local ids, results = {}, {}
for i = 6, #ARGV, 2 do
  ids[#ids + 1] = ARGV[i]
  results[#results + 1] = ARGV[i + 1]
end
local out = {}
if #ids > 0 then
  local jobs = load_many(ids)
  for i, id in ipairs(ids) do
    local job = jobs[i]
    if owned(job, token) then
      job.result = results[i]
      finish(job, 'completed')
      out[i] = 1
    else
      out[i] = 0
    end
  end
end
flush('completed')
return out
