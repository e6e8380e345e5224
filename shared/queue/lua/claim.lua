-- claim: housekeeping plus up to max_jobs leases, in one call.
--
-- 1. promotes due delayed jobs (at most promote_limit) to ready, with a fresh fair slot, and
--    wakes as many idle workers;
-- 2. reclaims expired leases (at most reclaim_limit): stalls + 1, then back to ready with the
--    original slot (served first), or failed once stalls > maxStalls, or cancelled if a cancel
--    was requested;
-- 3. unless paused, and within the global start rate, pops urgent, then normal, then batch and
--    grants leases (active score = now + lease_ms, leaseToken = token, attemptsMade + 1).
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      worker token (becomes each job's leaseToken)
-- ARGV[6]      max_jobs
-- ARGV[7]      lease_ms
-- ARGV[8]      max jobs started per second across all workers (0 = no limit)
-- ARGV[9]      promote_limit
-- ARGV[10]     reclaim_limit
-- Returns      {paused (0|1), rate_limited_until_ms (-1 = not limited),
--               next_wake_at_ms (-1 = nothing pending; only computed when fewer than max_jobs
--               were claimed), {claimed record JSON...}, {promoted, reclaimed, stalled_failed}}

local token = ARGV[5]
local max_jobs = tonumber(ARGV[6])
local lease_ms = tonumber(ARGV[7])
local max_rate = tonumber(ARGV[8])
local promoted, reclaimed, stall_failed = 0, 0, 0

-- 1. Promote due delayed jobs.
local due = redis.call('ZRANGEBYSCORE', KEYS[6], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[9]))
if #due > 0 then
  local jobs = load_many(due)
  for i, id in ipairs(due) do
    zrem(KEYS[6], id)
    local job = jobs[i]
    if job then
      assign_slot(job)
      job.state = 'waiting'
      zadd(READY[job.priority], score(job), id)
      touch(job)
      event(id, 'waiting')
      promoted = promoted + 1
    end
  end
end

-- 2. Reclaim expired leases.
local expired = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[10]))
if #expired > 0 then
  local jobs = load_many(expired)
  for i, id in ipairs(expired) do
    local job = jobs[i]
    if not job then
      zrem(KEYS[7], id)
    else
      job.stalls = job.stalls + 1
      if job.cancelRequested then
        finish(job, 'cancelled')
      elseif job.stalls > job.maxStalls then
        job.error = 'stalled ' .. job.stalls .. ' times (worker lost); max_stalls=' .. job.maxStalls
        finish(job, 'failed')
        stall_failed = stall_failed + 1
      else
        requeue(job)
        reclaimed = reclaimed + 1
      end
    end
  end
end
-- Ready must hold the promoted and reclaimed jobs before anything is popped.
flush_zsets()

-- 3. Claim.
local meta = redis.call('HMGET', KEYS[11], 'paused', 'rateSec', 'rateCount')
local paused = meta[1] == '1'
local rate_limited_until = -1
local want = max_jobs
local window = math.floor(NOW / 1000)
local used = 0
if max_rate > 0 then
  if tonumber(meta[2]) == window then used = tonumber(meta[3]) or 0 end
  want = math.min(want, max_rate - used)
  if want <= 0 and not paused then
    want = 0
    rate_limited_until = (window + 1) * 1000
  end
end

local claimed = {}
if not paused and want > 0 then
  for _, prio in ipairs(PRIOS) do
    local left = want - #claimed
    if left <= 0 then break end
    local popped = redis.call('ZPOPMIN', READY[prio], left)
    local ids = {}
    for i = 1, #popped, 2 do ids[#ids + 1] = popped[i] end
    if #ids > 0 then
      local jobs = load_many(ids)
      for i, id in ipairs(ids) do
        local job = jobs[i]
        if job then
          fair_claimed(job)
          job.state = 'active'
          job.leaseToken = token
          job.attemptsMade = job.attemptsMade + 1
          zadd(KEYS[7], fmt(NOW + lease_ms), id)
          touch(job)
          event(id, 'active')
          claimed[#claimed + 1] = job
        end
      end
    end
  end
  if max_rate > 0 and #claimed > 0 then
    redis.call('HSET', KEYS[11], 'rateSec', fmt(window), 'rateCount', fmt(used + #claimed))
  end
end

flush('claimed')

local next_wake = -1
if #claimed < max_jobs then
  for _, key in ipairs({ KEYS[6], KEYS[7] }) do
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[2] then
      local at = tonumber(first[2])
      if next_wake < 0 or at < next_wake then next_wake = at end
    end
  end
end
-- Promoted or reclaimed jobs this claim did not take: wake other idle workers for them. A claim
-- that found nothing clears stale wake tokens, so an idle worker blocks instead of spinning.
local leftover = promoted + reclaimed - #claimed
if leftover > 0 and not paused and rate_limited_until < 0 then
  wake(leftover)
elseif #claimed == 0 then
  redis.call('DEL', KEYS[13])
end

local records = {}
for i, job in ipairs(claimed) do records[i] = cjson.encode(job) end
return { paused and 1 or 0, rate_limited_until, fmt(next_wake), records, { promoted, reclaimed, stall_failed } }
