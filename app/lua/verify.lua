-- Check a poll's state against the database under this Redis server process, atomically.
-- A Redis restarted from an older append-only file holds an older state and cannot
-- tell: its own markers rolled back with it. Its run id is new, though, so the vote,
-- close and snapshot scripts refuse the poll ('unverified') while meta.run names
-- another run. This script then makes the state exact again:
-- - every ballot the database holds above Redis' seq goes back in: no seq is ever
--   handed out twice, so each such row is newer than anything Redis remembers of
--   that voter, and wins; rows at or below Redis' seq are already reflected here;
-- - seq moves past every seq ever handed out (ARGV[2]: the database's newest plus a
--   margin for acks that never reached it), so no new ack reuses one, and a later
--   ballot never loses to a replayed one in the seq-guarded upsert;
-- - a close the database knows and Redis lost is put back;
-- - meta.run is stamped with the run id read here, so it can only name a run whose
--   data this script saw.
-- The caller read the rows against Redis' seq ARGV[1]; if seq moved since (another
-- verifier finished, or another restart), nothing is written: read again.
-- A large fold comes in chunks; only the last (ARGV[2] > 0) moves seq and stamps.
-- KEYS: 1 meta, 2 voters, 3 counts, 4 seq
-- ARGV: 1 Redis seq the rows were read against, 2 new seq floor (0: not the last chunk),
--       3 closed_at_ms from the database (0: open there), 4 poll id, 5 pub/sub channel,
--       then pairs: user id, ballot
-- Returns the number of voters whose ballot changed, or {'err', code} with code
-- no_state, verified (already, under this run: nothing done) or moved (read again).
local m = redis.call('HMGET', KEYS[1], 'status', 'run', 'kind')
if not m[1] then return {'err', 'no_state'} end
local run = string.match(redis.call('INFO', 'server'), 'run_id:(%w+)')
if m[2] == run then return {'err', 'verified'} end
if (redis.call('GET', KEYS[4]) or '0') ~= ARGV[1] then return {'err', 'moved'} end

local changed = 0
for i = 6, #ARGV, 2 do
  local uid, ballot = ARGV[i], ARGV[i + 1]
  local prev = redis.call('HGET', KEYS[2], uid)
  if prev ~= ballot then
    if prev then
      for _, f in ipairs(kind_marks(m[3], prev)) do redis.call('HINCRBY', KEYS[3], f, -1) end
    end
    redis.call('HSET', KEYS[2], uid, ballot)
    for _, f in ipairs(kind_marks(m[3], ballot)) do redis.call('HINCRBY', KEYS[3], f, 1) end
    changed = changed + 1
  end
end
if tonumber(ARGV[2]) == 0 then return changed end

local seq = tonumber(ARGV[2])
if tonumber(redis.call('GET', KEYS[4]) or '0') < seq then
  redis.call('SET', KEYS[4], seq)
else
  seq = tonumber(redis.call('GET', KEYS[4]))
end
if ARGV[3] ~= '0' and m[1] ~= 'closed' then
  redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_at_ms', ARGV[3])
end
redis.call('HSET', KEYS[1], 'run', run)

redis.call('PUBLISH', ARGV[5],
           results_message(KEYS[3], ARGV[4], seq, redis.call('HLEN', KEYS[2])))
return changed
