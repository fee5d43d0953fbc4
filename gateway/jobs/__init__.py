"""Background jobs under leases (cleanup, retention)."""
