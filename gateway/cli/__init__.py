"""The `booking` command: serve, migrate, demo data, catalogue files, embedded PostgreSQL, the SQL
reference. `main` is the console script's entry point (commands.py)."""

from gateway.cli.commands import main

__all__ = ["main"]
