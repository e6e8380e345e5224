-- check: one admission attempt against one bucket's sliding-window log.
--
-- The log is the admission stamps (ms) still inside the window, oldest first, as decimal
-- numbers separated by commas, in ONE string key. That is a sliding-window log, so it is exact
-- (at most `limit` stamps in any window of `window` ms), but it costs what GCRA costs: one read
-- and, only when admitting, one write. A ZSET log would need ZREMRANGEBYSCORE + ZCARD + ZADD +
-- PEXPIRE. The value is at most `limit` stamps (~14 bytes each), so parsing it is cheap.
--
-- Stamps never go backwards (a new stamp is max(now, newest stamp)): a caller whose clock is
-- behind cannot slip a stamp in front of the window, and the log stays sorted.
--
-- KEYS[1]  the bucket's log, `{rl:<namespace>}:<bucket>`
-- ARGV[1]  now: ms since the epoch, the caller's clock (passed in so tests control time)
-- ARGV[2]  window, ms
-- ARGV[3]  limit: admissions allowed in any window
-- Returns  {1, remaining, stamp} admitted; `stamp` (>= now) is the admission time recorded
--          {0, retry_after_ms}   refused; nothing written. retry_after_ms > 0 is when the
--                                oldest stamp that matters leaves the window.
-- Calls    admitted: GET + SET(PX) = 2; refused: GET = 1 (each plus the EVALSHA itself)
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])

local kept = {}
local newest = nil
local log = redis.call('GET', KEYS[1])
if log then
  for stamp in string.gmatch(log, '%d+') do
    if tonumber(stamp) > now - window then
      kept[#kept + 1] = stamp
      newest = stamp
    end
  end
end

if #kept >= limit then
  -- (#kept - limit + 1) stamps must leave before one more fits; the last of them decides.
  local frees = tonumber(kept[#kept - limit + 1]) + window
  return {0, frees - now}
end

local stamp = ARGV[1]
if newest and tonumber(newest) > now then
  stamp = newest
end
kept[#kept + 1] = stamp
-- The key must outlive its newest stamp's window, and the TTL runs on Redis's clock, not on
-- the callers': a caller that read its clock just before the window ended but whose script
-- runs after the key expired would find an empty log and be admitted next to stamps it should
-- have counted. A second window of slack makes that need a delay of a whole window; the log is
-- trimmed on every write anyway, so the slack costs only an idle bucket's few bytes.
redis.call('SET', KEYS[1], table.concat(kept, ','), 'PX', tonumber(stamp) - now + 2 * window)
return {1, limit - #kept, tonumber(stamp)}
