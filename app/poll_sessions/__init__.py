"""Sessions (events): one code for a whole talk; the audience follows the presenter.

`service` holds the REST side (no HTTP in it); the rooms that follow a session live
in app/ws/follow.py.
"""
