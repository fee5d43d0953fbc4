"""Function files are re-applied by every migrate, and CREATE OR REPLACE with other parameter types
makes a second function beside the first. So a file that changes a function's parameters drops
the former form first: a database migrated before the change keeps none of them."""

from __future__ import annotations

import psycopg

from gateway.cli.migrate import function_files

# The forms that took the attempt's fields one by one (booking.attempt replaced them).
FORMER_FORMS = [
    "booking.take_slot(booking.services, uuid[], uuid, text, timestamptz, timestamptz, timestamptz,"
    " text, text, text, jsonb)",
    "booking.settle_conflict(booking.services, text, text, uuid[], uuid, text, timestamptz,"
    " timestamptz, timestamptz, text, text, text, jsonb, bigint)",
    "booking.record_conflict(booking.services, text, text, text, uuid, uuid, uuid, uuid,"
    " timestamptz, timestamptz, timestamptz, text, text, text, jsonb)",
]
LEFT = """
    select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'booking' and p.proname in ('take_slot', 'settle_conflict', 'record_conflict')
    order by 1
"""


def test_reapplying_the_function_files_drops_the_former_forms(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        try:
            for form in FORMER_FORMS:  # as a database migrated before the change has them
                conn.execute(f"create function {form} returns int language sql as 'select 1'")
            assert len(conn.execute(LEFT).fetchall()) == 6
            for path in function_files():
                conn.execute(path.read_text(encoding="utf-8").encode())
            left = [row[0] for row in conn.execute(LEFT)]
        finally:
            conn.rollback()
    assert left == [
        "booking.record_conflict(booking.services,text,booking.attempt,booking.conflict_report)",
        "booking.settle_conflict(booking.services,text,uuid[],booking.attempt)",
        "booking.take_slot(booking.services,uuid[],booking.attempt)",
    ]
