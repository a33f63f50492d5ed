"""Tortoise models: the durable record in MySQL (SQLite for the embedded default).

Redis holds the live state of open polls; these tables are what survives it. The
unique (poll_id, user_id) key on ballots is what makes the write-behind idempotent.
"""

from models.ballots import Ballot
from models.poll_resets import PollReset
from models.poll_sessions import Session
from models.polls import Poll, PollKind, PollOption, PollStatus, ResultsVisibility
from models.sessions import RefreshToken
from models.users import User

MODEL_MODULES = [
    "models.users",
    "models.polls",
    "models.ballots",
    "models.sessions",
    "models.poll_sessions",
    "models.poll_resets",
]

__all__ = [
    "MODEL_MODULES",
    "Ballot",
    "Poll",
    "PollKind",
    "PollOption",
    "PollReset",
    "PollStatus",
    "RefreshToken",
    "ResultsVisibility",
    "Session",
    "User",
]
