-- Who is in a room, across processes: a user counts once however many sockets,
-- tabs or processes show them. Entries expire unless their process refreshes them,
-- so a killed process's viewers disappear within the TTL.
-- KEYS: 1 zset "<user id>|<process id>" -> expiry ms, 2 hash user id -> entries
-- ARGV: 1 op (join|leave|refresh), 2 ttl ms, 3 channel, 4 the place as a JSON member
--       ('"poll_id":12' or '"session_id":7'), 5.. members
-- Returns the number of distinct viewers; publishes PRESENCE when it changed.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local before = redis.call('HLEN', KEYS[2])

local function gone(member)
  local uid = string.match(member, '^([^|]+)|')
  if redis.call('HINCRBY', KEYS[2], uid, -1) <= 0 then redis.call('HDEL', KEYS[2], uid) end
end

local stale = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, 1000)
for i = 1, #stale do
  redis.call('ZREM', KEYS[1], stale[i])
  gone(stale[i])
end

local op = ARGV[1]
local expiry = now + tonumber(ARGV[2])
for i = 5, #ARGV do
  local member = ARGV[i]
  if op == 'leave' then
    if redis.call('ZREM', KEYS[1], member) == 1 then gone(member) end
  elseif redis.call('ZADD', KEYS[1], expiry, member) == 1 then
    redis.call('HINCRBY', KEYS[2], string.match(member, '^([^|]+)|'), 1)
  end
end
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) * 2)

local after = redis.call('HLEN', KEYS[2])
if after ~= before then
  redis.call('PUBLISH', ARGV[3], '{"type":"PRESENCE",' .. ARGV[4] .. ',"viewers":' .. after .. '}')
end
return after
