-- report: record how a leased call went.
--
-- 'ok' on a probe lease closes the half-open state (the key is healthy again). Plain successes
-- are never sent: acquire already counted the call, so they cost nothing.
-- 'cool' (429) sets or EXTENDS the key's cooldown; it never shortens one and never turns a
-- disabled key back into a cooling one (LiteLLM #40130: re-cooling kept the shorter deadline).
-- 'off' disables the key until ARGV[4] (0 = until an operator re-enables it) and appends an
-- event to the pool's capped stream for the monitoring layer.
--
-- KEYS[1]  the pool's state hash, `{keys:<namespace>}:state`
-- KEYS[2]  the pool's event stream, `{keys:<namespace>}:events`
-- ARGV[1]  now, ms
-- ARGV[2]  key id
-- ARGV[3]  'ok' | 'cool' | 'off'
-- ARGV[4]  until, ms ('cool', 'off'; 0 with 'off' = indefinitely)
-- ARGV[5]  reason ('off': 'daily_quota' | 'invalid_key')
-- ARGV[6]  the stream's approximate MAXLEN
-- Returns  {the key's state field after the report ('' = healthy), 1 if this report changed it else 0}
-- Calls    ok: HGET (+ HDEL if probing) = 1-2; cool: HGET + HINCRBY (+ HSET) = 2-3;
--          off: HGET (+ HINCRBY for daily_quota) + HSET + XADD = 3-4 (each plus the EVALSHA)
local field = ARGV[2] .. ':st'
local st = redis.call('HGET', KEYS[1], field)
local kind, t = nil, 0
if st then
  kind, t = string.match(st, '^(%a)|(%d+)')
  t = tonumber(t) or 0
end
local outcome = ARGV[3]
local until_ms = tonumber(ARGV[4])

if outcome == 'ok' then
  if kind == 'p' then
    redis.call('HDEL', KEYS[1], field)
    return { '', 1 }
  end
  return { st or '', 0 }
end

if outcome == 'cool' or ARGV[5] == 'daily_quota' then
  redis.call('HINCRBY', KEYS[1], ARGV[2] .. ':rl', 1)
end
if outcome == 'cool' then
  local stronger = (kind == 'd' and (t == 0 or t >= until_ms)) or (kind == 'c' and t >= until_ms)
  if stronger then return { st, 0 } end
  st = 'c|' .. ARGV[4]
  redis.call('HSET', KEYS[1], field, st)
  return { st, 1 }
end

-- 'off': an indefinite disable is never replaced by a dated one.
if kind == 'd' and t == 0 then return { st, 0 } end
st = 'd|' .. ARGV[4] .. '|' .. ARGV[5]
redis.call('HSET', KEYS[1], field, st)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[6], '*',
  'key', ARGV[2], 'event', 'disabled', 'reason', ARGV[5], 'until', ARGV[4], 'at', ARGV[1])
return { st, 1 }
