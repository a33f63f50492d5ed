-- What a ballot means, per kind of poll: the one place the counting scripts (vote,
-- verify, recount) learn it. app/scripts.py puts this file in front of each of them,
-- so a kind is defined once here and once in app/kinds/ (its Python half).
--
-- Every kind that takes one ballot per person keeps it the same way: the voters hash
-- holds the ballot string, and the counts hash one field per thing a ballot can mark,
-- which a ballot adds one to (`marks`):
--   single, multiple  ballot "3,5" (sorted option ids)      marks "3", "5"
--   quiz              as multiple (the answer key is not counting's business)
--   rating            ballot "4" (the value, 1..scale)       marks "4"
--   ranking           ballot "5,3,7" (first choice first)    marks "5:1", "3:2", "7:3"
-- meta.options lists what a ballot may name (",3,4,5,", a rating's ",1,2,3,4,5,").

local function kind_marks(kind, ballot)
  local out, n = {}, 0
  for id in string.gmatch(ballot, '[^,]+') do
    n = n + 1
    if kind == 'ranking' then out[n] = id .. ':' .. n else out[n] = id end
  end
  return out
end

-- The count fields a poll has (every one present, zeros included) and how many marks
-- one voter's ballot makes at least and at most.
local function kind_fields(kind, options, max_choices)
  local fields = {}
  for id in string.gmatch(options, '[^,]+') do
    if kind == 'ranking' then
      for pos = 1, max_choices do fields[#fields + 1] = id .. ':' .. pos end
    else
      fields[#fields + 1] = id
    end
  end
  if kind == 'multiple' or kind == 'quiz' then return fields, 1, max_choices end
  if kind == 'ranking' then return fields, max_choices, max_choices end
  return fields, 1, 1
end

-- The canonical ballot for the raw one the caller sent ('o': option ids in the order
-- given, distinct, checked by app/votes.py; 'r': a rating), or nil and an error code.
local function kind_ballot(kind, form, raw, options, max_choices)
  if (kind == 'rating') ~= (form == 'r') then return nil, 'wrong_ballot' end
  local ids, n = {}, 0
  for id in string.gmatch(raw, '[^,]+') do
    if not string.find(options, ',' .. id .. ',', 1, true) then return nil, 'invalid_option' end
    n = n + 1
    ids[n] = id
  end
  if n == 0 then return nil, 'invalid_option' end
  if kind == 'ranking' then
    if n ~= max_choices then return nil, 'wrong_rank_count' end
    return raw
  end
  if kind == 'multiple' or kind == 'quiz' then
    if n > max_choices then return nil, 'too_many_choices' end
  elseif n ~= 1 then
    return nil, 'too_many_choices'
  end
  if n == 1 then return ids[1] end
  table.sort(ids, function(a, b) return tonumber(a) < tonumber(b) end)
  return table.concat(ids, ',')
end

-- The RESULTS message of the poll's counts as they are now (subscribers keep only the
-- latest one per room, so the whole tally goes every time).
local function results_message(counts_key, poll_id, seq, total, tail)
  local flat = redis.call('HGETALL', counts_key)
  local parts = {}
  for i = 1, #flat, 2 do parts[#parts + 1] = '"' .. flat[i] .. '":' .. flat[i + 1] end
  return '{"type":"RESULTS","poll_id":' .. poll_id .. ',"seq":' .. seq .. ',"total":' .. total ..
         ',"counts":{' .. table.concat(parts, ',') .. '}' .. (tail or '') .. '}'
end
