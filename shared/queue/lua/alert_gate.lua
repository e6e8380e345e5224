-- alert_gate: decides, atomically across every worker instance, whether this instance sends an
-- alert for a condition: each condition alerts at most once per window while it lasts, and
-- sends one resolve message when it clears. The first instance to ask wins; the others are
-- told to stay quiet.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- KEYS[15]     {q:Q}:alerts  HASH  condition -> 'firing|<since ms>|<last sent ms>' or 'ok|<ms>'
--              (expires 30 days after its last change)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      condition name
-- ARGV[6]      'fire' (the condition holds now) or 'resolve' (it does not)
-- ARGV[7]      window ms
-- Returns      fire: 1 send (new), 2 send (reminder: still firing a window later), 0 quiet;
--              resolve: 1 send the resolve message, 0 quiet (it was not firing)
-- Calls        HGET (+ HSET + PEXPIRE when something is sent) = 1-3

local cur = redis.call('HGET', KEYS[15], ARGV[5])
local kind, since, sent
if cur then
  kind, since, sent = string.match(cur, '^(%a+)|(%d+)|?(%d*)')
end
local function put(v)
  redis.call('HSET', KEYS[15], ARGV[5], v)
  redis.call('PEXPIRE', KEYS[15], 30 * 86400000)
end
if ARGV[6] == 'fire' then
  if kind == 'firing' then
    if tonumber(sent) + tonumber(ARGV[7]) > NOW then return 0 end
    put('firing|' .. since .. '|' .. ARGV[1])
    return 2
  end
  put('firing|' .. ARGV[1] .. '|' .. ARGV[1])
  return 1
end
if kind == 'firing' then
  put('ok|' .. ARGV[1])
  return 1
end
return 0
