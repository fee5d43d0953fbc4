"""Wall-clock times over HTTP: a start_time without an offset is a time on the clock of the
service's location, read by the database (api.resolve_local_time). Europe/Warsaw skips 02:00-02:59
when it springs forward (2027-03-28) and shows it twice when it falls back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

WARSAW = ZoneInfo("Europe/Warsaw")
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class WarsawSalon:
    """Open round the clock every day, a 60-minute service on a 30-minute grid, bookable up to
    400 days ahead."""

    service_id: str


@pytest.fixture(scope="module")
def warsaw(database_url: str) -> Iterator[WarsawSalon]:
    with psycopg.connect(database_url) as conn:

        def one(sql: str, *args: object) -> str:
            row = conn.execute(sql, args).fetchone()
            assert row is not None
            return str(row[0])

        loc = one(
            "insert into booking.locations (name, time_zone)"
            " values ('Warsaw clock', 'Europe/Warsaw') returning id"
        )
        res = one(
            "insert into booking.resources (location_id, name) values (%s, 'Zegar') returning id",
            loc,
        )
        svc = one(
            "insert into booking.services (location_id, name, duration, slot_step, min_notice,"
            " max_advance) values (%s, 'Clock cut', '1 hour', '30 minutes', '0', '400 days')"
            " returning id",
            loc,
        )
        conn.execute(
            "insert into booking.service_resources (location_id, service_id, resource_id)"
            " values (%s, %s, %s)",
            (loc, svc, res),
        )
        conn.execute(
            "insert into booking.working_hours (location_id, resource_id, weekday, hours)"
            " select %s, %s, d, booking.timerange('00:00', '24:00') from generate_series(1, 7) d",
            (loc, res),
        )
    yield WarsawSalon(svc)


def _hold(base: str, token: str, service_id: str, start: str) -> httpx.Response:
    return httpx.post(
        base + "/v1/holds",
        json={"service_id": service_id, "start_time": start},
        headers={"Authorization": f"Bearer {token}"},
    )


def _next_fall_back() -> date:
    """The next day Warsaw's clocks go back (its UTC offset shrinks), at least a day ahead."""
    day = datetime.now(UTC).date() + timedelta(days=1)
    while True:
        before = datetime.combine(day, time(0, 30), WARSAW).utcoffset()
        after = datetime.combine(day, time(23, 30), WARSAW).utcoffset()
        assert before is not None and after is not None
        if after < before:
            return day
        day += timedelta(days=1)


def test_a_hold_at_a_wall_time_the_clocks_skip_is_422_off_grid(
    gateway_url: str, warsaw: WarsawSalon, mint: Callable[..., str]
) -> None:
    r = _hold(gateway_url, mint("gap-hunter"), warsaw.service_id, "2027-03-28T02:30")
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["code"] == "BK013" and problem["type"].endswith("/off-grid")


def test_a_wall_time_is_read_on_the_clock_of_the_services_location(
    gateway_url: str, warsaw: WarsawSalon, mint: Callable[..., str]
) -> None:
    day = datetime.now(UTC).date() + timedelta(days=20)
    r = _hold(gateway_url, mint("wall-clock"), warsaw.service_id, f"{day}T10:30")
    assert r.status_code == 201, r.text
    expected = datetime.combine(day, time(10, 30), WARSAW)
    assert datetime.fromisoformat(r.json()["start_time"]) == expected
    assert datetime.fromisoformat(r.json()["end_time"]) == expected + timedelta(hours=1)


def test_a_direct_booking_takes_a_wall_time_too(
    gateway_url: str, warsaw: WarsawSalon, mint: Callable[..., str]
) -> None:
    day = datetime.now(UTC).date() + timedelta(days=21)
    r = httpx.post(
        gateway_url + "/v1/bookings",
        json={"service_id": warsaw.service_id, "start_time": f"{day}T09:00:00"},
        headers={"Authorization": f"Bearer {mint('wall-booker')}"},
    )
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["start_time"]) == datetime.combine(day, time(9), WARSAW)


def test_a_wall_time_shown_twice_means_its_second_occurrence_in_standard_time(
    gateway_url: str, warsaw: WarsawSalon, mint: Callable[..., str]
) -> None:
    day = _next_fall_back()
    r = _hold(gateway_url, mint("fall-back"), warsaw.service_id, f"{day}T02:30")
    assert r.status_code == 201, r.text
    start = datetime.fromisoformat(r.json()["start_time"])
    second = datetime.combine(day, time(2, 30, fold=1), WARSAW)  # the occurrence after the change
    assert second.utcoffset() == timedelta(hours=1)  # CET
    assert start == second.astimezone(UTC)  # (a time in the fold never equals one of another zone)


def test_an_offset_still_names_an_instant_and_an_impossible_date_is_malformed(
    gateway_url: str, warsaw: WarsawSalon, mint: Callable[..., str]
) -> None:
    day = datetime.now(UTC).date() + timedelta(days=22)
    r = _hold(gateway_url, mint("instant"), warsaw.service_id, f"{day}T08:00:00Z")
    assert r.status_code == 201, r.text
    assert datetime.fromisoformat(r.json()["start_time"]) == datetime.combine(day, time(8), UTC)
    r = _hold(gateway_url, mint("instant"), warsaw.service_id, "2027-02-30T10:00")
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "start_time"
