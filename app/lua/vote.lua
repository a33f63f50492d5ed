-- The whole vote, atomically: every check comes before the first write.
-- KEYS: 1 meta, 2 voters, 3 counts, 4 seq, 5 outbox
-- ARGV: 1 user id, 2 is_guest (0/1), 3 the ballot as sent (distinct, comma-separated ids,
--       or a rating), 4 poll id, 5 pub/sub channel, 6 its form ('o' option ids, 'r' a
--       rating), 7 the run id of this Redis server process
-- What the ballot means comes from kinds.lua, put in front of this script.
-- Returns {status, seq} with status accepted|changed|unchanged, or {'err', code}.
-- 'not_found' is someone else's draft (it exists for its owner only).
-- 'no_state' means the poll's Redis state is missing (new process, Redis flushed):
-- the caller rebuilds it from the database and retries.
-- 'unverified' means the state was last checked against the database under another
-- server process (meta.run): this one may have started from an older append-only file
-- and lost acks the database holds. The caller verifies it (verify.lua) and retries.
-- ARGV[7] comes from the caller's connection, not from INFO here: INFO costs ~9 us.
local m = redis.call('HMGET', KEYS[1], 'status', 'kind', 'max_choices', 'allow_change',
                     'require_account', 'closes_at_ms', 'options', 'run', 'owner_id')
if not m[1] then return {'err', 'no_state'} end
if m[8] ~= ARGV[7] then return {'err', 'unverified'} end
if m[1] ~= 'open' then
  -- A draft exists for its owner only (app/polls/service.py check_readable).
  if m[1] == 'draft' and m[9] ~= ARGV[1] then return {'err', 'not_found'} end
  return {'err', 'poll_not_open'}
end
local closes = tonumber(m[6])
if closes and closes > 0 then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) >= closes then
    return {'err', 'poll_not_open'}
  end
end
if m[5] == '1' and ARGV[2] == '1' then return {'err', 'account_required'} end

local ballot, invalid = kind_ballot(m[2], ARGV[6], ARGV[3], m[7], tonumber(m[3]))
if not ballot then return {'err', invalid} end

local prev = redis.call('HGET', KEYS[2], ARGV[1])
if prev == ballot then
  return {'unchanged', tonumber(redis.call('GET', KEYS[4]) or '0')}
end
local status = 'accepted'
if prev then
  if m[4] ~= '1' then return {'err', 'already_voted'} end
  status = 'changed'
end

-- writes
if prev then
  for _, f in ipairs(kind_marks(m[2], prev)) do redis.call('HINCRBY', KEYS[3], f, -1) end
end
redis.call('HSET', KEYS[2], ARGV[1], ballot)
for _, f in ipairs(kind_marks(m[2], ballot)) do redis.call('HINCRBY', KEYS[3], f, 1) end
local seq = redis.call('INCR', KEYS[4])
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('XADD', KEYS[5], '*', 'u', ARGV[1], 'b', ballot, 's', seq, 't', now_ms)

-- `voter` comes last, for the hubs alone: they learn from it that this user has a
-- ballot (after_vote visibility) and cut it off before the frame goes to clients.
redis.call('PUBLISH', ARGV[5], results_message(KEYS[3], ARGV[4], seq, redis.call('HLEN', KEYS[2]),
                                              ',"voter":' .. ARGV[1]))
return {status, seq}
