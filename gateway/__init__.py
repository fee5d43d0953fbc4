"""Atomic booking backend: the HTTP and realtime gateway in front of the PostgreSQL engine."""

__version__ = "0.1.0"
