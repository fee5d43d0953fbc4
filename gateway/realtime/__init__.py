"""Realtime relay: one LISTEN connection per process reads the event log in commit order,
invalidates the availability cache and fans events out to websocket subscribers; a lease-guarded
maintenance job expires holds and prunes the log. Protocol: docs/REALTIME.md."""
