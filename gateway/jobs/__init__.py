"""Background jobs, each in one process at a time under a lease: maintenance expires lapsed
holds, removes lapsed leases and idempotency records, and prunes the event log."""
