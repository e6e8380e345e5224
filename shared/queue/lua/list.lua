-- list: one page of a state's jobs, for the dashboard. Read-only.
--
-- Waiting jobs are listed in claim order across the three ready sets (urgent, then normal, then
-- batch), so page boundaries may span priorities; every other state is one sorted set.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (unused here)
-- ARGV[5]      state: waiting | urgent | normal | batch | delayed | active | completed |
--              failed | cancelled
-- ARGV[6]      offset (0-based)
-- ARGV[7]      count (the caller bounds it)
-- ARGV[8]      '1' newest (highest score) first; ignored for 'waiting'
-- Returns      {total, {id, score, record JSON or false}...}
-- Calls        ZCARD + ZRANGE + HMGET = 3 (waiting: 3 ZCARD + up to 3 ZRANGE + HMGET)

local state = ARGV[5]
local offset = tonumber(ARGV[6])
local count = tonumber(ARGV[7])
local rev = ARGV[8] == '1'
local SETS = {
  urgent = KEYS[2], normal = KEYS[3], batch = KEYS[4], delayed = KEYS[6], active = KEYS[7],
  completed = KEYS[8], failed = KEYS[9], cancelled = KEYS[10],
}
local sets
if state == 'waiting' then
  sets = { KEYS[2], KEYS[3], KEYS[4] }
  rev = false
elseif SETS[state] then
  sets = { SETS[state] }
else
  return redis.error_reply('unknown state ' .. state)
end

local total, ids, scores = 0, {}, {}
for _, key in ipairs(sets) do
  local size = redis.call('ZCARD', key)
  local first = offset - total
  local want = count - #ids
  if want > 0 and first < size then
    if first < 0 then first = 0 end
    local page
    if rev then
      page = redis.call('ZREVRANGE', key, first, first + want - 1, 'WITHSCORES')
    else
      page = redis.call('ZRANGE', key, first, first + want - 1, 'WITHSCORES')
    end
    for i = 1, #page, 2 do
      ids[#ids + 1] = page[i]
      scores[#scores + 1] = page[i + 1]
    end
  end
  total = total + size
end

local out = {}
if #ids > 0 then
  local recs = redis.call('HMGET', KEYS[1], unpack(ids))
  for i, id in ipairs(ids) do out[i] = { id, scores[i], recs[i] or false } end
end
return { total, out }
