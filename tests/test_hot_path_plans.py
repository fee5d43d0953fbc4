"""Every statement on the hot paths reads booking.reservations and booking.units (what reservations
occupy) through its intended index, whatever the statistics say and however small the table was
when the session planned it.

The scenario is a fresh deployment: statistics are taken while there are no live holds (on an
empty table, or with another location's bookings only), one session (a gateway connection) serves
a few requests of every kind while the table is nearly empty, so its functions keep plans made
then, and afterwards 5,000 live holds arrive at one location. The same session then serves each
kind of request once more, and the plans it actually runs (auto_explain, nested statements
included) must use the intended index: a plan that reads every live hold of the location makes
each hold cost more as the location gets busier.
"""

from __future__ import annotations

import json
import secrets
import time as clock
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import count
from typing import Any

import psycopg
import pytest
from psycopg import sql

from gateway.cli.migrate import migrate
from testkit.catalogue import Catalogue, seed_catalogue
from tests.support.database import server_url, with_dbname
from tests.support.plans import Scan, captured_scans, load_auto_explain

LIVE_HOLDS = 5_000
WARM_ROUNDS = 6  # PL/pgSQL plans a statement afresh 5 times, then may keep one plan for the session
WARM_DAY = date(2031, 3, 3)
HOLD_DAYS = [date(2031, 3, 4) + timedelta(days=n) for n in range(4)]
CHECK_DAY = date(2031, 3, 10)
OPENS, CLOSES = time(6), time(22)
STEP = timedelta(minutes=15)
RESOURCES = 20

# Each statement that reads booking.reservations or booking.units on a hot path, recognised by a
# phrase of its text, and the indexes it may read them through.
LEDGER = ("reservations", "units")
BY_ID = {"reservations_pkey", "reservations_id"}
UNITS_BY_TIME = {"units_no_overlap"}
INTENDED: dict[str, tuple[str, set[str]]] = {
    "lazy expiry of lapsed holds": ("expires_at <= now()", UNITS_BY_TIME | BY_ID),
    "live-hold cap count": ("count(*)", {"reservations_customer_held"}),
    "busy time of a resource": ("range_agg(", UNITS_BY_TIME),
    "who blocks a slot": ("bool_or(", UNITS_BY_TIME | BY_ID),
    "a reservation by id": ("r.id = p_", BY_ID | {"units_pkey"}),
    "an update by primary key": ("r.id = v_row.id", BY_ID),
    "its units kept in step": ("u.reservation_id = new.id", {"units_pkey"}),
    "the units of a reservation that moves": ("u.reservation_id = p_row.id", {"units_pkey"}),
}
# The outbox's triggers run at commit; the one that reads reservations (for a VERSION_CONFLICT,
# whose day is the booking's):
OUTBOX: dict[str, tuple[str, set[str]]] = {
    "the booking named by a version conflict's event": (
        "r.id = new.holder_reservation_id",
        BY_ID,
    ),
}
MUST_SEE = set(INTENDED)


def statement_of(scan: Scan, statements: dict[str, tuple[str, set[str]]] = INTENDED) -> str | None:
    return next((name for name, (phrase, _) in statements.items() if phrase in scan.query), None)


