-- find_client: one HSCAN page of the jobs hash, keeping the records of one client. Read-only.
--
-- There is no per-client index (enqueue would pay for it on every job), so a lookup by client
-- walks the hash a page at a time: a full search costs O(jobs kept) over as many calls as the
-- caller pages. Retention (trim) bounds the hash.
--
-- KEYS[1..14]  the queue's keys (see _prelude.lua)
-- ARGV[1..4]   now, events MAXLEN, finished/live status TTLs (unused here)
-- ARGV[5]      client id
-- ARGV[6]      HSCAN cursor ('0' to start)
-- ARGV[7]      HSCAN COUNT (records examined per call, roughly)
-- Returns      {next cursor ('0' = done), {record JSON...}}
-- Calls        HSCAN = 1

local client = ARGV[5]
-- cjson escapes '/' and quotes in the stored text, so the plain-text pre-test is only exact for
-- ids without such characters; others are decoded one by one.
local plain = not string.find(client, '[^%w%-_%.:@]')
local page = redis.call('HSCAN', KEYS[1], ARGV[6], 'COUNT', tonumber(ARGV[7]))
local found = {}
local flat = page[2]
for i = 1, #flat, 2 do
  local rec = flat[i + 1]
  -- A cheap plain-text test first; decode only the candidates.
  if not plain or string.find(rec, client, 1, true) then
    local job = cjson.decode(rec)
    if job.clientId == client then found[#found + 1] = rec end
  end
end
return { page[1], found }
