"""Realtime relay: one LISTEN connection per process reads the event log in commit order,
invalidates the availability cache and fans events out to websocket subscribers. Protocol:
docs/REALTIME.md."""
