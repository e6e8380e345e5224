-- remove: deletes a job that is not running (operator action): waiting, delayed or finished.
-- An active job is refused (cancel it instead: its worker holds a lease). The record, the set
-- entry, the status key and the idempotency key (if it still maps to this job) are deleted, so
-- a status poll gets 404 and the same idempotency key may enqueue anew.
--
-- A removed waiting job may leave its client's fair-slot field behind; it is harmless (the
-- client's next job still gets a slot after it) and is rewritten by the client's next enqueue.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- KEYS[15]     idempotency-key PREFIX `{q:Q}:idem:`; a job's key is KEYS[15] .. clientId .. ':' ..
--              idempotencyKey (the same prefix rule as the status keys: the queue's hash tag
--              keeps it in the queue's slot)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (see _prelude.lua)
-- ARGV[5]      job id
-- Returns      {outcome, state}: outcome 'removed', 'refused' (active) or 'missing'
-- Calls        HMGET + ZREM + HDEL + DEL + XADD = 5 (+ GET, DEL with an idempotency key)

local job = load(ARGV[5])
if not job then return { 'missing', '' } end
local state = job.state
if state == 'active' then return { 'refused', state } end
local set = FINISHED[state]
if state == 'waiting' then set = READY[job.priority] elseif state == 'delayed' then set = KEYS[6] end
zrem(set, job.id)
redis.call('HDEL', KEYS[1], job.id)
redis.call('DEL', KEYS[14] .. job.id)
if not is_null(job.idempotencyKey) then
  local ik = KEYS[15] .. job.clientId .. ':' .. job.idempotencyKey
  if redis.call('GET', ik) == job.id then redis.call('DEL', ik) end
end
event(job.id, 'removed')
flush('removed')
return { 'removed', state }
