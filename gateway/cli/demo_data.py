"""Demo catalogue: one salon with staff, services and working hours (sql/demo/demo_salon.yaml),
applied as `booking catalogue apply` does, once."""

from __future__ import annotations

import psycopg

from gateway.cli.catalogue.apply import apply_catalogue
from gateway.cli.catalogue.files import read_catalogue
from gateway.paths import DEMO_CATALOGUE_FILE


def load_demo_data(database_url: str) -> bool:
    """Apply the demo catalogue unless the database already has a location; True if applied."""
    catalogue = read_catalogue(DEMO_CATALOGUE_FILE)
    with psycopg.connect(database_url) as conn, conn.transaction():
        # two first starts at once: the second waits here, then finds the first one's location
        conn.execute("lock table booking.locations in share row exclusive mode")
        if conn.execute("select 1 from booking.locations limit 1").fetchone() is not None:
            return False
        apply_catalogue(conn, catalogue)
    return True
