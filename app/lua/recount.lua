-- Repair a poll's counts from its voters hash, atomically: afterwards every option's
-- count equals the number of ballots naming it (zeros included) and nothing else is
-- counted. Touches nothing when they already agree; on a repair, publishes the
-- corrected tally (same seq: no ballot changed) so rooms converge.
-- KEYS: 1 meta, 2 voters, 3 counts, 4 seq
-- ARGV: 1 poll id, 2 pub/sub channel
-- Returns the number of count fields fixed, or {'err', 'no_state'}.
local options = redis.call('HGET', KEYS[1], 'options')
if not options then return {'err', 'no_state'} end
local want = {}
for id in string.gmatch(options, '[^,]+') do want[id] = 0 end
local ballots = redis.call('HVALS', KEYS[2])
for i = 1, #ballots do
  for id in string.gmatch(ballots[i], '[^,]+') do want[id] = (want[id] or 0) + 1 end
end

local fixed = 0
local have = redis.call('HGETALL', KEYS[3])
local seen = {}
for i = 1, #have, 2 do
  local id = have[i]
  seen[id] = true
  if want[id] == nil then
    redis.call('HDEL', KEYS[3], id)
    fixed = fixed + 1
  elseif tonumber(have[i + 1]) ~= want[id] then
    redis.call('HSET', KEYS[3], id, want[id])
    fixed = fixed + 1
  end
end
for id, n in pairs(want) do
  if not seen[id] then
    redis.call('HSET', KEYS[3], id, n)
    fixed = fixed + 1
  end
end

if fixed > 0 then
  local flat = redis.call('HGETALL', KEYS[3])
  local parts = {}
  for i = 1, #flat, 2 do parts[#parts + 1] = '"' .. flat[i] .. '":' .. flat[i + 1] end
  local seq = redis.call('GET', KEYS[4]) or '0'
  redis.call('PUBLISH', ARGV[2], '{"type":"RESULTS","poll_id":' .. ARGV[1] .. ',"seq":' .. seq ..
             ',"total":' .. #ballots .. ',"counts":{' .. table.concat(parts, ',') .. '}}')
end
return fixed
