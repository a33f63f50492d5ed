-- A worker's committed outbox entries: ack them, then drop every entry no consumer
-- still needs. XDEL of each acked id cost ~3 µs an entry in Redis (it walks the
-- entry's listpack node); trimming below the oldest entry anyone still needs frees
-- whole nodes, ~0.3 µs an entry with the XACK.
-- KEYS: 1 outbox stream
-- ARGV: 1 consumer group, 2.. the entry ids
-- Returns how many entries were acked.
--
-- Below the group's oldest pending entry everything was delivered (delivery follows
-- id order) and is no longer pending, so it is committed; with nothing pending, so is
-- everything up to the last delivered id. Undelivered entries are never touched.
local acked = 0
for i = 2, #ARGV, 1000 do
  acked = acked + redis.call('XACK', KEYS[1], ARGV[1], unpack(ARGV, i, math.min(i + 999, #ARGV)))
end

local oldest = redis.call('XPENDING', KEYS[1], ARGV[1])[2]
if oldest then
  redis.call('XTRIM', KEYS[1], 'MINID', oldest)
  return acked
end
local last
for _, group in ipairs(redis.call('XINFO', 'GROUPS', KEYS[1])) do
  local fields = {}
  for i = 1, #group, 2 do fields[group[i]] = group[i + 1] end
  if fields['name'] == ARGV[1] then last = fields['last-delivered-id'] end
end
if last and last ~= '0-0' then
  redis.call('XTRIM', KEYS[1], 'MINID', last)
  redis.call('XDEL', KEYS[1], last)
end
return acked
