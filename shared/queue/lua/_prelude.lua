-- Shared prelude, prepended to every operation script by src/scripts.rs (it is not a script of
-- its own). It fixes the KEYS and ARGV layout that every operation shares:
--
-- KEYS[1]  {q:Q}:jobs            HASH  jobId -> job record JSON
-- KEYS[2]  {q:Q}:ready:urgent    ZSET  jobId, score = slot * 2^20 + seq % 2^20
-- KEYS[3]  {q:Q}:ready:normal    ZSET
-- KEYS[4]  {q:Q}:ready:batch     ZSET
-- KEYS[5]  {q:Q}:fair            HASH  "<prio>:<clientId>" -> client's last slot, "<prio>:floor",
--                                      "seq" -> enqueue counter
-- KEYS[6]  {q:Q}:delayed         ZSET  score = due ms
-- KEYS[7]  {q:Q}:active          ZSET  score = lease expiry ms
-- KEYS[8]  {q:Q}:completed       ZSET  score = finished ms
-- KEYS[9]  {q:Q}:failed          ZSET
-- KEYS[10] {q:Q}:cancelled       ZSET
-- KEYS[11] {q:Q}:meta            HASH  paused, rateSec, rateCount
-- KEYS[12] {q:Q}:events          STREAM
-- KEYS[13] {q:Q}:wake            LIST
-- KEYS[14] job-status:{q:Q}:     status-key PREFIX; a job's status key is KEYS[14] .. jobId
--
-- ARGV[1] now (ms), ARGV[2] events MAXLEN (~), ARGV[3] status TTL (s) of finished jobs,
-- ARGV[4] status TTL (s) of live jobs (queued/delayed/active). Operation arguments follow.
--
-- Record fields progress, result and payload hold JSON *text*, never decoded here, so cjson's
-- number formatting and empty-array handling cannot alter them; status documents splice the
-- text in as real JSON values.

local NOW = tonumber(ARGV[1])
local READY = { urgent = KEYS[2], normal = KEYS[3], batch = KEYS[4] }
local PRIOS = { 'urgent', 'normal', 'batch' }
local STATUS_NAME = {
  waiting = 'queued', delayed = 'delayed', active = 'active',
  completed = 'completed', failed = 'failed', cancelled = 'cancelled',
}
local FINISHED = { completed = KEYS[8], failed = KEYS[9], cancelled = KEYS[10] }

-- Integers as exact decimal text (redis.call would format Lua numbers with %.14g).
local function fmt(n) return string.format('%.0f', n) end

local function is_null(v) return v == nil or v == cjson.null end

-- Decoded records of this call, by id, so a job touched twice is read and written once.
local cache = {}
local touched, touched_set = {}, {}

