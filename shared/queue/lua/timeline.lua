-- timeline: the events of one job, oldest first, for the dashboard. Read-only.
--
-- The stream has no per-job index: the script reads entries from the job's creation time on
-- (stream ids are ms timestamps, so nothing older can mention the job) and keeps those whose
-- `jobs` list names it. The stream is capped (MAXLEN ~), so an old job's first events may be
-- gone.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (unused here)
-- ARGV[5]      job id
-- ARGV[6]      first stream id to read (the job's createdAt, as '<ms>-0')
-- ARGV[7]      at most this many entries are read (the cost bound)
-- Returns      {{stream id, event, to, at}..., truncated (1 if the read limit was reached)}
-- Calls        XRANGE = 1

local needle = '"' .. ARGV[5] .. '"'
local limit = tonumber(ARGV[7])
local entries = redis.call('XRANGE', KEYS[12], ARGV[6], '+', 'COUNT', limit)
local out = {}
for _, entry in ipairs(entries) do
  local f = entry[2]
  local fields = {}
  for i = 1, #f, 2 do fields[f[i]] = f[i + 1] end
  local jobs = fields.jobs or '[]'
  if string.find(jobs, needle, 1, true) then
    for _, j in ipairs(cjson.decode(jobs)) do
      if j.id == ARGV[5] then
        out[#out + 1] = { entry[1], fields.event or '', j.to or '', fields.at or '0' }
      end
    end
  end
end
return { out, #entries >= limit and 1 or 0 }
