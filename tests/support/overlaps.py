"""The invariant every race test checks afterwards: no two live units (what reservations occupy) of
one seat of a resource overlap, and every unit is in step with its reservation."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

OVERLAPS_SQL = """
    select count(*)
    from booking.units a
    join booking.units b
      on a.location_id = b.location_id and a.resource_id = b.resource_id and a.seat = b.seat
     and (a.reservation_id, a.pool) < (b.reservation_id, b.pool)
     and a.occupied && b.occupied
    where a.status in ('held', 'confirmed') and b.status in ('held', 'confirmed')
      and a.location_id = %(location)s
"""

# units without their reservation, units whose status or expiry is not their reservation's, and
# reservations whose unit count is not the number of their units
OUT_OF_STEP_SQL = """
    select (select count(*) from booking.units u
            left join booking.reservations r
              on r.location_id = u.location_id and r.id = u.reservation_id
            where u.location_id = %(location)s
              and (r.id is null or r.status <> u.status
                   or r.expires_at is distinct from u.expires_at))
         + (select count(*) from booking.reservations r
            where r.location_id = %(location)s
              and r.units <> (select count(*) from booking.units u
                              where u.location_id = r.location_id and u.reservation_id = r.id))
"""


def overlapping_live_pairs(conn: psycopg.Connection[Any], location_id: uuid.UUID) -> int:
    """How many pairs of live (held or confirmed) units of one seat of a resource overlap, plus how
    many units or reservations are out of step with each other: must be 0."""
    total = 0
    for query in (OVERLAPS_SQL, OUT_OF_STEP_SQL):
        row = conn.execute(query, {"location": location_id}).fetchone()
        assert row is not None
        total += int(row[0])
    return total
