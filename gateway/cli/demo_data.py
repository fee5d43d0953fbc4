"""Demo catalogue: one salon with staff, services and working hours, loaded once."""

from __future__ import annotations

import psycopg

from gateway.paths import DEMO_DATA_FILE


def load_demo_data(database_url: str) -> bool:
    """Load the demo catalogue unless the database already has a location; True if loaded."""
    with psycopg.connect(database_url) as conn, conn.transaction():
        conn.execute("lock table booking.locations in share row exclusive mode")
        if conn.execute("select 1 from booking.locations limit 1").fetchone() is not None:
            return False
        conn.execute(DEMO_DATA_FILE.read_text(encoding="utf-8").encode())
    return True
