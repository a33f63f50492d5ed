-- Delete a finalized poll's (drained, empty) outbox stream, unless the poll was opened
-- again meanwhile (reopen.lua): its new ballots are entering that stream, and deleting
-- it would lose them before any worker wrote them. Atomic, so a reopen comes either
-- before this check (the stream stays) or after the delete (and makes a new stream).
-- KEYS: 1 meta, 2 outbox
-- Returns 1 when the stream was deleted (or the poll has no state here: nothing can
-- vote on it until a rebuild from the database), 0 when the poll is open (or a draft).
local status = redis.call('HGET', KEYS[1], 'status')
if status and status ~= 'closed' then return 0 end
if status then redis.call('DEL', KEYS[2]) end
return 1
