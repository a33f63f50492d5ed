"""arq workers: timed closes, write-behind of the vote outbox, reconciliation."""
