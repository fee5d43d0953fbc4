"""Wall-clock times over HTTP: a start_time without an offset is a time on the clock of the
service's location, read by the database (api.resolve_local_time). Europe/Warsaw skips 02:00-02:59
when it springs forward (2027-03-28) and shows it twice when it falls back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest

from tests.support.rows import first_value

WARSAW = ZoneInfo("Europe/Warsaw")
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class WarsawSalon:
    """Open round the clock every day, a 60-minute service on a 30-minute grid, bookable up to
    2000 days ahead (past the spring-forward day 2031-03-30)."""

    service_id: str


@pytest.fixture(scope="module")
def warsaw(database_url: str) -> Iterator[WarsawSalon]:
    with psycopg.connect(database_url) as conn:
        one = partial(first_value, conn)

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
            " max_advance) values (%s, 'Clock cut', '1 hour', '30 minutes', '0', '2000 days')"
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


SPRING_FORWARD = "2031-03-30"  # Warsaw's clocks go from 02:00 CET to 03:00 CEST


def _on_the_clock(instant: str) -> str:
    """An instant as the wall-clock time in Warsaw, written as answers write it."""
    return datetime.fromisoformat(instant).astimezone(WARSAW).replace(tzinfo=None).isoformat()


def _carries_local_times(item: dict[str, Any]) -> None:
    assert item["time_zone"] == "Europe/Warsaw", item
    assert item["start_local"] == _on_the_clock(item["start_time"]), item
    assert item["end_local"] == _on_the_clock(item["end_time"]), item


def test_answers_carry_the_wall_clock_times_across_the_spring_forward_day(
    gateway_url: str, warsaw: WarsawSalon, mint: Callable[..., str]
) -> None:
    availability = f"{gateway_url}/v1/services/{warsaw.service_id}/availability"
    first = httpx.get(availability, params={"date": SPRING_FORWARD})
    assert first.status_code == 200, first.text
    slots = first.json()["slots"]
    for slot in slots:
        _carries_local_times(slot)
    starts = [slot["start_local"][11:16] for slot in slots]
    assert starts[:5] == ["00:00", "00:30", "01:00", "01:30", "03:00"]  # 02:00-02:59 never happens
    assert len(slots) == 2 * 23 - 1  # a 23-hour day; the last start ends at midnight
    late = slots[3]  # 01:30 CET, an hour later it is 03:30 CEST
    assert (late["start_time"], late["end_local"]) == (
        "2031-03-30T00:30:00+00:00",
        "2031-03-30T03:30:00",
    )
    cached = httpx.get(availability, params={"date": SPRING_FORWARD})
    assert cached.json() == first.json()

    holder = {"Authorization": f"Bearer {mint('spring-holder')}"}
    r = _hold(gateway_url, mint("spring-holder"), warsaw.service_id, f"{SPRING_FORWARD}T01:30")
    assert r.status_code == 201, r.text
    hold = r.json()
    _carries_local_times(hold)
    assert (hold["start_local"], hold["end_local"]) == (
        "2031-03-30T01:30:00",
        "2031-03-30T03:30:00",
    )

    booker = {"Authorization": f"Bearer {mint('spring-booker')}"}
    r = httpx.post(
        gateway_url + "/v1/bookings",
        json={"service_id": warsaw.service_id, "start_time": f"{SPRING_FORWARD}T10:00"},
        headers=booker,
    )
    assert r.status_code == 201, r.text
    booking = r.json()
    _carries_local_times(booking)
    assert booking["start_time"] == "2031-03-30T08:00:00+00:00"  # CEST, two hours ahead of UTC
    assert (booking["start_local"], booking["end_local"]) == (
        "2031-03-30T10:00:00",
        "2031-03-30T11:00:00",
    )

    for who, reservation_id in ((holder, hold["hold_id"]), (booker, booking["booking_id"])):
        read = httpx.get(f"{gateway_url}/v1/bookings/{reservation_id}", headers=who)
        assert read.status_code == 200, read.text
        _carries_local_times(read.json())
        listed = httpx.get(f"{gateway_url}/v1/bookings", headers=who).json()["items"]
        assert [item["start_local"] for item in listed if item["id"] == reservation_id] == [
            read.json()["start_local"]
        ]

    r = _hold(gateway_url, mint("spring-late"), warsaw.service_id, f"{SPRING_FORWARD}T10:00")
    assert r.status_code == 409, r.text
    assert r.json()["time_zone"] == "Europe/Warsaw" and r.json()["alternatives"]
    for alternative in r.json()["alternatives"]:
        _carries_local_times(alternative)

    after = httpx.get(availability, params={"date": SPRING_FORWARD}).json()["slots"]
    for slot in after:
        _carries_local_times(slot)
    free = {slot["start_local"][11:16] for slot in after}
    assert not free & {"01:00", "01:30", "03:00", "09:30", "10:00", "10:30"}  # held and booked