local function load_many(ids)
  local missing = {}
  for _, id in ipairs(ids) do
    if cache[id] == nil then missing[#missing + 1] = id end
  end
  if #missing > 0 then
    local recs = redis.call('HMGET', KEYS[1], unpack(missing))
    for i, id in ipairs(missing) do
      cache[id] = recs[i] and cjson.decode(recs[i]) or false
    end
  end
  local out = {}
  for i, id in ipairs(ids) do out[i] = cache[id] end
  return out
end

local function load(id) return load_many({ id })[1] end

-- Marks a job changed: its record and status are written once, by flush().
local function touch(job)
  job.updatedAt = NOW
  cache[job.id] = job
  if not touched_set[job.id] then
    touched_set[job.id] = true
    touched[#touched + 1] = job.id
  end
end

local function owned(job, token)
  return job and job.state == 'active' and job.leaseToken == token
end

local function score(job) return fmt(job.slot * 1048576 + (job.seq % 1048576)) end

-- Fair-slot bookkeeping, cached for the call: read with one HMGET per batch of fields not yet
-- seen, written with one HSET (and one HDEL) by flush(). Field "seq" is the enqueue counter.
local fair, fair_dirty = {}, {}
local function fair_load(fields)
  local missing = {}
  for _, f in ipairs(fields) do
    if fair[f] == nil then missing[#missing + 1] = f end
  end
  if #missing > 0 then
    local vals = redis.call('HMGET', KEYS[5], unpack(missing))
    for i, f in ipairs(missing) do fair[f] = tonumber(vals[i]) or false end
  end
end
local function fair_get(field)
  fair_load({ field })
  return fair[field] or 0
end
local function fair_set(field, v) fair[field] = v; fair_dirty[field] = true end

-- Gives a job entering ready for the first time its slot, max(client's last, floor) + 1, and
-- the next enqueue sequence number (the tie-break between clients within a slot).
local function assign_slot(job)
  local client = job.priority .. ':' .. job.clientId
  local floor = job.priority .. ':floor'
  fair_load({ client, floor, 'seq' })
  local slot = math.max(fair[client] or 0, fair[floor] or 0) + 1
  local seq = (fair.seq or 0) + 1
  fair_set(client, slot)
  fair_set('seq', seq)
  job.slot = slot
  job.seq = seq
end

-- Records that a job was claimed: raises the floor, forgets a client whose last job this was.
local function fair_claimed(job)
  local client = job.priority .. ':' .. job.clientId
  local floor = job.priority .. ':floor'
  fair_load({ client, floor })
  if job.slot > (fair[floor] or 0) then fair_set(floor, job.slot) end
  if fair[client] == job.slot then fair_set(client, false) end
end

-- Batched sorted-set writes: one ZADD / ZREM per key.
local zadds, zrems = {}, {}
local function zadd(key, sc, id)
  local t = zadds[key] or {}
  zadds[key] = t
  t[#t + 1] = sc
  t[#t + 1] = id
end
local function zrem(key, id)
  local t = zrems[key] or {}
  zrems[key] = t
  t[#t + 1] = id
end
local function flush_zsets()
  for key, ids in pairs(zrems) do redis.call('ZREM', key, unpack(ids)) end
  for key, args in pairs(zadds) do redis.call('ZADD', key, unpack(args)) end
  zadds, zrems = {}, {}
end

local events = {}
local function event(id, to) events[#events + 1] = { id = id, to = to } end

local function status_doc(job)
  local base = cjson.encode({
    jobId = job.id, clientId = job.clientId, type = job.type, status = STATUS_NAME[job.state],
    error = job.error, attempts = job.attemptsMade, createdAt = job.createdAt,
    updatedAt = job.updatedAt,
  })
  local progress = is_null(job.progress) and 'null' or job.progress
  local result = is_null(job.result) and 'null' or job.result
  return string.sub(base, 1, -2) .. ',"progress":' .. progress .. ',"result":' .. result .. '}'
end

-- Writes every touched record (one HSET), every touched status (one SET each), the fair hash,
-- the pending sorted-set changes and one event entry for the whole call.
local function flush(event_name)
  flush_zsets()
  if #touched > 0 then
    local args = {}
    for _, id in ipairs(touched) do
      local job = cache[id]
      args[#args + 1] = id
      args[#args + 1] = cjson.encode(job)
      local ttl = FINISHED[job.state] and ARGV[3] or ARGV[4]
      redis.call('SET', KEYS[14] .. id, status_doc(job), 'EX', ttl)
    end
    redis.call('HSET', KEYS[1], unpack(args))
  end
  local sets, dels = {}, {}
  for field in pairs(fair_dirty) do
    if fair[field] then
      sets[#sets + 1] = field
      sets[#sets + 1] = fmt(fair[field])
    else
      dels[#dels + 1] = field
    end
  end
  if #sets > 0 then redis.call('HSET', KEYS[5], unpack(sets)) end
  if #dels > 0 then redis.call('HDEL', KEYS[5], unpack(dels)) end
  if #events > 0 then
    redis.call('XADD', KEYS[12], 'MAXLEN', '~', ARGV[2], '*',
      'event', event_name, 'jobs', cjson.encode(events), 'at', ARGV[1])
  end
end

-- Wakes up to n idle workers (at most 16). Workers block on the list only while it is empty,
-- so tokens are pushed only then: a non-empty list means nobody is waiting.
local function wake(n)
  if redis.call('LLEN', KEYS[13]) == 0 then
    local tokens = {}
    for i = 1, math.min(n, 16) do tokens[i] = '1' end
    redis.call('RPUSH', KEYS[13], unpack(tokens))
  end
end

-- Moves a job to a finished state (completed, failed, cancelled).
local function finish(job, state)
  zrem(KEYS[7], job.id)
  zadd(FINISHED[state], ARGV[1], job.id)
  job.state = state
  job.leaseToken = cjson.null
  touch(job)
  event(job.id, state)
end

-- Puts a job back in ready with its original slot, so it is served before later jobs.
local function requeue(job)
  zrem(KEYS[7], job.id)
  zadd(READY[job.priority], score(job), job.id)
  job.state = 'waiting'
  job.leaseToken = cjson.null
  touch(job)
  event(job.id, 'waiting')
end

-- ---------------------------------------------------------------------------------------------
