"""The catalogue over HTTP: a whole salon set up through the API until a customer can hold a slot;
each public read and admin change with its answers (401, 403, 404, 409, 412, 422 as they apply);
staff and admins limited to other locations refused; the audit trail; and a change reaching the
availability a customer reads."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import jsonschema_rs
import pytest

from gateway.app import OPENAPI_DOCUMENT

J = dict[str, Any]
ZONE = "Europe/Warsaw"
WEEK = [{"weekday": d, "start": "09:00", "end": "17:00"} for d in range(1, 8)]


@dataclass(frozen=True)
class Api:
    """Requests to the session gateway as someone."""

    base: str
    mint: Callable[..., str]

    def call(
        self,
        method: str,
        path: str,
        who: tuple[str, str] | None = ("catalogue-admin", "admin"),
        *,
        locations: list[str] | None = None,
        if_match: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers: dict[str, str] = {}
        if who is not None:
            token = self.mint(who[0], who[1], locations=locations)
            headers["Authorization"] = f"Bearer {token}"
        if if_match is not None:
            headers["If-Match"] = if_match
        return httpx.request(method, self.base + path, headers=headers, timeout=20, **kwargs)

    def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> J:
        r = self.call(method, path, **kwargs)
        assert r.status_code == status, r.text
        body: J = r.json()
        return body


@dataclass(frozen=True)
class Salon:
    """A location set up through HTTP: two stylists working 09:00-17:00 local every day and a
    60-minute service both perform (Anna first)."""

    location: J
    anna: J
    celina: J
    service: J

    @property
    def id(self) -> str:
        return str(self.location["id"])


@pytest.fixture(scope="module")
def api(gateway_url: str, mint: Callable[..., str]) -> Api:
    return Api(gateway_url, mint)


def _name(prefix: str) -> str:
    return f"{prefix} {uuid.uuid4().hex[:6]}"


def _salon(api: Api) -> Salon:
    location = api.ok(
        "POST", "/v1/locations", 201, json={"name": _name("Salon"), "time_zone": ZONE}
    )
    loc = location["id"]
    anna = api.ok("POST", f"/v1/locations/{loc}/resources", 201, json={"name": "Anna"})
    celina = api.ok("POST", f"/v1/locations/{loc}/resources", 201, json={"name": "Celina"})
    for stylist in (anna, celina):
        api.ok("PUT", f"/v1/resources/{stylist['id']}/hours", json={"hours": WEEK})
    service = api.ok(
        "POST",
        f"/v1/locations/{loc}/services",
        201,
        json={"name": "Cut", "duration_minutes": 60, "slot_step_minutes": 60, "price": 95.5},
    )
    chosen = api.ok(
        "PUT",
        f"/v1/services/{service['id']}/resources",
        json={"resource_ids": [anna["id"], celina["id"]]},
        if_match=f'"{service["version"]}"',
    )
    return Salon(location, anna, celina, {**service, "version": chosen["version"]})


@pytest.fixture
def salon(api: Api) -> Salon:
    return _salon(api)


def _day(days: int = 10) -> date:
    return datetime.now(UTC).date() + timedelta(days=days)


def _book(api: Api, salon: Salon, hour: int = 10, customer: str | None = None) -> J:
    body = {"service_id": salon.service["id"], "start_time": f"{_day()}T{hour:02d}:00"}
    return api.ok("POST", "/v1/bookings", 201, who=(customer or _name("c"), "customer"), json=body)


def _code(r: httpx.Response) -> str:
    return str(r.json().get("code"))


# --- a whole salon -------------------------------------------------------------------------------


def test_a_salon_set_up_through_http_is_listed_and_bookable(api: Api) -> None:
    salon = _salon(api)
    assert salon.location["time_zone"] == ZONE and salon.location["version"] == 1
    listed = api.ok("GET", "/v1/locations", who=None)["items"]
    assert {"id": salon.id, "name": salon.location["name"], "time_zone": ZONE} in listed

    offers = api.ok("GET", f"/v1/locations/{salon.id}/services", who=None)
    assert offers["location_id"] == salon.id
    (offer,) = offers["items"]
    assert offer["id"] == salon.service["id"]
    assert (offer["duration_minutes"], offer["slot_step_minutes"], offer["price"]) == (60, 60, 95.5)
    assert offer["time_zone"] == ZONE and offer["next_available_day"] is not None

    one = api.ok("GET", f"/v1/services/{salon.service['id']}", who=None)
    assert one["location_id"] == salon.id and one["name"] == "Cut"
    performers = api.ok("GET", f"/v1/services/{salon.service['id']}/resources", who=None)
    assert [p["name"] for p in performers["items"]] == ["Anna", "Celina"]

    day = _day()
    slots = api.ok(
        "GET", f"/v1/services/{salon.service['id']}/availability", params={"date": str(day)}
    )["slots"]
    assert len(slots) == 8  # 09:00 to 16:00 local, hourly
    assert set(slots[0]["resource_ids"]) == {salon.anna["id"], salon.celina["id"]}
    hold = api.ok(
        "POST",
        "/v1/holds",
        201,
        who=("salon-customer", "customer"),
        json={"service_id": salon.service["id"], "start_time": f"{day}T09:00"},
    )
    assert hold["resource_id"] == salon.anna["id"]  # the first in preference order


def test_public_reads_need_no_token_but_refuse_a_bad_one(api: Api, salon: Salon) -> None:
    for path in (
        "/v1/locations",
        f"/v1/locations/{salon.id}/services",
        f"/v1/services/{salon.service['id']}",
        f"/v1/services/{salon.service['id']}/resources",
    ):
        assert api.call("GET", path, who=None).status_code == 200, path
        r = httpx.get(api.base + path, headers={"Authorization": "Bearer nonsense"})
        assert r.status_code == 401, path
        # staff limited to another location read the public catalogue too
        r = api.call("GET", path, ("stan", "staff"), locations=[str(uuid.uuid4())])
        assert r.status_code == 200, (path, r.text)


def test_public_reads_of_unknown_or_retired_entries(api: Api, salon: Salon) -> None:
    r = api.call("GET", f"/v1/locations/{uuid.uuid4()}/services", who=None)
    assert r.status_code == 404 and _code(r) == "BK019"
    for path in (f"/v1/services/{uuid.uuid4()}", f"/v1/services/{uuid.uuid4()}/resources"):
        r = api.call("GET", path, who=None)
        assert r.status_code == 404 and _code(r) == "BK001", path
    api.ok("PATCH", f"/v1/services/{salon.service['id']}", json={"active": False})
    for path in (
        f"/v1/services/{salon.service['id']}",
        f"/v1/services/{salon.service['id']}/resources",
    ):
        r = api.call("GET", path, who=None)
        assert r.status_code == 422 and _code(r) == "BK002", path
    assert api.ok("GET", f"/v1/locations/{salon.id}/services", who=None)["items"] == []


# --- locations -----------------------------------------------------------------------------------


def test_opening_a_location(api: Api) -> None:
    r = api.call(
        "POST", "/v1/locations", json={"name": _name("Open"), "time_zone": "europe/WARSAW"}
    )
    assert r.status_code == 201, r.text
    row = r.json()
    assert row["time_zone"] == ZONE and row["max_live_holds_per_customer"] == 3
    assert r.headers["etag"] == '"1"' and r.headers["location"] == f"/v1/locations/{row['id']}"
    chosen = str(uuid.uuid4())
    body = {"name": _name("Chosen"), "time_zone": "UTC", "id": chosen}
    assert api.ok("POST", "/v1/locations", 201, json=body)["id"] == chosen
    r = api.call("POST", "/v1/locations", json=body)
    assert r.status_code == 422 and _code(r) == "BK018"  # the id is taken


@pytest.mark.parametrize(
    ("who", "limited", "body", "status", "code"),
    [
        (None, False, {"time_zone": "UTC"}, 401, None),
        (("eve", "customer"), False, {"time_zone": "UTC"}, 403, "42501"),
        (("stan", "staff"), False, {"time_zone": "UTC"}, 403, "42501"),
        (("limited", "admin"), True, {"time_zone": "UTC"}, 403, "BK017"),
        (("ada", "admin"), False, {"time_zone": "Mars/Olympus"}, 422, "BK018"),
        (("ada", "admin"), False, {"time_zone": "UTC+3"}, 422, "BK018"),
        (("ada", "admin"), False, {"time_zone": "UTC", "name": ""}, 422, None),
        (
            ("ada", "admin"),
            False,
            {"time_zone": "UTC", "max_live_holds_per_customer": 0},
            422,
            None,
        ),
    ],
)
def test_opening_a_location_is_refused(
    api: Api,
    salon: Salon,
    who: tuple[str, str] | None,
    limited: bool,
    body: J,
    status: int,
    code: str | None,
) -> None:
    """`limited`: an admin whose token names locations (here the salon's) opens none."""
    scope = [salon.id] if limited else None
    r = api.call("POST", "/v1/locations", who, locations=scope, json={"name": "x", **body})
    assert r.status_code == status, r.text
    if code is not None:
        assert _code(r) == code


def test_changing_a_location_with_if_match(api: Api, salon: Salon) -> None:
    path = f"/v1/locations/{salon.id}"
    r = api.call("PATCH", path, json={"name": "Renamed"}, if_match='"1"')
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Renamed" and r.json()["version"] == 2 and r.headers["etag"] == '"2"'
    r = api.call("PATCH", path, json={"name": "Stale"}, if_match='"1"')
    assert r.status_code == 412 and _code(r) == "BK021"
    unchanged = api.call("PATCH", path, json={"name": "Renamed"}, if_match='"2"')
    assert unchanged.status_code == 200 and unchanged.headers["etag"] == '"2"'  # nothing written
    r = api.call("PATCH", path, json={"time_zone": "Nowhere/Else"})
    assert r.status_code == 422 and _code(r) == "BK018"
    r = api.call("PATCH", path, json={"name": None})
    assert r.status_code == 422 and r.json()["type"].endswith("validation-error")
    r = api.call("PATCH", path, json={}, if_match="3")
    assert r.status_code == 400  # an entity tag is quoted
    r = api.call("PATCH", f"/v1/locations/{uuid.uuid4()}", json={"name": "Ghost"})
    assert r.status_code == 404 and _code(r) == "BK019"
    r = api.call("PATCH", path, ("eve", "customer"), json={"name": "Mine"})
    assert r.status_code == 403


def test_closing_a_location_with_future_bookings(api: Api, salon: Salon) -> None:
    _book(api, salon)
    path = f"/v1/locations/{salon.id}"
    r = api.call("PATCH", path, json={"active": False})
    assert r.status_code == 409 and _code(r) == "BK020", r.text
    closed = api.ok("PATCH", path, json={"active": False, "cancel_future": True})
    assert closed["active"] is False and closed["cancelled_bookings"] == 1
    assert salon.id not in {loc["id"] for loc in api.ok("GET", "/v1/locations", who=None)["items"]}
    r = api.call("GET", f"/v1/locations/{salon.id}/services", who=None)
    assert r.status_code == 404 and _code(r) == "BK019"
    r = api.call("GET", f"/v1/services/{salon.service['id']}", who=None)
    assert r.status_code == 422 and _code(r) == "BK002"  # closing retired its services
    r = api.call("POST", f"/v1/locations/{salon.id}/resources", json={"name": "Late"})
    assert r.status_code == 422 and _code(r) == "BK018"  # a closed location
    reopened = api.ok("PATCH", path, json={"active": True})
    assert reopened["active"] is True
    r = api.call("PATCH", f"/v1/services/{salon.service['id']}", json={"active": True})
    assert r.status_code == 200 and r.json()["active"] is True


# --- resources -----------------------------------------------------------------------------------


def test_adding_and_changing_a_resource(api: Api, salon: Salon) -> None:
    r = api.call(
        "POST", f"/v1/locations/{salon.id}/resources", json={"name": "Chair", "kind": "equipment"}
    )
    assert r.status_code == 201, r.text
    chair = r.json()
    assert (chair["kind"], chair["active"], chair["version"]) == ("equipment", True, 1)
    assert r.headers["location"] == f"/v1/resources/{chair['id']}"
    r = api.call("POST", f"/v1/locations/{salon.id}/resources", json={"name": "X", "kind": "robot"})
    assert r.status_code == 422
    r = api.call("POST", f"/v1/locations/{uuid.uuid4()}/resources", json={"name": "X"})
    assert r.status_code == 404 and _code(r) == "BK019"
    r = api.call(
        "POST", f"/v1/locations/{salon.id}/resources", ("stan", "staff"), json={"name": "X"}
    )
    assert r.status_code == 403

    path = f"/v1/resources/{chair['id']}"
    r = api.call("PATCH", path, json={"name": "Big chair"}, if_match='"1"')
    assert r.status_code == 200 and r.json()["name"] == "Big chair" and r.headers["etag"] == '"2"'
    r = api.call("PATCH", path, json={"kind": "room"}, if_match='"1"')
    assert r.status_code == 412 and _code(r) == "BK021"
    r = api.call("PATCH", f"/v1/resources/{uuid.uuid4()}", json={"name": "Ghost"})
    assert r.status_code == 404 and _code(r) == "BK019"


def test_deactivating_a_booked_resource(api: Api, salon: Salon) -> None:
    booking = _book(api, salon)
    assert booking["resource_id"] == salon.anna["id"]
    path = f"/v1/resources/{salon.anna['id']}"
    r = api.call("PATCH", path, json={"active": False})
    assert r.status_code == 409 and _code(r) == "BK020", r.text
    gone = api.ok("PATCH", path, json={"active": False, "cancel_future": True})
    assert gone["active"] is False and gone["cancelled_bookings"] == 1
    performers = api.ok("GET", f"/v1/services/{salon.service['id']}/resources", who=None)
    assert [p["name"] for p in performers["items"]] == ["Celina"]


def test_working_hours(api: Api, salon: Salon) -> None:
    path = f"/v1/resources/{salon.celina['id']}/hours"
    version = api.ok("PATCH", f"/v1/resources/{salon.celina['id']}", json={})["version"]
    split = [
        {"weekday": 1, "start": "09:00", "end": "13:00"},
        {"weekday": 1, "start": "13:00", "end": "24:00"},
    ]
    r = api.call("PUT", path, json={"hours": split}, if_match=f'"{version}"')
    assert r.status_code == 200, r.text
    assert r.json()["hours"] == split and r.headers["etag"] == f'"{version + 1}"'
    r = api.call("PUT", path, json={"hours": split}, if_match=f'"{version}"')
    assert r.status_code == 412 and _code(r) == "BK021"
    overlapping = [
        {"weekday": 2, "start": "09:00", "end": "13:00"},
        {"weekday": 2, "start": "12:00", "end": "15:00"},
    ]
    r = api.call("PUT", path, json={"hours": overlapping})
    assert r.status_code == 422 and _code(r) == "BK018" and "overlap" in r.json()["detail"]
    r = api.call("PUT", path, json={"hours": [{"weekday": 3, "start": "17:00", "end": "09:00"}]})
    assert r.status_code == 422 and _code(r) == "BK018"
    for wrong in (
        {"weekday": 8, "start": "09:00", "end": "10:00"},
        {"weekday": 1, "start": "9:00", "end": "10:00"},
    ):
        r = api.call("PUT", path, json={"hours": [wrong]})
        assert r.status_code == 422 and r.json()["type"].endswith("validation-error"), wrong
    r = api.call("PUT", f"/v1/resources/{uuid.uuid4()}/hours", json={"hours": []})
    assert r.status_code == 404 and _code(r) == "BK019"
    r = api.call("PUT", path, ("eve", "customer"), json={"hours": []})
    assert r.status_code == 403


# --- services ------------------------------------------------------------------------------------


def test_adding_a_service_in_minutes(api: Api, salon: Salon) -> None:
    services = f"/v1/locations/{salon.id}/services"
    body = {
        "name": "Colour",
        "duration_minutes": 90,
        "buffer_before_minutes": 5,
        "buffer_after_minutes": 15,
        "slot_step_minutes": 30,
        "min_notice_minutes": 120,
        "max_advance_minutes": 60 * 24 * 30,
        "hold_ttl_minutes": 5,
        "conflict_strategy": "consensus",
        "price": 250.25,
    }
    r = api.call("POST", services, json={**body, "currency": "eur"})
    assert r.status_code == 201, r.text
    row = r.json()
    assert {k: row[k] for k in body} == body and "duration" not in row
    assert row["currency"] == "EUR" and row["active"] is True
    assert r.headers["location"] == f"/v1/services/{row['id']}" and r.headers["etag"] == '"1"'

    quick = api.ok("POST", services, 201, json={"name": "Quick", "duration_minutes": 15})
    defaults = {
        "slot_step_minutes": 15,
        "max_advance_minutes": 90 * 24 * 60,
        "hold_ttl_minutes": 10,
    }
    assert {k: quick[k] for k in defaults} == defaults

    odd = {
        "name": "Odd",
        "duration_minutes": 30,
        "min_notice_minutes": 60,
        "max_advance_minutes": 60,
    }
    r = api.call("POST", services, json=odd)
    assert r.status_code == 422 and _code(r) == "BK018"  # notice not less than the advance
    r = api.call("POST", services, json={"name": "Long", "duration_minutes": 721})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "duration_minutes"
    r = api.call("POST", services, json={"name": "Late", "duration_minutes": "PT30M"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "duration_minutes"
    r = api.call(
        "POST", f"/v1/locations/{uuid.uuid4()}/services", json={"name": "X", "duration_minutes": 30}
    )
    assert r.status_code == 404 and _code(r) == "BK019"


def test_changing_and_retiring_a_service(api: Api, salon: Salon) -> None:
    path = f"/v1/services/{salon.service['id']}"
    version = salon.service["version"]
    r = api.call("PATCH", path, json={"duration_minutes": 45, "price": 80}, if_match=f'"{version}"')
    assert r.status_code == 200, r.text
    assert (r.json()["duration_minutes"], r.json()["price"]) == (45, 80)
    assert r.headers["etag"] == f'"{version + 1}"'
    assert api.ok("GET", path, who=None)["duration_minutes"] == 45
    r = api.call("PATCH", path, json={"price": 1}, if_match=f'"{version}"')
    assert r.status_code == 412 and _code(r) == "BK021"
    r = api.call("PATCH", path, json={"buffer_after_minutes": -1})
    assert r.status_code == 422
    r = api.call("PATCH", f"/v1/services/{uuid.uuid4()}", json={"price": 1})
    assert r.status_code == 404 and _code(r) == "BK001"
    _book(api, salon)
    r = api.call("PATCH", path, json={"active": False})
    assert r.status_code == 409 and _code(r) == "BK020"
    retired = api.ok("PATCH", path, json={"active": False, "cancel_future": True})
    assert retired["active"] is False and retired["cancelled_bookings"] == 1


def test_choosing_who_performs_a_service(api: Api, salon: Salon) -> None:
    path = f"/v1/services/{salon.service['id']}/resources"
    version = salon.service["version"]
    swapped = [salon.celina["id"], salon.anna["id"]]
    r = api.call("PUT", path, json={"resource_ids": swapped}, if_match=f'"{version}"')
    assert r.status_code == 200, r.text
    assert r.json()["resource_ids"] == swapped and r.headers["etag"] == f'"{version + 1}"'
    assert [p["id"] for p in api.ok("GET", path, who=None)["items"]] == swapped
    r = api.call("PUT", path, json={"resource_ids": swapped}, if_match=f'"{version}"')
    assert r.status_code == 412 and _code(r) == "BK021"
    r = api.call("PUT", path, json={"resource_ids": [salon.anna["id"], salon.anna["id"]]})
    assert r.status_code == 422 and _code(r) == "BK018"
    other = _salon(api)
    r = api.call("PUT", path, json={"resource_ids": [other.anna["id"]]})
    assert r.status_code == 404 and _code(r) == "BK019"  # a resource of another location
    r = api.call("PUT", f"/v1/services/{uuid.uuid4()}/resources", json={"resource_ids": []})
    assert r.status_code == 404 and _code(r) == "BK001"
    assert api.ok("PUT", path, json={"resource_ids": []})["resource_ids"] == []
    assert api.ok("GET", path, who=None)["items"] == []


def test_capacity_and_max_seats(api: Api, salon: Salon) -> None:
    rooms = f"/v1/locations/{salon.id}/resources"
    mats = api.ok("POST", rooms, 201, json={"name": "Yoga room", "kind": "room", "capacity": 12})
    assert (
        mats["capacity"] == 12 and api.ok("POST", rooms, 201, json={"name": "X"})["capacity"] == 1
    )
    assert api.ok("PATCH", f"/v1/resources/{mats['id']}", json={"capacity": 8})["capacity"] == 8
    r = api.call("POST", rooms, json={"name": "Hall", "capacity": 1001})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "capacity"
    services = f"/v1/locations/{salon.id}/services"
    yoga = api.ok(
        "POST", services, 201, json={"name": "Yoga", "duration_minutes": 60, "max_seats": 4}
    )
    assert yoga["max_seats"] == 4
    changed = api.ok("PATCH", f"/v1/services/{yoga['id']}", json={"max_seats": 2})
    assert changed["max_seats"] == 2
    r = api.call("PATCH", f"/v1/services/{yoga['id']}", json={"max_seats": 0})
    assert r.status_code == 422


def test_a_service_that_needs_a_wash_station_for_its_first_20_minutes(
    api: Api, salon: Salon
) -> None:
    loc = salon.id
    wash = api.ok(
        "POST", f"/v1/locations/{loc}/resources", 201, json={"name": "Wash", "kind": "room"}
    )
    api.ok("PUT", f"/v1/resources/{wash['id']}/hours", json={"hours": WEEK})
    service = salon.service["id"]
    path = f"/v1/services/{service}/pools"
    pool = {"pool": 2, "name": "Wash station", "lasts_minutes": 20, "resource_ids": [wash["id"]]}
    version = salon.service["version"]
    r = api.call("PUT", path, json={"pools": [pool]}, if_match=f'"{version}"')
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == f'"{version + 1}"'
    assert r.json()["pools"] == [{**pool, "starts_after_minutes": 0}]
    assert api.ok("PUT", path, json={"pools": [pool]})["version"] == version + 1  # no change

    shown = api.ok("GET", f"/v1/services/{service}", who=None)
    assert shown["pools"] == [{**pool, "starts_after_minutes": 0}]
    needed = api.ok("GET", f"/v1/services/{service}/resources", who=None)["items"]
    assert [(p["name"], p["pool"]) for p in needed] == [("Anna", 1), ("Celina", 1), ("Wash", 2)]

    # the wash station is one: a second Cut at 10:00 is refused although Celina is free, naming it
    _book(api, salon, 10)
    body = {"service_id": service, "start_time": f"{_day()}T10:00"}
    r = api.call("POST", "/v1/holds", ("pool-customer", "customer"), json=body)
    assert r.status_code == 409, r.text
    assert r.json()["pool"] == {"pool": 2, "name": "Wash station"}
    documented = OPENAPI_DOCUMENT["paths"]["/v1/holds"]["post"]["responses"]["409"]
    schema = documented["content"]["application/problem+json"]["schema"]
    validator = jsonschema_rs.validator_for(
        {**schema, "components": OPENAPI_DOCUMENT["components"]}
    )
    assert [e.message for e in validator.iter_errors(r.json())] == []
    assert "pool" in OPENAPI_DOCUMENT["components"]["schemas"]["Problem"]["properties"]
    slots = api.ok("GET", f"/v1/services/{service}/availability", params={"date": str(_day())})
    assert f"{_day()}T10:00:00" not in {s["start_local"] for s in slots["slots"]}

    for pools, status, code in (
        ([{**pool, "starts_after_minutes": 60}], 422, "BK023"),
        ([{**pool, "resource_ids": [salon.anna["id"]]}], 422, "BK024"),
        ([pool, {**pool, "pool": 3}], 422, "BK024"),
        ([{**pool, "resource_ids": [str(uuid.uuid4())]}], 404, "BK019"),
    ):
        r = api.call("PUT", path, json={"pools": pools})
        assert (r.status_code, _code(r)) == (status, code), r.text
    r = api.call("PUT", path, json={"pools": [{**pool, "pool": 1}]})
    assert r.status_code == 422 and r.json()["errors"][0]["field"].startswith("pools")
    r = api.call("PUT", path, json={"pools": []}, if_match=f'"{version}"')
    assert r.status_code == 412 and _code(r) == "BK021"
    r = api.call("PUT", f"/v1/services/{uuid.uuid4()}/pools", json={"pools": []})
    assert r.status_code == 404 and _code(r) == "BK001"
    r = api.call("PUT", path, ("eve", "customer"), json={"pools": []})
    assert r.status_code == 403
    r = api.call("PATCH", f"/v1/services/{service}", json={"duration_minutes": 15})
    assert r.status_code == 200  # the wash station starts with it: still within 15 minutes
    assert api.ok("PUT", path, json={"pools": []})["pools"] == []


# --- schedule exceptions -------------------------------------------------------------------------


def _span(day: date, start: int, end: int) -> J:
    return {
        "start_time": f"{day}T{start:02d}:00:00+00:00",
        "end_time": f"{day}T{end:02d}:00:00+00:00",
    }


def test_a_closure_empties_the_day_and_removing_it_restores_it(api: Api, salon: Salon) -> None:
    day = _day()
    availability = f"/v1/services/{salon.service['id']}/availability"
    assert len(api.ok("GET", availability, params={"date": str(day)})["slots"]) == 8
    booking = _book(api, salon, 12)
    r = api.call(
        "POST",
        f"/v1/locations/{salon.id}/exceptions",
        json={"kind": "closure", "note": "flood", **_span(day, 0, 23)},
    )
    assert r.status_code == 201, r.text
    closure = r.json()
    assert closure["overlapping_bookings"] == 1 and closure["time_zone"] == ZONE
    midnight = datetime(day.year, day.month, day.day, tzinfo=UTC).astimezone(ZoneInfo(ZONE))
    assert closure["start_local"] == midnight.replace(tzinfo=None).isoformat()
    assert r.headers["location"] == f"/v1/exceptions/{closure['id']}"
    assert api.ok("GET", availability, params={"date": str(day)})["slots"] == []
    kept = api.ok("GET", f"/v1/bookings/{booking['booking_id']}", who=("catalogue-admin", "admin"))
    assert kept["status"] == "confirmed"  # bookings inside a closure stay booked
    r = api.call(
        "POST", f"/v1/locations/{salon.id}/exceptions", json={"kind": "closure", **_span(day, 5, 6)}
    )
    assert r.status_code == 422 and _code(r) == "BK018"  # overlaps the first
    removed = api.ok("DELETE", f"/v1/exceptions/{closure['id']}")
    assert removed["id"] == closure["id"] and "overlapping_bookings" not in removed
    assert len(api.ok("GET", availability, params={"date": str(day)})["slots"]) == 8
    r = api.call("DELETE", f"/v1/exceptions/{closure['id']}")
    assert r.status_code == 404 and _code(r) == "BK019"


def test_staff_add_and_remove_time_off_only(api: Api, salon: Salon) -> None:
    day = _day(20)
    staff = ("stan", "staff")
    exceptions = f"/v1/locations/{salon.id}/exceptions"
    time_off = {"kind": "time_off", "resource_id": salon.anna["id"], **_span(day, 8, 12)}
    r = api.call("POST", exceptions, staff, locations=[salon.id], json=time_off)
    assert r.status_code == 201, r.text
    r = api.call(
        "POST",
        exceptions,
        staff,
        locations=[salon.id],
        json={"kind": "closure", **_span(day, 8, 12)},
    )
    assert r.status_code == 403 and _code(r) == "BK017"
    closure = api.ok("POST", exceptions, 201, json={"kind": "closure", **_span(day, 13, 14)})
    r = api.call("DELETE", f"/v1/exceptions/{closure['id']}", staff)
    assert r.status_code == 403 and _code(r) == "BK017"
    r = api.call("POST", exceptions, ("eve", "customer"), json=time_off)
    assert r.status_code == 403 and _code(r) == "42501"
    r = api.call("POST", exceptions, json={"kind": "time_off", **_span(day, 8, 12)})
    assert r.status_code == 422 and _code(r) == "BK018"  # time off needs a resource
    r = api.call("POST", exceptions, json={**time_off, "resource_id": str(uuid.uuid4())})
    assert r.status_code == 404 and _code(r) == "BK019"
    r = api.call("POST", f"/v1/locations/{uuid.uuid4()}/exceptions", json=time_off)
    assert r.status_code == 404 and _code(r) == "BK019"
    r = api.call("POST", exceptions, json={**time_off, "start_time": f"{day}T08:00"})
    assert r.status_code == 422 and r.json()["type"].endswith(
        "validation-error"
    )  # an offset is needed


# --- staff scoping -------------------------------------------------------------------------------


def test_a_token_limited_to_another_location_is_refused_everywhere(api: Api, salon: Salon) -> None:
    elsewhere = [str(_salon(api).id)]
    admin = ("scoped-admin", "admin")
    day = _day(30)
    changes: list[tuple[str, str, J]] = [
        ("PATCH", f"/v1/locations/{salon.id}", {"name": "Taken over"}),
        ("POST", f"/v1/locations/{salon.id}/resources", {"name": "Intruder"}),
        ("PATCH", f"/v1/resources/{salon.anna['id']}", {"name": "Intruder"}),
        ("PUT", f"/v1/resources/{salon.anna['id']}/hours", {"hours": []}),
        (
            "POST",
            f"/v1/locations/{salon.id}/services",
            {"name": "Intruder", "duration_minutes": 30},
        ),
        ("PATCH", f"/v1/services/{salon.service['id']}", {"price": 1}),
        ("PUT", f"/v1/services/{salon.service['id']}/resources", {"resource_ids": []}),
        ("POST", f"/v1/locations/{salon.id}/exceptions", {"kind": "closure", **_span(day, 8, 9)}),
    ]
    for method, path, body in changes:
        r = api.call(method, path, admin, locations=elsewhere, json=body)
        assert r.status_code == 403 and _code(r) == "BK017", (method, path, r.text)
    r = api.call("GET", f"/v1/locations/{salon.id}/audit", admin, locations=elsewhere)
    assert r.status_code == 403 and _code(r) == "BK017"
    time_off = {"kind": "time_off", "resource_id": salon.anna["id"], **_span(day, 8, 9)}
    r = api.call(
        "POST",
        f"/v1/locations/{salon.id}/exceptions",
        ("stan", "staff"),
        locations=elsewhere,
        json=time_off,
    )
    assert r.status_code == 403 and _code(r) == "BK017"
    mine = api.ok("POST", f"/v1/locations/{salon.id}/exceptions", 201, json=time_off)
    r = api.call("DELETE", f"/v1/exceptions/{mine['id']}", ("stan", "staff"), locations=elsewhere)
    assert r.status_code == 403 and _code(r) == "BK017"
    # the same tokens, limited to this location, may
    here = [salon.id]
    r = api.call(
        "PATCH",
        f"/v1/resources/{salon.anna['id']}",
        admin,
        locations=here,
        json={"name": "Anna K."},
    )
    assert r.status_code == 200, r.text
    r = api.call("DELETE", f"/v1/exceptions/{mine['id']}", ("stan", "staff"), locations=here)
    assert r.status_code == 200, r.text


# --- the audit trail -----------------------------------------------------------------------------


def test_the_audit_trail_of_a_location(api: Api, salon: Salon) -> None:
    path = f"/v1/locations/{salon.id}/audit"
    trail = api.ok("GET", path)
    assert trail["location_id"] == salon.id
    entities = [(e["entity"], e["action"]) for e in trail["items"]]
    assert entities[0] == ("service_resources", "update")  # newest first
    assert entities[-1] == ("location", "create")
    assert {e["actor_subject"] for e in trail["items"]} == {"catalogue-admin"}
    of_service = api.ok("GET", path, params={"entity_id": salon.service["id"]})["items"]
    assert {e["entity"] for e in of_service} == {"service", "service_resources"}
    assert len(api.ok("GET", path, params={"limit": 1})["items"]) == 1
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert api.ok("GET", path, params={"since": later})["items"] == []
    r = api.call("GET", path, params={"limit": 0})
    assert r.status_code == 422
    r = api.call("GET", path, ("stan", "staff"))
    assert r.status_code == 403
