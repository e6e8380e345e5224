-- enqueue: adds jobs to ready (or delayed), honouring idempotency keys.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- KEYS[15..]   idempotency keys {q:Q}:idem:<clientId>:<key>, one per job that has one
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      idempotency TTL (s)
-- ARGV[6]      n, the number of jobs
-- ARGV[7..]    per job, 3 arguments: record JSON (built by Rust; state, slot, seq, createdAt and
--              updatedAt are set here), delay ms (0 = ready now), index into KEYS of its
--              idempotency key (0 = none)
-- Returns      per job {jobId, created (1) or existing (0)}

local n = tonumber(ARGV[6])
local out, fresh = {}, {}
for i = 1, n do
  local base = 7 + (i - 1) * 3
  local job = cjson.decode(ARGV[base])
  local delay = tonumber(ARGV[base + 1])
  local ik = tonumber(ARGV[base + 2])
  local existing = false
  if ik > 0 then
    existing = redis.call('GET', KEYS[ik])
    if not existing then redis.call('SET', KEYS[ik], job.id, 'EX', ARGV[5]) end
  end
  if existing then
    out[i] = { existing, 0 }
  else
    out[i] = { job.id, 1 }
    job.createdAt = NOW
    if delay > 0 then
      job.state = 'delayed'
      zadd(KEYS[6], fmt(NOW + delay), job.id)
      event(job.id, 'delayed')
    else
      job.state = 'waiting'
      fresh[#fresh + 1] = job
    end
    touch(job)
  end
end

if #fresh > 0 then
  for _, job in ipairs(fresh) do
    assign_slot(job)
    zadd(READY[job.priority], score(job), job.id)
    event(job.id, 'waiting')
  end
end

if #touched > 0 then
  flush('enqueued')
  wake(#touched)
end
return out
