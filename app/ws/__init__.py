"""The WebSocket tier: `/ws` handshake and loop (routes), client message handling
(messages), one socket's write path (connection), the per-process room hub and its
coalesced broadcast (hub), and cross-process presence (presence)."""
