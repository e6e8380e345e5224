-- Demo counter: increments a key and gives it a TTL, in one round trip.
-- KEYS[1]: the counter key
-- ARGV[1]: TTL in seconds
-- Returns: the counter's new value (integer)
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return n
