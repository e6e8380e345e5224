-- heartbeat: renews the leases a worker still holds and reports cancel requests.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      worker token
-- ARGV[6]      lease_ms (new expiry = now + lease_ms)
-- ARGV[7..]    job ids
-- Returns      {{renewed ids}, {lost ids}, {renewed ids with cancelRequested}}
-- No state changes, so no event; the status key's TTL is refreshed so a long job keeps it.

local token = ARGV[5]
local expiry = fmt(NOW + tonumber(ARGV[6]))
local ids = {}
for i = 7, #ARGV do ids[#ids + 1] = ARGV[i] end
local renewed, lost, cancel = {}, {}, {}
if #ids > 0 then
  local jobs = load_many(ids)
  local args = {}
  for i, id in ipairs(ids) do
    local job = jobs[i]
    if owned(job, token) then
      renewed[#renewed + 1] = id
      args[#args + 1] = expiry
      args[#args + 1] = id
      if job.cancelRequested then cancel[#cancel + 1] = id end
      redis.call('EXPIRE', KEYS[14] .. id, ARGV[4])
    else
      lost[#lost + 1] = id
    end
  end
  if #args > 0 then redis.call('ZADD', KEYS[7], 'XX', unpack(args)) end
end
return { renewed, lost, cancel }
