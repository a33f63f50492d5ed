"""Polls: REST lifecycle (service), request bodies and JSON shapes (schemas), live state
in Redis (state), join codes (codes)."""
