-- Keep a poll's counts true to its voters hash, atomically.
-- vote.lua and fold.lua change both in one step, so they disagree only after a bug or
-- a hand edit. Proving they agree means reading every ballot, which holds Redis about
-- 0.3 us a voter (30 ms for 100,000 voters): too long to do for every poll on every
-- reconcile pass. So each call first makes the checks that cost O(options): exactly the
-- poll's count fields are there (kinds.lua), none below zero, and they add up to as
-- many marks per voter as its kind allows (exactly one in a single-choice poll). Only
-- when one fails, or the last full recount is ARGV[3] ms old or more, are the ballots read and the
-- counts rebuilt from them. A repair publishes the corrected tally (same seq: no ballot
-- changed) so rooms converge.
-- KEYS: 1 meta, 2 voters, 3 counts, 4 seq
-- ARGV: 1 poll id, 2 pub/sub channel, 3 the longest time between full recounts (ms)
-- Returns the number of count fields fixed, or {'err', 'no_state'}.
local m = redis.call('HMGET', KEYS[1], 'options', 'max_choices', 'recounted_ms', 'kind')
local options = m[1]
if not options then return {'err', 'no_state'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)

-- want: count field -> ballots marking it; every field starts at 0.
local fields, lo, hi = kind_fields(m[4], options, tonumber(m[2]))
local want, n_fields = {}, #fields
for _, f in ipairs(fields) do want[f] = 0 end
local have = redis.call('HGETALL', KEYS[3])

local function plausible()
  local last = tonumber(m[3])
  if not last or now - last >= tonumber(ARGV[3]) then return false end
  if #have ~= 2 * n_fields then return false end
  local sum = 0
  for i = 1, #have, 2 do
    local n = tonumber(have[i + 1])
    if not want[have[i]] or not n or n < 0 then return false end
    sum = sum + n
  end
  local voters = redis.call('HLEN', KEYS[2])
  return sum >= voters * lo and sum <= voters * hi
end
if plausible() then return 0 end

local ballots = redis.call('HVALS', KEYS[2])
for i = 1, #ballots do
  for _, f in ipairs(kind_marks(m[4], ballots[i])) do want[f] = (want[f] or 0) + 1 end
end

local fixed = 0
local seen = {}
for i = 1, #have, 2 do
  local id = have[i]
  seen[id] = true
  if want[id] == nil then
    redis.call('HDEL', KEYS[3], id)
    fixed = fixed + 1
  elseif tonumber(have[i + 1]) ~= want[id] then
    redis.call('HSET', KEYS[3], id, want[id])
    fixed = fixed + 1
  end
end
for id, n in pairs(want) do
  if not seen[id] then
    redis.call('HSET', KEYS[3], id, n)
    fixed = fixed + 1
  end
end
redis.call('HSET', KEYS[1], 'recounted_ms', now)

if fixed > 0 then
  local seq = redis.call('GET', KEYS[4]) or '0'
  redis.call('PUBLISH', ARGV[2], results_message(KEYS[3], ARGV[1], seq, #ballots))
end
return fixed
