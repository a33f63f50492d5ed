-- What members are shown when they join (or a session moves them onto the poll), read
-- atomically: seq, voters, counts and each member's own ballot, all from one instant.
-- KEYS: 1 meta, 2 voters, 3 counts, 4 seq
-- ARGV: 1..n user ids, n+1 the run id of this Redis server process
-- Returns {} when the poll has no state here, {'unverified'} when it was last checked
-- against the database under another server process (see vote.lua), else
-- {seq, total, n, ballot of user 1 or '', ..., ballot of user n or '',
--  option id, count, option id, count, ...}.
local run = redis.call('HMGET', KEYS[1], 'status', 'run')
if not run[1] then return {} end
if run[2] ~= ARGV[#ARGV] then return {'unverified'} end
local n = #ARGV - 1
local out = {
  tonumber(redis.call('GET', KEYS[4]) or '0'),
  redis.call('HLEN', KEYS[2]),
  n,
}
for i = 1, n do out[#out + 1] = redis.call('HGET', KEYS[2], ARGV[i]) or '' end
local flat = redis.call('HGETALL', KEYS[3])
for i = 1, #flat do out[#out + 1] = flat[i] end
return out
