"""Calendar feeds over HTTP, against the real gateway, read back with `icalendar`: staff make a
secret feed URL for a resource, customers for their own bookings; the feed keeps wall-clock times
across daylight saving, a reschedule bumps SEQUENCE, a cancelled booking shows as cancelled, a
revoked token answers 404, If-None-Match answers 304, and a customer's feed never shows anyone
else's booking."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from icalendar import Calendar

from gateway.client import BookingClient

# Zones whose clocks change at different times of the year: at any date one of them changes
# within the feed's window, so the test always has a change to cross (Warsaw: late March and late
# October; New York: March and November; Sydney: April and October; Santiago: April and September).
ZONES = ("Europe/Warsaw", "America/New_York", "Australia/Sydney", "America/Santiago")


def _next_change(zone: ZoneInfo, today: date) -> date | None:
    """The next day (from the day after tomorrow, within the feed's 180 days) on which the
    zone's clocks change."""
    for n in range(2, 178):
        day = today + timedelta(days=n)
        morning = datetime.combine(day, time(0), zone).utcoffset()
        evening = datetime.combine(day, time(23), zone).utcoffset()
        if morning != evening:
            return day
    return None


def _zone_and_change() -> tuple[ZoneInfo, date]:
    today = datetime.now(UTC).date()
    for key in ZONES:
        change = _next_change(ZoneInfo(key), today)
        if change is not None:
            return ZoneInfo(key), change
    raise AssertionError(f"none of {ZONES} changes its clocks within 178 days of {today}")


ZONE, CHANGE = _zone_and_change()
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Studio:
    """A studio (in ZONE) where Marta (the only stylist) works 00:00-23:00 every day; a 3-hour
    colouring and a 1-hour cut."""

    location_id: str
    marta: str
    colour: str
    cut: str


def _one(conn: psycopg.Connection[Any], sql: str, *args: object) -> str:
    row = conn.execute(sql, args).fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture(scope="module")
def studio(database_url: str) -> Studio:
    with psycopg.connect(database_url) as conn:
        loc = _one(
            conn,
            "insert into booking.locations (name, time_zone) values ('Feed studio', %s)"
            " returning id",
            ZONE.key,
        )
        marta = _one(
            conn,
            "insert into booking.resources (location_id, name) values (%s, 'Marta') returning id",
            loc,
        )
        services = [
            _one(
                conn,
                "insert into booking.services (location_id, name, duration, slot_step,"
                " min_notice, max_advance) values (%s, %s, %s::interval, '1 hour', '0',"
                " '400 days') returning id",
                loc,
                name,
                duration,
            )
            for name, duration in (("Colouring", "3 hours"), ("Cut", "1 hour"))
        ]
        for service in services:
            conn.execute(
                "insert into booking.service_resources (location_id, service_id, resource_id,"
                " preference) values (%s, %s, %s, 1)",
                (loc, service, marta),
            )
        conn.execute(
            "insert into booking.working_hours (location_id, resource_id, weekday, hours)"
            " select %s, %s, d, booking.timerange('00:00', '23:00') from generate_series(1, 7) d",
            (loc, marta),
        )
        for subject, name in (("feed-ann", "Ann Nowak"), ("feed-ben", "Ben Kowalski")):
            conn.execute(
                "insert into booking.customers (subject, display_name, email, phone)"
                " values (%s, %s, %s, '+48 600 100 200')",
                (subject, name, f"{subject}@example.com"),
            )
    return Studio(loc, marta, *services)


def _local(day: date, hour: int) -> datetime:
    return datetime.combine(day, time(hour), ZONE)


def _events(body: bytes) -> dict[str, Any]:
    calendar = Calendar.from_ical(body)
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


async def _book(c: BookingClient, service: str, start: datetime) -> dict[str, Any]:
    r = await c.create_booking(service, start)
    assert r.status_code == 201, r.text
    booking: dict[str, Any] = r.json()
    return booking


async def test_a_staff_feed_keeps_wall_times_across_dst_and_follows_changes(
    gateway_url: str, studio: Studio, mint: Callable[..., str]
) -> None:
    change = CHANGE
    async with (
        BookingClient(
            gateway_url, mint("feed-stan", "staff", locations=[studio.location_id])
        ) as staff,
        BookingClient(gateway_url, mint("feed-ann")) as ann,
        BookingClient(gateway_url) as calendar_app,
    ):
        made = await staff.request("POST", f"/v1/resources/{studio.marta}/feed-tokens")
        assert made.status_code == 201, made.text
        token = made.json()
        assert token["kind"] == "resource" and token["resource_id"] == studio.marta
        assert made.headers["location"] == token["path"] == f"/v1/feeds/{token['token']}.ics"
        assert made.headers["cache-control"] == "no-store"

        # a colouring over the night the clocks change, and cuts the day before and after
        across = await _book(ann, studio.colour, _local(change, 1))
        before = await _book(ann, studio.cut, _local(change - timedelta(days=1), 10))
        after = await _book(ann, studio.cut, _local(change + timedelta(days=1), 10))
        hold = await ann.create_hold(studio.cut, _local(change + timedelta(days=2), 10))
        assert hold.status_code == 201, hold.text

        r = await calendar_app.request("GET", token["path"])
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("text/calendar")
        assert r.headers["cache-control"] == "private, max-age=300"
        calendar = Calendar.from_ical(r.content)
        assert [str(z["TZID"]) for z in calendar.walk("VTIMEZONE")] == [ZONE.key]
        events = _events(r.content)
        assert set(events) == {f"{b['booking_id']}@booking" for b in (across, before, after)}

        for booking, hour in ((before, 10), (after, 10)):
            event = events[f"{booking['booking_id']}@booking"]
            start = event.decoded("DTSTART")
            assert event["DTSTART"].params["TZID"] == ZONE.key
            assert start.replace(tzinfo=None).time() == time(hour)  # the same wall time ...
        offsets = {
            events[f"{b['booking_id']}@booking"].decoded("DTSTART").utcoffset()
            for b in (before, after)
        }
        assert len(offsets) == 2  # ... under two different offsets
        night = events[f"{across['booking_id']}@booking"]
        assert night.decoded("DTSTART") == datetime.fromisoformat(across["start_time"])
        assert night.decoded("DTEND") == datetime.fromisoformat(across["end_time"])
        assert night.decoded("DTSTART").replace(tzinfo=None).time() == time(1)
        # three real hours, whatever the wall clock says
        span = night.decoded("DTEND").astimezone(UTC) - night.decoded("DTSTART").astimezone(UTC)
        assert span == timedelta(hours=3)
        assert night.decoded("DTEND").replace(tzinfo=None).time() == (
            datetime.fromisoformat(across["end_time"]).astimezone(ZONE).time()
        )
        assert str(night["SUMMARY"]) == "Colouring" and str(night["STATUS"]) == "CONFIRMED"
        assert "Customer: Ann Nowak" in str(night["DESCRIPTION"])
        assert b"example.com" not in r.content and b"600 100" not in r.content
        assert b"feed-ann" not in r.content

        # nothing changed: 304 with the same tag
        etag = r.headers["etag"]
        same = await calendar_app.request("GET", token["path"], headers={"If-None-Match": etag})
        assert same.status_code == 304 and same.headers["etag"] == etag

        # a reschedule bumps SEQUENCE and the tag
        sequence = int(events[f"{after['booking_id']}@booking"]["SEQUENCE"])
        moved = await ann.reschedule_booking(
            after["booking_id"], _local(change + timedelta(days=1), 14)
        )
        assert moved.status_code == 200, moved.text
        r = await calendar_app.request("GET", token["path"], headers={"If-None-Match": etag})
        assert r.status_code == 200 and r.headers["etag"] != etag
        event = _events(r.content)[f"{after['booking_id']}@booking"]
        assert int(event["SEQUENCE"]) > sequence
        assert event.decoded("DTSTART").replace(tzinfo=None).time() == time(14)

        # a cancelled booking stays, as cancelled
        assert (await ann.cancel_booking(before["booking_id"])).status_code == 200
        r = await calendar_app.request("GET", token["path"])
        assert str(_events(r.content)[f"{before['booking_id']}@booking"]["STATUS"]) == "CANCELLED"

        # revoked (found by listing): the URL answers 404
        listed = await staff.request("GET", f"/v1/resources/{studio.marta}/feed-tokens")
        assert listed.status_code == 200, listed.text
        assert [t["token_id"] for t in listed.json()["items"]] == [token["token_id"]]
        assert token["token"] not in listed.text
        revoked = await staff.request("DELETE", f"/v1/feed-tokens/{token['token_id']}")
        assert revoked.status_code == 200 and revoked.json()["revoked_at"]
        gone = await calendar_app.request("GET", token["path"])
        assert gone.status_code == 404
        assert gone.headers["content-type"] == PROBLEM
        assert gone.json()["type"].endswith("unknown-feed")


async def test_a_customer_feed_shows_only_the_customers_own_bookings(
    gateway_url: str, studio: Studio, mint: Callable[..., str]
) -> None:
    day = datetime.now(UTC).date() + timedelta(days=20)
    async with (
        BookingClient(gateway_url, mint("feed-ann")) as ann,
        BookingClient(gateway_url, mint("feed-ben")) as ben,
        BookingClient(gateway_url) as calendar_app,
    ):
        mine = await _book(ann, studio.cut, _local(day, 9))
        theirs = await _book(ben, studio.cut, _local(day, 11))
        made = await ann.request("POST", "/v1/customers/me/feed-tokens")
        assert made.status_code == 201, made.text
        token = made.json()
        assert token["kind"] == "customer" and token["token"].startswith("c_")

        r = await calendar_app.request("GET", token["path"])
        assert r.status_code == 200, r.text
        events = _events(r.content)
        assert f"{mine['booking_id']}@booking" in events
        assert f"{theirs['booking_id']}@booking" not in events
        assert b"Ben" not in r.content and b"feed-ben" not in r.content
        assert b"Customer:" not in r.content
        event = events[f"{mine['booking_id']}@booking"]
        assert str(event["LOCATION"]) == "Feed studio"
        assert event.decoded("DTSTART").replace(tzinfo=None).time() == time(9)

        assert (await ben.request("GET", "/v1/customers/me/feed-tokens")).json()["items"] == []
        mine_listed = (await ann.request("GET", "/v1/customers/me/feed-tokens")).json()["items"]
        assert token["token_id"] in [t["token_id"] for t in mine_listed]

        # Ben may not revoke Ann's token, Ann may
        other = await ben.request("DELETE", f"/v1/feed-tokens/{token['token_id']}")
        assert other.status_code == 404
        assert (await calendar_app.request("GET", token["path"])).status_code == 200
        own = await ann.request("DELETE", f"/v1/feed-tokens/{token['token_id']}")
        assert own.status_code == 200
        assert (await calendar_app.request("GET", token["path"])).status_code == 404


async def test_who_may_make_feed_tokens(
    gateway_url: str, studio: Studio, mint: Callable[..., str]
) -> None:
    elsewhere = "00000000-0000-4000-8000-00000000fe0d"
    async with (
        BookingClient(gateway_url, mint("feed-ann")) as ann,
        BookingClient(gateway_url, mint("feed-sue", "staff", locations=[elsewhere])) as sue,
        BookingClient(gateway_url, mint("feed-stan", "staff")) as stan,
        BookingClient(gateway_url) as anyone,
    ):
        path = f"/v1/resources/{studio.marta}/feed-tokens"
        assert (await ann.request("POST", path)).status_code == 403
        assert (await sue.request("POST", path)).status_code == 403
        assert (await stan.request("POST", "/v1/customers/me/feed-tokens")).status_code == 403
        assert (await anyone.request("POST", path)).status_code == 401
        unknown = await anyone.request("GET", "/v1/feeds/r_" + "0" * 64 + ".ics")
        assert unknown.status_code == 404
        assert (await anyone.request("GET", "/v1/feeds/nonsense.ics")).status_code == 404
