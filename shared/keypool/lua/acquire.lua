-- acquire: pick the next usable key round-robin and take one unit of its window budget.
--
-- All pool state is one hash, so one HMGET reads everything and one HSET writes the choice.
-- Fields, per key id:
--   <id>:st     absent = healthy; 'c|<until>' cooling; 'p|<since>' probing (half-open);
--               'd|<until>|<reason>' disabled (until 0 = until an operator re-enables it)
--   <id>:log    admission stamps (ms) inside the window, oldest first, comma-separated
--               (the same exact sliding-window log as the rate limiter's check.lua)
--   <id>:calls  leases granted, ever;  <id>:rl  429s/quota reports, ever (report.lua)
-- and 'rr', the index (0-based) of the key to try first.
--
-- A cooling or dated-disabled key whose time has passed is not healthy yet: the first acquire
-- to find it takes it as a probe ('p|now'), and every other acquire skips it until the probe
-- reports. A probe nobody reported within the probe timeout (its holder died) is taken over.
--
-- KEYS[1]  the pool's state hash, `{keys:<namespace>}:state`
-- ARGV[1]  now, ms since the epoch (the caller's clock)
-- ARGV[2]  window, ms
-- ARGV[3]  budget: leases per key in any window
-- ARGV[4]  probe timeout, ms
-- ARGV[5]  poll, ms: how soon to look again when only a probe's answer can free a key
-- ARGV[6..] the key ids, in pool order
-- Returns  {1, index (1-based into the ids), probe (0|1), stamp}   a lease was granted
--          {0, next_at_ms}   nothing usable now; next_at_ms = -1 when every key is disabled
--                            until an operator re-enables it
-- Calls    granted: HMGET + HSET = 2; nothing usable: HMGET = 1 (each plus the EVALSHA)
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local budget = tonumber(ARGV[3])
local probe_timeout = tonumber(ARGV[4])
local poll = tonumber(ARGV[5])
local n = #ARGV - 5

local fields = {'rr'}
for i = 1, n do
  local id = ARGV[5 + i]
  fields[#fields + 1] = id .. ':st'
  fields[#fields + 1] = id .. ':log'
  fields[#fields + 1] = id .. ':calls'
end
local v = redis.call('HMGET', KEYS[1], unpack(fields))

local next_at = nil
local function later(t)
  if next_at == nil or t < next_at then next_at = t end
end

local start = tonumber(v[1]) or 0
for j = 0, n - 1 do
  local i = (start + j) % n + 1
  local st, log, calls = v[2 + (i - 1) * 3], v[3 + (i - 1) * 3], v[4 + (i - 1) * 3]
  local usable, probe = true, false
  if st then
    local kind, t = string.match(st, '^(%a)|(%d+)')
    t = tonumber(t) or 0
    if kind == 'p' then
      if t + probe_timeout > now then
        usable = false
        later(math.min(now + poll, t + probe_timeout))
      else
        probe = true
      end
    elseif kind == 'd' and t == 0 then
      usable = false
    elseif t > now then
      usable = false
      later(t)
    else
      probe = true
    end
  end
  if usable then
    local kept, newest = {}, nil
    if log then
      for stamp in string.gmatch(log, '%d+') do
        if tonumber(stamp) > now - window then
          kept[#kept + 1] = stamp
          newest = stamp
        end
      end
    end
    if #kept >= budget then
      later(tonumber(kept[#kept - budget + 1]) + window)
    else
      -- Stamps never go backwards, so the log stays sorted whatever the callers' clocks say.
      local stamp = ARGV[1]
      if newest and tonumber(newest) > now then stamp = newest end
      kept[#kept + 1] = stamp
      local id = ARGV[5 + i]
      local writes = {'rr', i % n, id .. ':log', table.concat(kept, ','),
                      id .. ':calls', (tonumber(calls) or 0) + 1}
      if probe then
        writes[#writes + 1] = id .. ':st'
        writes[#writes + 1] = 'p|' .. ARGV[1]
      end
      redis.call('HSET', KEYS[1], unpack(writes))
      return {1, i, probe and 1 or 0, tonumber(stamp)}
    end
  end
end
return {0, next_at or -1}
