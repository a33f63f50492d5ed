-- What a member is shown when it joins, read atomically: seq, voters, counts and
-- the member's own ballot, all from the same instant.
-- KEYS: 1 meta, 2 voters, 3 counts, 4 seq
-- ARGV: 1 user id
-- Returns {} when the poll has no state here, else
-- {seq, total, ballot or '', option id, count, option id, count, ...}.
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local out = {
  tonumber(redis.call('GET', KEYS[4]) or '0'),
  redis.call('HLEN', KEYS[2]),
  redis.call('HGET', KEYS[2], ARGV[1]) or '',
}
local flat = redis.call('HGETALL', KEYS[3])
for i = 1, #flat do out[#out + 1] = flat[i] end
return out
