-- Fold ballots that the database has and Redis lost back into a poll's live state.
-- After a Redis restart that lost its last acks (AOF everysec), the database can hold
-- ballots newer than anything Redis remembers; without this those voters could vote
-- again. Only rows whose seq is above Redis' seq are passed in, so each one is newer
-- than Redis' view of that voter and wins. Then seq jumps past them, so it never
-- goes backwards for a client that saw the lost acks. Idempotent.
-- KEYS: 1 voters, 2 counts, 3 seq
-- ARGV: 1 new seq floor, then pairs: user id, ballot
-- Returns the number of voters whose ballot changed.
local changed = 0
for i = 2, #ARGV, 2 do
  local uid, ballot = ARGV[i], ARGV[i + 1]
  local prev = redis.call('HGET', KEYS[1], uid)
  if prev ~= ballot then
    if prev then
      for id in string.gmatch(prev, '[^,]+') do redis.call('HINCRBY', KEYS[2], id, -1) end
    end
    redis.call('HSET', KEYS[1], uid, ballot)
    for id in string.gmatch(ballot, '[^,]+') do redis.call('HINCRBY', KEYS[2], id, 1) end
    changed = changed + 1
  end
end
local floor = tonumber(ARGV[1])
if tonumber(redis.call('GET', KEYS[3]) or '0') < floor then
  redis.call('SET', KEYS[3], floor)
end
return changed
