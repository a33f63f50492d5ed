-- What a member is shown when it joins, read atomically: seq, voters, counts and
-- the member's own ballot, all from the same instant.
-- KEYS: 1 meta, 2 voters, 3 counts, 4 seq
-- ARGV: 1 user id, 2 the run id of this Redis server process
-- Returns {} when the poll has no state here, {'unverified'} when it was last checked
-- against the database under another server process (see vote.lua), else
-- {seq, total, ballot or '', option id, count, option id, count, ...}.
local run = redis.call('HMGET', KEYS[1], 'status', 'run')
if not run[1] then return {} end
if run[2] ~= ARGV[2] then return {'unverified'} end
local out = {
  tonumber(redis.call('GET', KEYS[4]) or '0'),
  redis.call('HLEN', KEYS[2]),
  redis.call('HGET', KEYS[2], ARGV[1]) or '',
}
local flat = redis.call('HGETALL', KEYS[3])
for i = 1, #flat do out[#out + 1] = flat[i] end
return out
