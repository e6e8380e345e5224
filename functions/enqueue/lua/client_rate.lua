-- client_rate: one enqueue attempt against a client's fixed one-minute window.
--
-- The window is part of the key name (built by the caller from its clock), so the script is a
-- counter with an expiry: 2 commands on a window's first request, 1 after (plus the EVALSHA).
-- A fixed window lets a client burst up to twice the limit across a window boundary; that is
-- fine for an abuse guard and costs a third of a sliding log. Refused attempts are counted too,
-- so a client hammering the endpoint stays refused until the window ends.
--
-- KEYS[1]  the client's counter for this window: `rl:enqueue:<queue>:<clientId>:<windowStart>`
-- ARGV[1]  limit: enqueues allowed per window
-- ARGV[2]  key TTL, ms (the window plus slack, so a late script never sees a fresh counter)
-- Returns  {admitted (1/0), count in this window}
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
end
if count > tonumber(ARGV[1]) then
  return {0, count}
end
return {1, count}