@dataclass
class Salon:
    """Location A of the scenario and a counter of free slots, so no two requests collide."""

    conn: psycopg.Connection[Any]
    url: str
    cat: Catalogue
    day: date = WARM_DAY
    slots: Iterator[int] = field(default_factory=count)
    subjects: Iterator[int] = field(default_factory=count)

    def fresh_slot(self) -> tuple[uuid.UUID, datetime]:
        n = next(self.slots)
        per_day = int((CLOSES.hour - OPENS.hour) * timedelta(hours=1) / STEP)
        resource = self.cat.resource_ids[n // per_day % RESOURCES]
        start = self.cat.start(self.day, OPENS) + (n % per_day) * STEP
        return resource, start

    def subject(self) -> str:
        return f"plan-{next(self.subjects)}"

    def call(self, statement: str, *args: object) -> dict[str, Any]:
        row = self.conn.execute(statement, args).fetchone()
        assert row is not None
        value = row[0]
        result: dict[str, Any] = value if isinstance(value, dict) else json.loads(value)
        return result

    def hold(self, resource: uuid.UUID, start: datetime, subject: str) -> dict[str, Any]:
        return self.call(
            "select api.create_hold_atomic(null, %s, %s, %s, null, null, 'sess', %s)",
            subject,
            self.cat.service_id,
            start,
            resource,
        )

    def book(self, resource: uuid.UUID, start: datetime) -> dict[str, Any]:
        return self.call(
            "select api.create_booking_atomic(%s, %s, %s, '{}'::jsonb, %s)",
            self.cat.service_id,
            start,
            self.subject(),
            resource,
        )

    # the requests a gateway serves, one each

    def winning_hold(self) -> None:
        assert self.hold(*self.fresh_slot(), self.subject())["success"]

    def losing_hold(self) -> None:
        resource, start = self.fresh_slot()
        assert self.hold(resource, start, self.subject())["success"]
        assert not self.hold(resource, start, self.subject())["success"]

    def hold_over_a_lapsed_hold(self) -> None:
        resource, start = self.fresh_slot()
        lapsed = self.hold(resource, start, self.subject())
        with psycopg.connect(self.url, autocommit=True) as other:  # not this session's plans
            other.execute(
                "update booking.reservations set expires_at = now() - interval '1 minute'"
                " where id = %s",
                (lapsed["hold_id"],),
            )
        assert self.hold(resource, start, self.subject())["success"]

    def booking(self) -> None:
        assert self.book(*self.fresh_slot())["success"]

    def convert(self) -> None:
        hold = self.hold(*self.fresh_slot(), self.subject())
        converted = self.call(
            "select api.convert_hold_to_booking(%s, 'sess', '{}'::jsonb)", hold["hold_id"]
        )
        assert converted["status"] == "confirmed"

    def release(self) -> None:
        hold = self.hold(*self.fresh_slot(), self.subject())
        assert self.call("select api.release_hold(%s, 'sess')", hold["hold_id"])["success"]

    def cancel(self) -> None:
        booked = self.book(*self.fresh_slot())
        cancelled = self.call("select api.cancel_booking(%s)", booked["booking_id"])
        assert cancelled["status"] == "cancelled"

    def stale_cancel(self) -> None:
        booked = self.book(*self.fresh_slot())
        refused = self.call("select api.cancel_booking(%s, null, 99)", booked["booking_id"])
        assert refused["conflict_type"] == "VERSION_CONFLICT"  # its event reads the booking

    def reschedule(self) -> None:
        booked = self.book(*self.fresh_slot())
        _, later = self.fresh_slot()
        moved = self.call("select api.reschedule_booking(%s, %s)", booked["booking_id"], later)
        assert moved["success"], moved

    def availability(self) -> None:
        self.conn.execute(
            "select count(*) from api.get_availability(%s, %s, 1)", (self.cat.service_id, self.day)
        )

    def every_request(self) -> list[Callable[[], None]]:
        return [
            self.winning_hold,
            self.losing_hold,
            self.hold_over_a_lapsed_hold,
            self.booking,
            self.convert,
            self.release,
            self.cancel,
            self.stale_cancel,
            self.reschedule,
            self.availability,
        ]


@pytest.fixture(scope="module")
def template() -> Iterator[str]:
    """A migrated database with two locations and no reservations, copied for each scenario."""
    name = f"booking_plans_{secrets.token_hex(4)}"
    admin = server_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    try:
        url = with_dbname(admin, name)
        migrate(url)
        with psycopg.connect(url) as conn:
            seed_catalogue(conn, name="A", resources=RESOURCES, duration=STEP, slot_step=STEP,
                           opens=OPENS, closes=CLOSES, max_live_holds_per_customer=100)  # fmt: skip
            seed_catalogue(conn, name="B", resources=8)
            # the scenario's statistics are the ones it takes, not autovacuum's
            for table in ("reservations", "customers"):
                conn.execute(f"alter table booking.{table} set (autovacuum_enabled = off)")
            conn.commit()
        with psycopg.connect(admin, autocommit=True) as conn:  # nobody, autovacuum included,
            conn.execute(  # may be connected to a template while it is copied
                sql.SQL("alter database {} allow_connections false").format(sql.Identifier(name))
            )
        yield name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


@contextmanager
def scenario_database(template: str) -> Iterator[str]:
    """A copy of the template for one scenario, dropped afterwards."""
    name = f"{template}_{secrets.token_hex(3)}"
    admin = server_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        for attempt in range(50):  # an autovacuum worker may still be finishing on the template
            try:
                conn.execute(
                    sql.SQL("create database {} template {}").format(
                        sql.Identifier(name), sql.Identifier(template)
                    )
                )
                break
            except psycopg.errors.ObjectInUse:
                if attempt == 49:
                    raise
                clock.sleep(0.2)
    try:
        yield with_dbname(admin, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


def catalogue(conn: psycopg.Connection[Any], name: str) -> Catalogue:
    row = conn.execute(
        "select l.id, s.id, array_agg(sr.resource_id order by sr.preference)"
        " from booking.locations l join booking.services s on s.location_id = l.id"
        " join booking.service_resources sr on sr.service_id = s.id where l.name = %s"
        " group by l.id, s.id",
        (name,),
    ).fetchone()
    assert row is not None
    return Catalogue(row[0], row[1], tuple(row[2]), STEP, STEP)


def take_statistics_with_bookings_elsewhere(conn: psycopg.Connection[Any]) -> None:
    other = catalogue(conn, "B")
    for n in range(12):
        conn.execute(
            "select api.create_booking_atomic(%s, %s, %s, '{}'::jsonb, %s)",
            (other.service_id, other.start(WARM_DAY, time(9 + n % 7)), f"elsewhere-{n}",
             other.resource_ids[n % 8]),
        )  # fmt: skip
    conn.execute("analyze")


def take_statistics_on_an_empty_table(conn: psycopg.Connection[Any]) -> None:
    conn.execute("analyze")


def add_live_holds(url: str, location: Catalogue) -> None:
    """5,000 live holds of 5,000 new customers at one location, from another connection (as
    other gateways would)."""
    with psycopg.connect(url) as conn:
        conn.execute(
            "insert into booking.customers (subject)"
            " select 'crowd-' || n from generate_series(1, %s) n",
            (LIVE_HOLDS,),
        )
        conn.execute(
            """
            insert into booking.reservations (location_id, resource_id, service_id, customer_id,
                                              starts_at, ends_at, occupied, status, expires_at,
                                              session_id)
            select %(l)s, r.id, %(s)s, c.id, t.start, t.start + %(step)s,
                   tstzrange(t.start, t.start + %(step)s), 'held', now() + interval '1 hour',
                   'crowd'
            from unnest(%(resources)s::uuid[]) with ordinality r(id, rn)
            cross join unnest(%(days)s::date[]) d(day)
            cross join lateral generate_series(
                (d.day + %(opens)s::time) at time zone %(zone)s,
                (d.day + %(closes)s::time) at time zone %(zone)s - %(step)s, %(step)s) t(start)
            join lateral (select c.id from booking.customers c
                          where c.subject = 'crowd-' || (r.rn * 1000 + extract(epoch from t.start)
                                                         / 900)::bigint %% %(holds)s + 1) c on true
            limit %(holds)s
            """,
            {
                "l": location.location_id,
                "s": location.service_id,
                "step": STEP,
                "resources": list(location.resource_ids),
                "days": HOLD_DAYS,
                "opens": OPENS,
                "closes": CLOSES,
                "zone": location.zone,
                "holds": LIVE_HOLDS,
            },
        )
        live = conn.execute(
            "select count(*) from booking.reservations where location_id = %s and status = 'held'"
            " and expires_at > now()",
            (location.location_id,),
        ).fetchone()
        assert live is not None and live[0] >= LIVE_HOLDS


REGIMES = {
    "statistics_of_an_empty_table": take_statistics_on_an_empty_table,
    "statistics_of_another_locations_bookings": take_statistics_with_bookings_elsewhere,
}


@pytest.fixture(scope="module", params=list(REGIMES))
def kept_plans(request: pytest.FixtureRequest, template: str) -> Iterator[list[Scan]]:
    """The scans one session runs for every kind of request after 5,000 live holds arrived,
    having planned while the table was nearly empty and the statistics said no holds were live."""
    with scenario_database(template) as url, psycopg.connect(url, autocommit=True) as conn:
        REGIMES[request.param](conn)
        salon = Salon(conn, url, catalogue(conn, "A"))
        load_auto_explain(conn)
        for _ in range(WARM_ROUNDS):  # the table is nearly empty: the session plans now
            for serve in salon.every_request():
                serve()

        add_live_holds(url, salon.cat)

        salon.day = CHECK_DAY
        with captured_scans(conn) as scans:
            for serve in salon.every_request():
                serve()
        yield scans


def misplanned(scans: list[Scan], statements: dict[str, tuple[str, set[str]]]) -> list[str]:
    """Each scan of a listed statement that reads another index than its own, or the whole table."""
    wrong = []
    for scan in (s for s in scans if s.table in LEDGER):
        statement = statement_of(scan, statements)
        if statement is not None and scan.index not in statements[statement][1]:
            wrong.append(f"{statement}: {scan.node} on {scan.index or 'the whole table'}")
    return wrong


def test_hot_statements_read_reservations_through_their_intended_index(
    kept_plans: list[Scan],
) -> None:
    unknown = [
        s.query
        for s in kept_plans
        if s.table in LEDGER and statement_of(s) is None and statement_of(s, OUTBOX) is None
    ]
    assert unknown == [], "statements this test does not know read reservations or units"
    assert misplanned(kept_plans, INTENDED) == []
    seen = {statement_of(s) for s in kept_plans if s.table in LEDGER}
    assert seen >= MUST_SEE, f"not exercised: {MUST_SEE - seen}"


def test_customers_are_found_by_subject_not_scanned(kept_plans: list[Scan]) -> None:
    assert [s.query for s in kept_plans if s.table == "customers" and s.index is None] == []


def test_outbox_trigger_reads_the_holder_by_key(kept_plans: list[Scan]) -> None:
    assert misplanned(kept_plans, OUTBOX) == []
    assert any(statement_of(s, OUTBOX) for s in kept_plans), "no conflict event was written"
