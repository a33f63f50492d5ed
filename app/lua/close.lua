-- Close a poll atomically with respect to votes: after this script runs, vote.lua
-- refuses every ballot, so the tally it returns is final. Idempotent: closing a
-- closed poll returns the same tally and the original close time.
-- KEYS: 1 meta, 2 voters, 3 counts, 4 seq
-- Returns {closed_at_ms, seq, total, flat counts...} or {'err', code}; 'unverified':
-- the state was last checked against the database under another server process (see
-- vote.lua), and a tally frozen from it could miss ballots the database holds.
local m = redis.call('HMGET', KEYS[1], 'status', 'run')
local status = m[1]
if not status then return {'err', 'no_state'} end
if m[2] ~= string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') then
  return {'err', 'unverified'}
end
if status == 'draft' then return {'err', 'poll_not_open'} end
local closed_at = redis.call('HGET', KEYS[1], 'closed_at_ms')
if status ~= 'closed' or not closed_at then
  local t = redis.call('TIME')
  closed_at = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_at_ms', closed_at)
end
local out = {closed_at, redis.call('GET', KEYS[4]) or '0', redis.call('HLEN', KEYS[2])}
local flat = redis.call('HGETALL', KEYS[3])
for i = 1, #flat do out[#out + 1] = flat[i] end
return out
