"""Staff views over HTTP: a location's day (GET /v1/locations/{id}/schedule) with the customers'
contact details, captured by POST /v1/bookings, and the free gaps; the booking search
(GET /v1/locations/{id}/bookings) by customer, day and status, a page at a time; and who may read
them (staff and admins, each at the locations their token names)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jsonschema_rs
import psycopg
import pytest

from gateway.app import OPENAPI_DOCUMENT
from tests.support.rows import first_value

WARSAW = ZoneInfo("Europe/Warsaw")
J = dict[str, Any]


@dataclass(frozen=True)
class Salon:
    """A Warsaw salon where Anna and Bea work 09:00-17:00 every day: `service_id` (60 minutes,
    hourly grid, either of them); `other_location_id` is another salon."""

    location_id: str
    service_id: str
    anna: str
    bea: str
    other_location_id: str


@pytest.fixture(scope="module")
def salon(database_url: str) -> Salon:
    with psycopg.connect(database_url) as conn:
        one = partial(first_value, conn)

        loc = one(
            "insert into booking.locations (name, time_zone)"
            " values ('Staff views salon', 'Europe/Warsaw') returning id"
        )
        other = one(
            "insert into booking.locations (name, time_zone)"
            " values ('Another salon', 'Europe/Warsaw') returning id"
        )
        anna = one(
            "insert into booking.resources (location_id, name) values (%s, 'Anna') returning id",
            loc,
        )
        bea = one(
            "insert into booking.resources (location_id, name) values (%s, 'Bea') returning id",
            loc,
        )
        svc = one(
            "insert into booking.services (location_id, name, duration, slot_step, min_notice,"
            " max_advance) values (%s, 'Cut', '1 hour', '1 hour', '0', '400 days') returning id",
            loc,
        )
        for resource, preference in ((anna, 1), (bea, 2)):
            conn.execute(
                "insert into booking.service_resources (location_id, service_id, resource_id,"
                " preference) values (%s, %s, %s, %s)",
                (loc, svc, resource, preference),
            )
        conn.execute(
            "insert into booking.working_hours (location_id, resource_id, weekday, hours)"
            " select %s, r, d, booking.timerange('09:00', '17:00')"
            " from unnest(array[%s, %s]::uuid[]) r, generate_series(1, 7) d",
            (loc, anna, bea),
        )
    return Salon(loc, svc, anna, bea, other)


_days = iter(range(30, 400))


def _day() -> date:
    """A local day no other test of this module uses."""
    return datetime.now(WARSAW).date() + timedelta(days=next(_days))


def _local(day: date, hour: int) -> str:
    return f"{day.isoformat()}T{hour:02d}:00:00"


def _span(day: date, start: int, end: int) -> J:
    """A span of whole hours on a Warsaw day as results write it."""
    first = datetime(day.year, day.month, day.day, start, tzinfo=WARSAW)
    last = datetime(day.year, day.month, day.day, end, tzinfo=WARSAW)
    return {
        "start_time": first.astimezone(UTC).isoformat(),
        "end_time": last.astimezone(UTC).isoformat(),
        "time_zone": "Europe/Warsaw",
        "start_local": _local(day, start),
        "end_local": _local(day, end),
    }


@dataclass(frozen=True)
class Client:
    base: str
    mint: Callable[..., str]

    def token(self, sub: str, role: str = "customer", locations: list[str] | None = None) -> str:
        return str(self.mint(sub, role, 3600, locations))

    def call(self, method: str, path: str, token: str | None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.request(method, self.base + path, headers=headers, timeout=20, **kwargs)

    def book(self, salon: Salon, who: str, day: date, hour: int, **extra: Any) -> J:
        body = {"service_id": salon.service_id, "start_time": _local(day, hour)[:16], **extra}
        r = self.call("POST", "/v1/bookings", self.token(who), json=body)
        assert r.status_code == 201, r.text
        booked: J = r.json()
        return booked

    def schedule(self, salon: Salon, day: date, token: str, **params: str) -> httpx.Response:
        path = f"/v1/locations/{salon.location_id}/schedule"
        return self.call("GET", path, token, params={"date": day.isoformat(), **params})

    def search(self, salon: Salon, token: str | None, **params: str) -> httpx.Response:
        path = f"/v1/locations/{salon.location_id}/bookings"
        return self.call("GET", path, token, params=params)


@pytest.fixture(scope="module")
def client(gateway_url: str, mint: Callable[..., str]) -> Client:
    return Client(gateway_url, mint)


def _staff(c: Client, salon: Salon) -> str:
    return c.token("desk", "staff", [salon.location_id])


def _as_documented(r: httpx.Response, path: str) -> J:
    """The body of a 200 answer of GET `path`, checked against the schema the document gives it."""
    assert r.status_code == 200, r.text
    answer = OPENAPI_DOCUMENT["paths"][path]["get"]["responses"]["200"]
    schema = answer["content"]["application/json"]["schema"]
    validator = jsonschema_rs.validator_for(
        {**schema, "components": OPENAPI_DOCUMENT["components"]}
    )
    body: J = r.json()
    assert [e.message for e in validator.iter_errors(body)] == []
    return body


def test_the_day_shows_each_resource_with_bookings_holds_contact_details_and_free_gaps(
    client: Client, salon: Salon, database_url: str
) -> None:
    day = _day()
    off = _span(day, 15, 16)
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "insert into booking.schedule_exceptions (location_id, resource_id, kind, period, note)"
            " values (%s, %s, 'time_off', tstzrange(%s, %s), 'dentist')",
            (salon.location_id, salon.bea, off["start_time"], off["end_time"]),
        )
    contact = {"name": "  Kasia   Nowak ", "email": "Kasia@Example.COM", "phone": "+48 600-100-200"}
    booked = client.book(
        salon,
        "kasia",
        day,
        10,
        resource_id=salon.anna,
        booking_data={"note": "short fringe", "contact": contact},
    )
    held = client.call(
        "POST",
        "/v1/holds",
        client.token("hania"),
        json={
            "service_id": salon.service_id,
            "start_time": _local(day, 13),
            "resource_id": salon.bea,
        },
    )
    assert held.status_code == 201, held.text

    view = _as_documented(
        client.schedule(salon, day, _staff(client, salon)), "/v1/locations/{id}/schedule"
    )
    assert view["location_id"] == salon.location_id and view["date"] == day.isoformat()
    assert {k: view[k] for k in ("time_zone", "start_local", "end_local")} == {
        "time_zone": "Europe/Warsaw",
        "start_local": _local(day, 0),
        "end_local": _local(day + timedelta(days=1), 0),
    }
    anna, bea = view["resources"]
    assert (anna["name"], bea["name"]) == ("Anna", "Bea")
    assert anna["working_hours"] == [_span(day, 9, 17)] and anna["exceptions"] == []
    assert anna["free"] == [_span(day, 9, 10), _span(day, 11, 17)]
    assert bea["working_hours"] == [_span(day, 9, 15), _span(day, 16, 17)]
    assert bea["free"] == [_span(day, 9, 13), _span(day, 14, 15), _span(day, 16, 17)]
    (time_off,) = bea["exceptions"]
    assert time_off == time_off | {"kind": "time_off", "scope": "resource", "note": "dentist"} | off

    (booking,) = anna["reservations"]
    assert booking["id"] == booked["booking_id"] and booking["status"] == "confirmed"
    assert (booking["service_name"], booking["resource_name"]) == ("Cut", "Anna")
    assert {k: booking[k] for k in _span(day, 10, 11)} == _span(day, 10, 11)
    assert booking["customer"] == {
        "subject": "kasia",
        "name": "Kasia Nowak",
        "email": "Kasia@example.com",
        "phone": "+48600100200",
    }
    assert booking["details"] == {"note": "short fringe"}  # the contact is kept on the customer

    (hold,) = bea["reservations"]
    assert hold["id"] == held.json()["hold_id"] and hold["status"] == "held"
    assert hold["expires_at"] is not None and hold["start_local"] == _local(day, 13)
    assert hold["customer"] == {"subject": "hania", "name": None, "email": None, "phone": None}

    only_bea = client.schedule(salon, day, _staff(client, salon), resource_id=salon.bea)
    assert only_bea.status_code == 200, only_bea.text
    assert [res["name"] for res in only_bea.json()["resources"]] == ["Bea"]


def test_search_by_customer_by_status_and_by_day(client: Client, salon: Salon) -> None:
    day, next_day = _day(), _day()
    ola = {"contact": {"name": "Ola Kowalska", "email": "ola@example.com", "phone": "601 222 333"}}
    first = client.book(salon, "ola", day, 9, booking_data=ola)
    second = client.book(salon, "ola", next_day, 11)
    ela = client.book(salon, "ela", day, 10)
    cancelled = client.call(
        "POST", f"/v1/bookings/{ela['booking_id']}/cancel", client.token("ela"), json={}
    )
    assert cancelled.status_code == 200, cancelled.text
    staff = _staff(client, salon)

    def found(**params: str) -> list[str]:
        r = client.search(salon, staff, **params)
        assert r.status_code == 200, r.text
        assert r.json()["time_zone"] == "Europe/Warsaw" and r.json()["next"] is None
        return [b["id"] for b in r.json()["bookings"]]

    both_days = {"from": day.isoformat(), "to": next_day.isoformat()}
    ola_ids = [first["booking_id"], second["booking_id"]]
    assert found(customer="kowalska", **both_days) == ola_ids  # part of the name, any case
    assert found(customer="ola", **both_days) == ola_ids  # the subject
    assert found(customer="OLA@EXAMPLE", **both_days) == ola_ids  # part of the e-mail
    assert found(customer="222 333", **both_days) == ola_ids  # digits of the phone
    assert found(customer="ola", **{"from": day.isoformat(), "to": day.isoformat()}) == [
        first["booking_id"]
    ]
    assert found(status="cancelled", **both_days) == [ela["booking_id"]]
    assert found(status="confirmed", **both_days) == ola_ids
    assert found(status="cancelled,confirmed", **both_days) == [
        first["booking_id"],
        ela["booking_id"],
        second["booking_id"],
    ]
    r = client.search(salon, staff, customer="kowalska", **both_days)
    row = _as_documented(r, "/v1/locations/{id}/bookings")["bookings"][0]
    assert row["customer"]["name"] == "Ola Kowalska" and row["customer"]["phone"] == "601222333"
    assert {k: row[k] for k in _span(day, 9, 10)} == _span(day, 9, 10)


def test_search_pages_follow_next_or_the_link_header(client: Client, salon: Salon) -> None:
    day = _day()
    booked = [client.book(salon, f"pager-{hour}", day, hour)["booking_id"] for hour in (9, 10, 11)]
    staff = _staff(client, salon)
    days = {"from": day.isoformat(), "to": day.isoformat()}

    page = client.search(salon, staff, limit="2", **days)
    assert page.status_code == 200, page.text
    assert [b["id"] for b in page.json()["bookings"]] == booked[:2]
    cursor = page.json()["next"]
    assert cursor == {"after_start": _span(day, 10, 11)["start_time"], "after_id": booked[1]}
    link = page.headers["link"]
    assert link.startswith(f"</v1/locations/{salon.location_id}/bookings?") and link.endswith(
        '>; rel="next"'
    )

    by_link = client.call("GET", link[1 : link.index(">")], staff)
    by_cursor = client.search(salon, staff, limit="2", **days, **cursor)
    for last in (by_link, by_cursor):
        assert last.status_code == 200, last.text
        assert [b["id"] for b in last.json()["bookings"]] == booked[2:]
        assert last.json()["next"] is None and "link" not in last.headers


@pytest.mark.parametrize(
    ("role", "where", "status"),
    [
        (None, None, 401),
        ("customer", None, 403),
        ("staff", "other", 403),
        ("admin", "other", 403),
        ("staff", "this", 200),
        ("staff", None, 200),
        ("admin", "this", 200),
        ("admin", None, 200),
    ],
    ids=lambda v: str(v),
)
def test_staff_and_admins_of_the_location_read_its_views_and_no_one_else(
    client: Client, salon: Salon, role: str | None, where: str | None, status: int
) -> None:
    day = _day()
    client.book(salon, "scoped", day, 12, booking_data={"contact": {"name": "Scoped Person"}})
    locations = {"this": [salon.location_id], "other": [salon.other_location_id], None: None}
    token = None if role is None else client.token(f"{role}-x", role, locations[where])
    days = {"from": day.isoformat(), "to": day.isoformat()}
    for r in (client.schedule(salon, day, token or ""), client.search(salon, token, **days)):
        assert r.status_code == status, r.text
        if status == 200:
            assert "Scoped Person" in r.text
        else:
            assert r.headers["content-type"] == "application/problem+json"
            assert "Scoped Person" not in r.text
        if where == "other":
            assert r.json()["code"] == "BK017"


def test_an_unknown_location_or_a_resource_of_another_is_404(client: Client, salon: Salon) -> None:
    admin = client.token("admin-y", "admin")
    unknown = str(uuid.uuid4())
    for path, params in (
        (f"/v1/locations/{unknown}/schedule", {"date": "2031-01-06"}),
        (f"/v1/locations/{unknown}/bookings", {}),
        (
            f"/v1/locations/{salon.other_location_id}/schedule",
            {"date": "2031-01-06", "resource_id": salon.anna},
        ),
    ):
        r = client.call("GET", path, admin, params=params)
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "BK019"
    # a token limited to other locations learns nothing about one outside them
    limited = client.token("staff-z", "staff", [salon.location_id])
    r = client.call("GET", f"/v1/locations/{unknown}/bookings", limited)
    assert r.status_code == 403 and r.json()["code"] == "BK017", r.text


MALFORMED = "validation-error"  # one parameter is not what its schema says
UNFIT = "inconsistent-query"  # each is well-formed, together they are not


@pytest.mark.parametrize(
    ("route", "params", "field", "slug"),
    [
        ("schedule", {}, "date", MALFORMED),
        ("schedule", {"date": "2031-02-30"}, "date", MALFORMED),
        ("schedule", {"date": "2031-01-06", "resource_id": "anna"}, "resource_id", MALFORMED),
        ("bookings", {"limit": "0"}, "limit", MALFORMED),
        ("bookings", {"limit": "1001"}, "limit", MALFORMED),
        ("bookings", {"status": "booked"}, "status", MALFORMED),
        ("bookings", {"status": "held,"}, "status", MALFORMED),
        ("bookings", {"customer": "   "}, "customer", MALFORMED),
        (
            "bookings",
            {"after_start": "2031-01-06T10:00:00", "after_id": str(uuid.UUID(int=1))},
            "after_start",
            MALFORMED,
        ),
        ("bookings", {"from": "2031-01-07", "to": "2031-01-06"}, "to", UNFIT),
        ("bookings", {"after_start": "2031-01-06T10:00:00+00:00"}, "after_id", UNFIT),
        ("bookings", {"after_id": str(uuid.UUID(int=1))}, "after_start", UNFIT),
    ],
)
def test_a_malformed_or_inconsistent_query_is_422_naming_the_parameter(
    client: Client, salon: Salon, route: str, params: dict[str, str], field: str, slug: str
) -> None:
    path = f"/v1/locations/{salon.location_id}/{route}"
    r = client.call("GET", path, _staff(client, salon), params=params)
    assert r.status_code == 422, r.text
    assert r.json()["type"].endswith("/" + slug), r.text
    assert r.json()["errors"][0]["field"] == field and r.json()["errors"][0]["in"] == "query"
