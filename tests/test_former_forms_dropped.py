"""Function files are re-applied by every migrate, and CREATE OR REPLACE with other parameter types
makes a second function beside the first. So a file that changes a function's parameters drops
the former form first: a database migrated before the change keeps none of them."""

from __future__ import annotations

import psycopg
import pytest

from gateway.cli.migrate import function_files

# The forms that took the attempt's fields one by one (booking.attempt replaced them).
FORMER_FORMS = [
    "booking.take_slot(booking.services, uuid[], uuid, text, timestamptz, timestamptz, timestamptz,"
    " text, text, text, jsonb)",
    "booking.settle_conflict(booking.services, text, text, uuid[], uuid, text, timestamptz,"
    " timestamptz, timestamptz, text, text, text, jsonb, bigint)",
    "booking.record_conflict(booking.services, text, text, text, uuid, uuid, uuid, uuid,"
    " timestamptz, timestamptz, timestamptz, text, text, text, jsonb)",
    # the result builders before they took the location's zone (for start_local, end_local)
    "booking.reservation_result(booking.reservations)",
    "booking.taken_result(booking.reservations)",
    # the forms before p_seats (classes: several seats of one resource)
    "api.create_hold_atomic(text, text, uuid, timestamptz, timestamptz, timestamptz, text, uuid,"
    " bigint)",
    "api.create_booking_atomic(uuid, timestamptz, text, jsonb, uuid, text, bigint)",
    "booking.nearest_free_starts(booking.services, text, timestamptz, uuid, integer, uuid, date,"
    " integer)",
    "booking.alternatives(uuid, text, timestamptz, uuid, integer, uuid)",
]
LEFT = """
    select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname in ('booking', 'api')
      and p.proname in ('take_slot', 'settle_conflict', 'record_conflict',
                        'reservation_result', 'taken_result', 'create_hold_atomic',
                        'create_booking_atomic', 'nearest_free_starts', 'alternatives')
    order by 1
"""


def test_reapplying_the_function_files_drops_the_former_forms(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        try:
            for form in FORMER_FORMS:  # as a database migrated before the change has them
                conn.execute(f"create function {form} returns int language sql as 'select 1'")
            assert len(conn.execute(LEFT).fetchall()) == 18
            for path in function_files():
                conn.execute(path.read_text(encoding="utf-8").encode())
            left = [row[0] for row in conn.execute(LEFT)]
        finally:
            conn.rollback()
    assert left == [
        "api.create_booking_atomic(uuid,timestamp with time zone,text,jsonb,uuid,text,bigint,"
        "integer)",
        "api.create_hold_atomic(text,text,uuid,timestamp with time zone,timestamp with time zone,"
        "timestamp with time zone,text,uuid,bigint,integer)",
        "booking.alternatives(uuid,text,timestamp with time zone,uuid,integer,uuid,integer)",
        "booking.nearest_free_starts(booking.services,text,timestamp with time zone,uuid,integer,"
        "uuid,date,integer,integer)",
        "booking.record_conflict(booking.services,text,booking.attempt,booking.conflict_report)",
        "booking.reservation_result(booking.reservations,text)",
        "booking.settle_conflict(booking.services,text,uuid[],booking.attempt)",
        "booking.take_slot(booking.services,uuid[],booking.attempt)",
        "booking.taken_result(booking.reservations,text)",
    ]


# api.get_availability before time_zone, start_local and end_local, and before seats_left: same
# parameters, another result.
AVAILABILITY = "api.get_availability(uuid, date, integer, uuid)"
FORMER_COLUMNS = {
    "before local times": "slot_id text, start_time timestamptz, end_time timestamptz,"
    " resource_ids uuid[]",
    "before seats_left": "slot_id text, start_time timestamptz, end_time timestamptz,"
    " resource_ids uuid[], time_zone text, start_local timestamp, end_local timestamp",
}


@pytest.mark.parametrize("former_columns", FORMER_COLUMNS.values(), ids=FORMER_COLUMNS.keys())
def test_reapplying_the_function_files_replaces_the_former_availability_result(
    database_url: str, former_columns: str
) -> None:
    result = f"select pg_get_function_result('{AVAILABILITY}'::regprocedure)"
    nulls = ", ".join("null::" + c.rsplit(" ", 1)[1] for c in former_columns.split(", "))
    former_function = f"""
        drop function {AVAILABILITY};
        create function api.get_availability(
          p_service_id uuid, p_date date, p_days integer default 1, p_resource_id uuid default null)
        returns table ({former_columns})
        language sql
        as 'select {nulls} where false'
    """
    with psycopg.connect(database_url) as conn:
        try:
            conn.execute(former_function)
            former = conn.execute(result).fetchone()
            for path in function_files():
                conn.execute(path.read_text(encoding="utf-8").encode())
            now = conn.execute(result).fetchone()
        finally:
            conn.rollback()
    assert former is not None and "seats_left" not in former[0]
    assert now is not None and now[0].endswith(
        "time_zone text, start_local timestamp without time zone,"
        " end_local timestamp without time zone, seats_left integer)"
    )
