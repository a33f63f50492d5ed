-- Open a closed poll again, atomically with respect to votes: before this script the
-- vote script refuses every ballot (the poll is closed), after it it takes them, into
-- an outbox stream whose consumer group exists (finalization deleted the stream and
-- its group; XADD would recreate the stream alone). The voters, counts and seq stay:
-- the poll goes on from the ballots it has. Idempotent: an open poll stays open.
-- KEYS: 1 meta, 2 outbox
-- ARGV: 1 the outbox consumer group
-- Returns 'ok', or 'no_state' / 'unverified' (as close.lua: the caller rebuilds or
-- verifies the state and calls again) / 'poll_not_open' (a draft).
local m = redis.call('HMGET', KEYS[1], 'status', 'run')
if not m[1] then return 'no_state' end
if m[2] ~= string.match(redis.call('INFO', 'server'), 'run_id:(%w+)') then
  return 'unverified'
end
if m[1] == 'draft' then return 'poll_not_open' end
-- BUSYGROUP (the stream was never deleted) is fine: pcall keeps it from failing the script.
redis.pcall('XGROUP', 'CREATE', KEYS[2], ARGV[1], '0', 'MKSTREAM')
redis.call('HSET', KEYS[1], 'status', 'open', 'closed_at_ms', '0', 'closes_at_ms', '0')
return 'ok'
