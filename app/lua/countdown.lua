-- Move an open poll's closing instant (POST /polls/{id}/countdown), atomically with
-- respect to votes: from the instant it names vote.lua refuses every ballot.
-- KEYS: 1 meta
-- ARGV: 1 closes_at_ms (computed by the caller from this server's TIME)
-- Returns 'ok', or a code: 'no_state' (the caller rebuilds the state from the
-- database, which holds the new closes_at already), 'poll_not_open' (closed, or its
-- previous closes_at has passed: too late to move it).
local m = redis.call('HMGET', KEYS[1], 'status', 'closes_at_ms')
if not m[1] then return 'no_state' end
if m[1] ~= 'open' then return 'poll_not_open' end
local closes = tonumber(m[2])
if closes and closes > 0 then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) >= closes then
    return 'poll_not_open'
  end
end
redis.call('HSET', KEYS[1], 'closes_at_ms', ARGV[1])
return 'ok'
