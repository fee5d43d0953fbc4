"""The invariant every race test checks afterwards: no two live reservations of a resource
overlap."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

OVERLAPS_SQL = """
    select count(*)
    from booking.reservations a
    join booking.reservations b
      on a.location_id = b.location_id and a.resource_id = b.resource_id and a.id < b.id
     and a.occupied && b.occupied
    where a.status in ('held', 'confirmed') and b.status in ('held', 'confirmed')
      and a.location_id = %s
"""


def overlapping_live_pairs(conn: psycopg.Connection[Any], location_id: uuid.UUID) -> int:
    """How many pairs of live (held or confirmed) reservations of a resource overlap: must be 0."""
    row = conn.execute(OVERLAPS_SQL, (location_id,)).fetchone()
    assert row is not None
    count: int = row[0]
    return count
