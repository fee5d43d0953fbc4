"""The event read bound (booking.event_read_bound): what holds it back and where it refuses to
answer. Each test uses its own connections on the session database."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from tests.support.database import server_url, with_dbname

IN_FLIGHT_BIT = 1 << 62


def bound(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    row = conn.execute("select booking.event_read_bound()").fetchone()
    assert row is not None
    return int(str(row[0]))


def drawn(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    row = conn.execute(
        "select coalesce(pg_sequence_last_value('booking.events_id_seq'), 0)"
    ).fetchone()
    assert row is not None
    return int(str(row[0]))


def test_a_transaction_committing_in_this_database_holds_the_bound_back(
    database_url: str,
) -> None:
    with (
        psycopg.connect(database_url, autocommit=True) as reader,
        psycopg.connect(database_url, autocommit=True) as writer,
    ):
        first_free = drawn(reader) + 1
        writer.execute("select pg_advisory_lock_shared(%s)", (IN_FLIGHT_BIT | first_free,))
        try:
            assert bound(reader) == first_free - 1
        finally:
            writer.execute("select pg_advisory_unlock_shared(%s)", (IN_FLIGHT_BIT | first_free,))


def test_an_in_flight_id_of_another_database_on_the_server_does_not(database_url: str) -> None:
    """Advisory locks are per database: another booking database on the same server (a shard, a
    test run) registering id 1 must not hold this one's readers back."""
    other = f"other_outbox_{uuid.uuid4().hex[:8]}"
    admin = server_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'create database "{other}"')
    try:
        with (
            psycopg.connect(with_dbname(admin, other), autocommit=True) as elsewhere,
            psycopg.connect(database_url, autocommit=True) as reader,
        ):
            reader.execute("select nextval('booking.events_id_seq')")  # an id gap: harmless
            elsewhere.execute("select pg_advisory_lock_shared(%s)", (IN_FLIGHT_BIT | 1,))
            assert bound(reader) == drawn(reader) > 0
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'drop database "{other}" with (force)')


@pytest.mark.parametrize("isolation", ["repeatable read", "serializable"])
def test_reading_events_outside_read_committed_is_refused(
    database_url: str, isolation: str
) -> None:
    """A snapshot older than the bound could miss an event below it: BK014, not a silent gap."""
    with psycopg.connect(database_url) as conn:
        conn.execute(f"set transaction isolation level {isolation}")
        with pytest.raises(psycopg.Error) as refused:
            conn.execute("select * from api.read_events(p_after => 0, p_limit => 10)")
        assert refused.value.sqlstate == "BK014"
