"""The `booking` command: serve, migrate, demo data, embedded PostgreSQL, SQL reference."""
