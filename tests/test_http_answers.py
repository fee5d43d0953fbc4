"""The OpenAPI document promises only answers the gateway gives, and describes every route it
serves: the served routes are the documented operations; each documented status of each
operation is reached here by a request whose answer matches the documented schema (or is listed in
ELSEWHERE with the test that reaches it); each conflict type an operation names is answered.

Three gateways: the session's, one whose rate limit is spent after one request (429), and one
whose database refuses connections once it has started (503)."""

from __future__ import annotations

import json
import re
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import jsonschema_rs
import psycopg
import pytest
from psycopg import sql
from starlette.routing import Route

from gateway.app import OPENAPI_DOCUMENT, SPECS, create_app
from gateway.cli.migrate import migrate
from gateway.config import Settings
from gateway.http.problems import CONFLICT_PROBLEMS
from gateway.web.routes import DEMO_TOKENS_PATH
from testkit.processes import stop
from tests.fixtures import HttpCatalogue, next_test_day, start_gateway, with_dbname
from tests.support import webhook_probes

J = dict[str, Any]
METHODS = ("get", "post", "put", "patch", "delete")
Operation = tuple[str, str]  # (METHOD, /document/path/{id})

# Documented statuses reached by another test rather than here: (METHOD, path, status) -> the test.
# Empty: every documented answer is reached below.
ELSEWHERE: dict[tuple[str, str, int], str] = {}


def _operations() -> list[Operation]:
    return [
        (method.upper(), path)
        for path, ops in OPENAPI_DOCUMENT["paths"].items()
        for method in ops
        if method in METHODS
    ]


def _documented() -> list[tuple[str, str, int]]:
    return [
        (method, path, int(status))
        for method, path in _operations()
        for status in OPENAPI_DOCUMENT["paths"][path][method.lower()]["responses"]
    ]


def test_the_served_routes_are_the_documented_operations(
    gateway_url: str, database_url: str
) -> None:
    app = create_app(replace(Settings.from_env(), database_url=database_url))
    served = {
        (method, re.sub(r":[a-z]+}", "}", route.path))
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    # the demo's token endpoint is no API operation: it is served only with the development
    # secret (tests/test_http_demo_tokens.py), so a document shared by every gateway leaves it out
    served -= {("GET", DEMO_TOKENS_PATH), ("POST", DEMO_TOKENS_PATH)}
    document = httpx.get(gateway_url + "/openapi.json").json()
    documented = {
        (method.upper(), path)
        for path, ops in document["paths"].items()
        for method in ops
        if method in METHODS
    }
    assert served == documented
    assert document == json.loads(json.dumps(OPENAPI_DOCUMENT))


def test_every_elsewhere_entry_is_a_documented_answer() -> None:
    assert set(ELSEWHERE) <= set(_documented())


# --- the gateways and what the probes need ----------------------------------------------------


@dataclass(frozen=True)
class Desk:
    """Two one-stylist services of a location of their own: conflicts there are escalated to an
    admin (`escalated_id`) or answered with an offered alternative (`consensus_id`)."""

    escalated_id: str
    consensus_id: str


@dataclass(frozen=True)
class Ctx:
    live: str
    limited: str
    dead: str
    cat: HttpCatalogue
    desk: Desk
    mint: Callable[..., str]

    def auth(self, sub: str = "probe-admin", role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.mint(sub, role)}"}

    def call(
        self,
        method: str,
        path: str,
        *,
        base: str | None = None,
        who: tuple[str, str] = ("probe-admin", "admin"),
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        return httpx.request(
            method,
            (base or self.live) + path,
            headers={**self.auth(*who), **(headers or {})},
            timeout=20,
            **kwargs,
        )


def _desk(database_url: str) -> Desk:
    with psycopg.connect(database_url) as conn:

        def one(query: str, *args: object) -> str:
            row = conn.execute(query, args).fetchone()
            assert row is not None
            return str(row[0])

        loc = one(
            "insert into booking.locations (name, time_zone) values ('Answers desk', 'UTC')"
            " returning id"
        )
        res = one(
            "insert into booking.resources (location_id, name) values (%s, 'Ewa') returning id", loc
        )
        ids = []
        for strategy in ("admin_intervention", "consensus"):
            sid = one(
                "insert into booking.services (location_id, name, duration, slot_step, min_notice,"
                " max_advance, conflict_strategy) values (%s, %s, '1 hour', '1 hour', '0',"
                " '400 days', %s) returning id",
                loc,
                strategy,
                strategy,
            )
            conn.execute(
                "insert into booking.service_resources (location_id, service_id, resource_id,"
                " preference) values (%s, %s, %s, 1)",
                (loc, sid, res),
            )
            ids.append(sid)
        conn.execute(
            "insert into booking.working_hours (location_id, resource_id, weekday, hours)"
            " select %s, %s, d, booking.timerange('08:00', '20:00') from generate_series(1, 7) d",
            (loc, res),
        )
    return Desk(*ids)


@pytest.fixture(scope="module")
def ctx(
    gateway_url: str, database_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> Iterator[Ctx]:
    # A database of its own for the gateway that loses it: refused connections, killed sessions.
    doomed = f"answers_{uuid.uuid4().hex[:8]}"
    admin_url = with_dbname(database_url, "postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("create database {}").format(sql.Identifier(doomed)))
    alone = {"REDIS_URL": "", "RATE_LIMIT_BACKEND": "local"}  # no state shared with the others
    procs: list[subprocess.Popen[bytes]] = []
    try:
        migrate(with_dbname(database_url, doomed))
        proc, limited = start_gateway(
            database_url, {**alone, "RATE_LIMIT_PER_SECOND": "0.001", "RATE_LIMIT_BURST": "1"}
        )
        procs.append(proc)
        proc, dead = start_gateway(
            with_dbname(database_url, doomed), {**alone, "BOOKING_POOL_DOWN_TIMEOUT": "0.2"}
        )
        procs.append(proc)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("alter database {} allow_connections false").format(sql.Identifier(doomed))
            )
            conn.execute(
                "select pg_terminate_backend(pid) from pg_stat_activity where datname = %s",
                (doomed,),
            )
        yield Ctx(gateway_url, limited, dead, http_catalogue, _desk(database_url), mint)
    finally:
        for proc in procs:
            stop(proc)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(doomed))
            )


# --- requests ---------------------------------------------------------------------------------

LATER = "2031-01-06T10:00:00Z"


def _concrete(path: str) -> str:
    return path.replace("{key}", f"probe-{uuid.uuid4().hex[:8]}").replace("{id}", str(uuid.uuid4()))


# A well-formed request of each operation, naming nothing that exists (ids are random).
WELL_FORMED: dict[Operation, J] = {
    ("GET", "/v1/services/{id}/availability"): {"params": {"date": "2031-01-06"}},
    ("POST", "/v1/holds"): {"json": {"service_id": str(uuid.uuid4()), "start_time": LATER}},
    ("DELETE", "/v1/holds/{id}"): {"headers": {"X-Session-Id": "probe"}},
    ("POST", "/v1/holds/{id}/booking"): {"json": {"session_id": "probe"}},
    ("POST", "/v1/bookings"): {"json": {"service_id": str(uuid.uuid4()), "start_time": LATER}},
    ("POST", "/v1/bookings/{id}/cancel"): {"json": {}},
    ("POST", "/v1/bookings/{id}/reschedule"): {"json": {"start_time": LATER}},
    ("POST", "/v1/locks/{key}"): {"json": {}},
    ("POST", "/v1/locks/{key}/renew"): {"json": {"token": 1}},
    ("DELETE", "/v1/locks/{key}"): {"json": {"token": 1}},
    ("POST", "/v1/conflicts/{id}/resolve"): {"json": {"decision": "keep_existing"}},
    ("POST", "/v1/conflicts/{id}/confirm"): {"json": {"accept": False}},
    ("POST", "/v1/cache/invalidate"): {"json": {"tags": ["day:2031-01-06"]}},
    ("POST", "/v1/cache/warm"): {"json": {}},
    ("GET", "/v1/locations/{id}/schedule"): {"params": {"date": "2031-01-06"}},
    ("POST", "/v1/waitlist"): {"json": {"service_id": str(uuid.uuid4()), "start_time": LATER}},
}


def _well_formed(c: Ctx, op: Operation, base: str | None = None, **extra: Any) -> httpx.Response:
    method, path = op
    kwargs = {**WELL_FORMED.get(op, {})}
    headers = {**kwargs.pop("headers", {}), **extra.pop("headers", {})}
    return c.call(method, _concrete(path), base=base, headers=headers, **kwargs, **extra)


def _someone() -> tuple[str, str]:
    """A customer of its own (the live-hold cap counts per customer)."""
    return (f"probe-{uuid.uuid4().hex[:10]}", "customer")


def _start(c: Ctx, day: date, hour: int) -> str:
    return c.cat.at(day, hour).isoformat()


def _hold(c: Ctx, who: tuple[str, str], service: str | None = None) -> J:
    service = service or c.cat.solo_service_id
    body = {"service_id": service, "start_time": _start(c, next_test_day(), 9)}
    r = c.call("POST", "/v1/holds", who=who, json=body)
    assert r.status_code == 201, r.text
    hold: J = r.json()
    return hold


def _booking(c: Ctx, who: tuple[str, str], day: date | None = None, hour: int = 9) -> J:
    body = {
        "service_id": c.cat.solo_service_id,
        "start_time": _start(c, day or next_test_day(), hour),
    }
    r = c.call("POST", "/v1/bookings", who=who, json=body)
    assert r.status_code == 201, r.text
    booking: J = r.json()
    return booking


def _taken(c: Ctx, path: str, service: str, asker: tuple[str, str]) -> httpx.Response:
    """Ask for a time someone else holds on `service` (a conflict)."""
    day = next_test_day()
    body = {"service_id": service, "start_time": _start(c, day, 10)}
    assert c.call("POST", "/v1/holds", who=_someone(), json=body).status_code == 201
    return c.call("POST", path, who=asker, json=body)


def _hold_taken(c: Ctx) -> httpx.Response:
    return _taken(c, "/v1/holds", c.cat.solo_service_id, _someone())


def _booking_taken(c: Ctx) -> httpx.Response:
    return _taken(c, "/v1/bookings", c.cat.solo_service_id, _someone())


def _acting_as_another(c: Ctx, path: str) -> httpx.Response:
    body = {"service_id": c.cat.service_id, "start_time": LATER, "user_id": "someone-else"}
    return c.call("POST", path, who=_someone(), json=body)


def _release(c: Ctx, session: str | None = None, *, header: bool = True) -> httpx.Response:
    who = _someone()
    hold = _hold(c, who)
    headers = {"X-Session-Id": session or hold["session_id"]} if header else {}
    return c.call("DELETE", f"/v1/holds/{hold['hold_id']}", who=who, headers=headers)


def _release_booked(c: Ctx) -> httpx.Response:
    who = _someone()
    hold = _hold(c, who)
    path = f"/v1/holds/{hold['hold_id']}"
    converted = c.call("POST", path + "/booking", who=who, json={"session_id": hold["session_id"]})
    assert converted.status_code == 201, converted.text
    return c.call("DELETE", path, who=who, headers={"X-Session-Id": hold["session_id"]})


def _convert(c: Ctx, session: str | None = None, *, released: bool = False) -> httpx.Response:
    who = _someone()
    hold = _hold(c, who)
    path = f"/v1/holds/{hold['hold_id']}"
    if released:
        gone = c.call("DELETE", path, who=who, headers={"X-Session-Id": hold["session_id"]})
        assert gone.status_code == 200, gone.text
    body = {"session_id": session or hold["session_id"]}
    return c.call("POST", path + "/booking", who=who, json=body)


def _get_booking(c: Ctx, *, revalidate: bool) -> httpx.Response:
    who = _someone()
    path = f"/v1/bookings/{_booking(c, who)['booking_id']}"
    r = c.call("GET", path, who=who)
    if not revalidate:
        return r
    return c.call("GET", path, who=who, headers={"If-None-Match": r.headers["etag"]})


def _availability(c: Ctx, *, revalidate: bool) -> httpx.Response:
    path = f"/v1/services/{c.cat.service_id}/availability"
    params = {"date": next_test_day().isoformat()}
    r = c.call("GET", path, params=params)
    if not revalidate:
        return r
    return c.call("GET", path, params=params, headers={"If-None-Match": r.headers["etag"]})


def _change(c: Ctx, action: str, *, of_a_hold: bool = False, **kwargs: Any) -> httpx.Response:
    who = _someone()
    target = _hold(c, who)["hold_id"] if of_a_hold else _booking(c, who)["booking_id"]
    return c.call("POST", f"/v1/bookings/{target}/{action}", who=who, **kwargs)


def _reschedule_onto_taken(c: Ctx) -> httpx.Response:
    day = next_test_day()
    _booking(c, _someone(), day, 10)
    who = _someone()
    booking = _booking(c, who, day, 12)
    body = {"start_time": _start(c, day, 10)}
    return c.call("POST", f"/v1/bookings/{booking['booking_id']}/reschedule", who=who, json=body)


def _lock(c: Ctx, then: str, *, stale: bool = False) -> httpx.Response:
    key = f"probe-{uuid.uuid4().hex[:8]}"
    first = c.call("POST", f"/v1/locks/{key}", json={})
    assert first.status_code == 201, first.text
    token = first.json()["token"] + (1000 if stale else 0)
    if then == "acquire":
        return c.call("POST", f"/v1/locks/{key}", json={"owner": "someone-else"})
    if then == "renew":
        return c.call("POST", f"/v1/locks/{key}/renew", json={"token": token})
    return c.call("DELETE", f"/v1/locks/{key}", json={"token": token})


def _settle(c: Ctx, action: str, service: str, body: J, *, twice: bool) -> httpx.Response:
    """Resolve (as an admin) or confirm (as the requester) a fresh conflict, once or twice."""
    asker = _someone()
    conflict = _taken(c, "/v1/holds", service, asker)
    assert conflict.status_code == 409, conflict.text
    path = f"/v1/conflicts/{conflict.json()['conflict_id']}/{action}"
    who = asker if action == "confirm" else ("probe-admin", "admin")
    r = c.call("POST", path, who=who, json=body)
    return c.call("POST", path, who=who, json=body) if twice else r


def _resolve(c: Ctx, *, twice: bool) -> httpx.Response:
    return _settle(c, "resolve", c.desk.escalated_id, {"decision": "keep_existing"}, twice=twice)


def _confirm(c: Ctx, *, twice: bool) -> httpx.Response:
    return _settle(c, "confirm", c.desk.consensus_id, {"accept": False}, twice=twice)


def _new(c: Ctx, path: str) -> httpx.Response:
    body = {"service_id": c.cat.service_id, "start_time": _start(c, next_test_day(), 9)}
    return c.call("POST", path, who=_someone(), json=body)


def _bad_slot(c: Ctx) -> httpx.Response:
    body = {"service_id": c.cat.service_id, "start_time": LATER, "slot_id": "not-this-slot"}
    return c.call("POST", "/v1/holds", who=_someone(), json=body)


def _search_with_a_next_page(c: Ctx) -> httpx.Response:
    """A page of one booking of two on a day: its `next` and Link name the second."""
    day = next_test_day()
    _booking(c, _someone(), day, 9)
    _booking(c, _someone(), day, 11)
    params = {"from": day.isoformat(), "to": day.isoformat(), "limit": "1"}
    path = f"/v1/locations/{c.cat.location_id}/bookings"
    r = c.call("GET", path, params=params)
    assert r.json()["next"] is not None and 'rel="next"' in r.headers["link"], r.text
    return r


def _waiting(c: Ctx, *, free: bool = False) -> tuple[tuple[str, str], J]:
    """A customer of its own on the waiting list of a taken slot (offered at once when `free`)."""
    day = next_test_day()
    if not free:
        _booking(c, _someone(), day, 9)
    who = _someone()
    body = {"service_id": c.cat.solo_service_id, "start_time": _start(c, day, 9)}
    r = c.call("POST", "/v1/waitlist", who=who, json=body)
    assert r.status_code == 201, r.text
    entry: J = r.json()
    return who, entry


def _taken_slot(c: Ctx) -> J:
    day = next_test_day()
    _booking(c, _someone(), day, 9)
    return {"service_id": c.cat.solo_service_id, "start_time": _start(c, day, 9)}


def _join_again(c: Ctx, **change: Any) -> httpx.Response:
    who, entry = _waiting(c)
    body = {"service_id": c.cat.solo_service_id, "start_time": entry["start_time"], **change}
    return c.call("POST", "/v1/waitlist", who=who, json=body)


def _on_entry(c: Ctx, method: str, action: str = "", *, free: bool = False) -> httpx.Response:
    who, entry = _waiting(c, free=free)
    return c.call(method, f"/v1/waitlist/{entry['entry_id']}{action}", who=who)


# Requests that reach one status of one operation (the others come from `_probe`'s rules).
PROBES: dict[tuple[str, str, int], Callable[[Ctx], httpx.Response]] = {
    ("GET", "/v1/services/{id}/availability", 200): lambda c: _availability(c, revalidate=False),
    ("GET", "/v1/services/{id}/availability", 304): lambda c: _availability(c, revalidate=True),
    ("GET", "/v1/services/{id}/availability", 422): lambda c: c.call(
        "GET", f"/v1/services/{c.cat.service_id}/availability"
    ),
    ("POST", "/v1/holds", 201): lambda c: _new(c, "/v1/holds"),
    ("POST", "/v1/holds", 400): _bad_slot,
    ("POST", "/v1/holds", 403): lambda c: _acting_as_another(c, "/v1/holds"),
    ("POST", "/v1/holds", 409): _hold_taken,
    ("DELETE", "/v1/holds/{id}", 200): lambda c: _release(c),
    ("DELETE", "/v1/holds/{id}", 400): lambda c: _release(c, "s" * 201),
    ("DELETE", "/v1/holds/{id}", 403): lambda c: _release(c, "another-session"),
    ("DELETE", "/v1/holds/{id}", 409): _release_booked,
    ("DELETE", "/v1/holds/{id}", 422): lambda c: _release(c, header=False),
    ("POST", "/v1/holds/{id}/booking", 201): lambda c: _convert(c),
    ("POST", "/v1/holds/{id}/booking", 403): lambda c: _convert(c, "another-session"),
    ("POST", "/v1/holds/{id}/booking", 409): lambda c: _convert(c, released=True),
    ("POST", "/v1/bookings", 201): lambda c: _new(c, "/v1/bookings"),
    ("POST", "/v1/bookings", 403): lambda c: _acting_as_another(c, "/v1/bookings"),
    ("POST", "/v1/bookings", 409): _booking_taken,
    ("GET", "/v1/bookings", 200): lambda c: c.call("GET", "/v1/bookings", who=_someone()),
    ("GET", "/v1/bookings", 403): lambda c: c.call("GET", "/v1/bookings?user_id=x", who=_someone()),
    ("GET", "/v1/bookings", 422): lambda c: c.call("GET", "/v1/bookings?limit=0"),
    ("GET", "/v1/bookings/{id}", 200): lambda c: _get_booking(c, revalidate=False),
    ("GET", "/v1/bookings/{id}", 304): lambda c: _get_booking(c, revalidate=True),
    ("POST", "/v1/bookings/{id}/cancel", 200): lambda c: _change(c, "cancel"),
    ("POST", "/v1/bookings/{id}/cancel", 409): lambda c: _change(c, "cancel", of_a_hold=True),
    ("POST", "/v1/bookings/{id}/cancel", 412): lambda c: _change(
        c, "cancel", headers={"If-Match": '"99"'}
    ),
    ("POST", "/v1/bookings/{id}/reschedule", 200): lambda c: _change(
        c, "reschedule", json={"start_time": _start(c, next_test_day(), 11)}
    ),
    ("POST", "/v1/bookings/{id}/reschedule", 409): _reschedule_onto_taken,
    ("POST", "/v1/bookings/{id}/reschedule", 412): lambda c: _change(
        c, "reschedule", json={"start_time": LATER}, headers={"If-Match": '"99"'}
    ),
    ("POST", "/v1/locks/{key}", 409): lambda c: _lock(c, "acquire"),
    ("POST", "/v1/locks/{key}/renew", 200): lambda c: _lock(c, "renew"),
    ("POST", "/v1/locks/{key}/renew", 409): lambda c: _lock(c, "renew", stale=True),
    ("DELETE", "/v1/locks/{key}", 204): lambda c: _lock(c, "release"),
    ("DELETE", "/v1/locks/{key}", 409): lambda c: _lock(c, "release", stale=True),
    ("POST", "/v1/conflicts/{id}/resolve", 200): lambda c: _resolve(c, twice=False),
    ("POST", "/v1/conflicts/{id}/resolve", 409): lambda c: _resolve(c, twice=True),
    ("POST", "/v1/conflicts/{id}/confirm", 200): lambda c: _confirm(c, twice=False),
    ("POST", "/v1/conflicts/{id}/confirm", 409): lambda c: _confirm(c, twice=True),
    ("GET", "/v1/conflicts/metrics", 422): lambda c: c.call(
        "GET", "/v1/conflicts/metrics?window_seconds=0"
    ),
    ("GET", "/v1/locations/{id}/schedule", 200): lambda c: c.call(
        "GET",
        f"/v1/locations/{c.cat.location_id}/schedule",
        params={"date": next_test_day().isoformat()},
        who=("probe-staff", "staff"),
    ),
    ("GET", "/v1/locations/{id}/schedule", 422): lambda c: c.call(
        "GET", f"/v1/locations/{c.cat.location_id}/schedule", who=("probe-staff", "staff")
    ),
    ("POST", "/v1/waitlist", 201): lambda c: c.call(
        "POST", "/v1/waitlist", who=_someone(), json=_taken_slot(c)
    ),
    ("POST", "/v1/waitlist", 200): lambda c: _join_again(c),
    ("POST", "/v1/waitlist", 403): lambda c: _acting_as_another(c, "/v1/waitlist"),
    ("POST", "/v1/waitlist", 409): lambda c: _join_again(c, resource_id=c.cat.resource_a),
    ("GET", "/v1/waitlist", 200): lambda c: c.call("GET", "/v1/waitlist", who=_someone()),
    ("GET", "/v1/waitlist", 403): lambda c: c.call("GET", "/v1/waitlist?user_id=x", who=_someone()),
    ("GET", "/v1/waitlist", 422): lambda c: c.call("GET", "/v1/waitlist?include_ended=maybe"),
    ("GET", "/v1/waitlist/{id}", 200): lambda c: _on_entry(c, "GET"),
    ("DELETE", "/v1/waitlist/{id}", 200): lambda c: _on_entry(c, "DELETE"),
    ("POST", "/v1/waitlist/{id}/decline", 200): lambda c: _on_entry(
        c, "POST", "/decline", free=True
    ),
    ("POST", "/v1/waitlist/{id}/decline", 409): lambda c: _on_entry(c, "POST", "/decline"),
    ("GET", "/v1/services/{id}/waitlist", 200): lambda c: c.call(
        "GET", f"/v1/services/{c.cat.solo_service_id}/waitlist", who=("probe-staff", "staff")
    ),
    ("GET", "/v1/services/{id}/waitlist", 422): lambda c: c.call(
        "GET", f"/v1/services/{c.cat.solo_service_id}/waitlist?start_time=soon"
    ),
    ("GET", "/v1/locations/{id}/bookings", 200): _search_with_a_next_page,
    ("GET", "/v1/locations/{id}/bookings", 422): lambda c: c.call(
        "GET",
        f"/v1/locations/{c.cat.location_id}/bookings",
        params={"after_id": str(uuid.uuid4())},
    ),
}


# --- the catalogue: entries of their own, made through HTTP (the session salon stays as it is) ---

CLOSURE = {"kind": "closure", "start_time": LATER, "end_time": "2031-01-06T11:00:00Z"}
WELL_FORMED |= {
    ("POST", "/v1/locations"): {"json": {"name": "Probe salon", "time_zone": "UTC"}},
    ("PATCH", "/v1/locations/{id}"): {"json": {}},
    ("POST", "/v1/locations/{id}/services"): {"json": {"name": "Probe", "duration_minutes": 60}},
    ("PATCH", "/v1/services/{id}"): {"json": {}},
    ("PUT", "/v1/services/{id}/resources"): {"json": {"resource_ids": []}},
    ("PUT", "/v1/services/{id}/pools"): {"json": {"pools": []}},
    ("POST", "/v1/locations/{id}/resources"): {"json": {"name": "Probe"}},
    ("PATCH", "/v1/resources/{id}"): {"json": {}},
    ("PUT", "/v1/resources/{id}/hours"): {"json": {"hours": []}},
    ("POST", "/v1/locations/{id}/exceptions"): {"json": CLOSURE},
}


def _made(c: Ctx, path: str, body: J) -> J:
    r = c.call("POST", path, json=body)
    assert r.status_code == 201, r.text
    made: J = r.json()
    return made


def _location(c: Ctx) -> str:
    return str(_made(c, "/v1/locations", {"name": "Probe salon", "time_zone": "UTC"})["id"])


def _resource(c: Ctx) -> str:
    return str(_made(c, f"/v1/locations/{_location(c)}/resources", {"name": "Probe"})["id"])


def _service(c: Ctx) -> str:
    body = {"name": "Probe", "duration_minutes": 60, "slot_step_minutes": 60}
    return str(_made(c, f"/v1/locations/{_location(c)}/services", body)["id"])


@dataclass(frozen=True)
class Booked:
    """A location of its own whose one stylist has a future booking of its one service."""

    location_id: str
    resource_id: str
    service_id: str


def _booked(c: Ctx) -> Booked:
    loc = _location(c)
    res = str(_made(c, f"/v1/locations/{loc}/resources", {"name": "Probe"})["id"])
    hours = [{"weekday": d, "start": "08:00", "end": "20:00"} for d in range(1, 8)]
    assert c.call("PUT", f"/v1/resources/{res}/hours", json={"hours": hours}).status_code == 200
    body = {"name": "Probe", "duration_minutes": 60, "slot_step_minutes": 60}
    svc = str(_made(c, f"/v1/locations/{loc}/services", body)["id"])
    r = c.call("PUT", f"/v1/services/{svc}/resources", json={"resource_ids": [res]})
    assert r.status_code == 200, r.text
    booking = {"service_id": svc, "start_time": f"{next_test_day()}T10:00"}
    assert c.call("POST", "/v1/bookings", who=_someone(), json=booking).status_code == 201
    return Booked(loc, res, svc)


def _pooled(c: Ctx) -> httpx.Response:
    """A service of a location of its own given a wash station for its first 20 minutes."""
    loc = _location(c)
    wash = str(_made(c, f"/v1/locations/{loc}/resources", {"name": "Wash", "kind": "room"})["id"])
    body = {"name": "Colour", "duration_minutes": 90, "slot_step_minutes": 30}
    svc = str(_made(c, f"/v1/locations/{loc}/services", body)["id"])
    pool = {"pool": 2, "name": "Wash station", "lasts_minutes": 20, "resource_ids": [wash]}
    return c.call("PUT", f"/v1/services/{svc}/pools", json={"pools": [pool]})


def _stale(c: Ctx, method: str, path: str, body: J) -> httpx.Response:
    return c.call(method, path, json=body, headers={"If-Match": '"99"'})


def _exception(c: Ctx) -> str:
    return str(_made(c, f"/v1/locations/{_location(c)}/exceptions", CLOSURE)["id"])


PROBES |= {
    ("PATCH", "/v1/locations/{id}", 200): lambda c: c.call(
        "PATCH", f"/v1/locations/{_location(c)}", json={"name": "Renamed"}
    ),
    ("PATCH", "/v1/locations/{id}", 409): lambda c: c.call(
        "PATCH", f"/v1/locations/{_booked(c).location_id}", json={"active": False}
    ),
    ("PATCH", "/v1/locations/{id}", 412): lambda c: _stale(
        c, "PATCH", f"/v1/locations/{_location(c)}", {"name": "Stale"}
    ),
    ("GET", "/v1/locations/{id}/audit", 422): lambda c: c.call(
        "GET", f"/v1/locations/{c.cat.location_id}/audit?limit=0"
    ),
    ("GET", "/v1/locations/{id}/services", 200): lambda c: c.call(
        "GET", f"/v1/locations/{c.cat.location_id}/services"
    ),
    ("POST", "/v1/locations/{id}/services", 201): lambda c: c.call(
        "POST", f"/v1/locations/{_location(c)}/services", json={"name": "P", "duration_minutes": 30}
    ),
    ("GET", "/v1/services/{id}", 200): lambda c: c.call("GET", f"/v1/services/{c.cat.service_id}"),
    ("GET", "/v1/services/{id}", 422): lambda c: c.call(
        "GET", f"/v1/services/{c.cat.inactive_service_id}"
    ),
    ("PATCH", "/v1/services/{id}", 200): lambda c: c.call(
        "PATCH", f"/v1/services/{_service(c)}", json={"price": 10}
    ),
    ("PATCH", "/v1/services/{id}", 409): lambda c: c.call(
        "PATCH", f"/v1/services/{_booked(c).service_id}", json={"active": False}
    ),
    ("PATCH", "/v1/services/{id}", 412): lambda c: _stale(
        c, "PATCH", f"/v1/services/{_service(c)}", {"price": 10}
    ),
    ("GET", "/v1/services/{id}/resources", 200): lambda c: c.call(
        "GET", f"/v1/services/{c.cat.service_id}/resources"
    ),
    ("GET", "/v1/services/{id}/resources", 422): lambda c: c.call(
        "GET", f"/v1/services/{c.cat.inactive_service_id}/resources"
    ),
    ("PUT", "/v1/services/{id}/resources", 200): lambda c: c.call(
        "PUT", f"/v1/services/{_service(c)}/resources", json={"resource_ids": []}
    ),
    ("PUT", "/v1/services/{id}/resources", 412): lambda c: _stale(
        c, "PUT", f"/v1/services/{_service(c)}/resources", {"resource_ids": []}
    ),
    ("PUT", "/v1/services/{id}/pools", 200): _pooled,
    ("PUT", "/v1/services/{id}/pools", 412): lambda c: _stale(
        c, "PUT", f"/v1/services/{_service(c)}/pools", {"pools": []}
    ),
    ("POST", "/v1/locations/{id}/resources", 201): lambda c: c.call(
        "POST", f"/v1/locations/{_location(c)}/resources", json={"name": "Probe"}
    ),
    ("PATCH", "/v1/resources/{id}", 200): lambda c: c.call(
        "PATCH", f"/v1/resources/{_resource(c)}", json={"name": "Renamed"}
    ),
    ("PATCH", "/v1/resources/{id}", 409): lambda c: c.call(
        "PATCH", f"/v1/resources/{_booked(c).resource_id}", json={"active": False}
    ),
    ("PATCH", "/v1/resources/{id}", 412): lambda c: _stale(
        c, "PATCH", f"/v1/resources/{_resource(c)}", {"name": "Stale"}
    ),
    ("PUT", "/v1/resources/{id}/hours", 200): lambda c: c.call(
        "PUT", f"/v1/resources/{_resource(c)}/hours", json={"hours": []}
    ),
    ("PUT", "/v1/resources/{id}/hours", 412): lambda c: _stale(
        c, "PUT", f"/v1/resources/{_resource(c)}/hours", {"hours": []}
    ),
    ("POST", "/v1/locations/{id}/exceptions", 201): lambda c: c.call(
        "POST", f"/v1/locations/{_location(c)}/exceptions", json=CLOSURE
    ),
    ("DELETE", "/v1/exceptions/{id}", 200): lambda c: c.call(
        "DELETE", f"/v1/exceptions/{_exception(c)}"
    ),
}

# --- webhooks: endpoints of their own (tests/support/webhook_probes.py) ---
WELL_FORMED |= webhook_probes.WELL_FORMED
PROBES |= webhook_probes.PROBES


def _feed_tokens(c: Ctx, path: str, who: tuple[str, str], count: int = 1) -> httpx.Response:
    """POST `path` (a feed token) `count` times: the last answer."""
    for _ in range(count):
        r = c.call("POST", path, who=who)
    return r


def _feed_token(c: Ctx) -> J:
    r = _feed_tokens(c, f"/v1/resources/{_resource(c)}/feed-tokens", ("probe-admin", "admin"))
    assert r.status_code == 201, r.text
    token: J = r.json()
    return token


def _feed(c: Ctx, *, revalidate: bool) -> httpx.Response:
    path = _feed_token(c)["path"]
    r = c.call("GET", path)
    if not revalidate:
        return r
    return c.call("GET", path, headers={"If-None-Match": r.headers["etag"]})


def _revoke_elsewhere(c: Ctx) -> httpx.Response:
    """Staff whose token names another location revoke a resource's feed token."""
    staff = c.mint("probe-staff", "staff", locations=[str(uuid.uuid4())])
    return c.call(
        "DELETE",
        f"/v1/feed-tokens/{_feed_token(c)['token_id']}",
        headers={"Authorization": f"Bearer {staff}"},
    )


RESOURCE_FEED_TOKENS = "/v1/resources/{id}/feed-tokens"
MY_FEED_TOKENS = "/v1/customers/me/feed-tokens"
PROBES |= {
    ("POST", RESOURCE_FEED_TOKENS, 201): lambda c: _feed_tokens(
        c, f"/v1/resources/{_resource(c)}/feed-tokens", ("probe-admin", "admin")
    ),
    ("POST", RESOURCE_FEED_TOKENS, 409): lambda c: _feed_tokens(
        c, f"/v1/resources/{_resource(c)}/feed-tokens", ("probe-admin", "admin"), 11
    ),
    ("POST", MY_FEED_TOKENS, 201): lambda c: _feed_tokens(c, MY_FEED_TOKENS, _someone()),
    ("GET", RESOURCE_FEED_TOKENS, 200): lambda c: c.call(
        "GET", f"/v1/resources/{_feed_token(c)['resource_id']}/feed-tokens"
    ),
    ("GET", MY_FEED_TOKENS, 200): lambda c: c.call("GET", MY_FEED_TOKENS, who=_someone()),
    ("GET", MY_FEED_TOKENS, 403): lambda c: c.call(
        "GET", MY_FEED_TOKENS, who=("probe-staff", "staff")
    ),
    ("POST", MY_FEED_TOKENS, 403): lambda c: _feed_tokens(
        c, MY_FEED_TOKENS, ("probe-staff", "staff")
    ),
    ("POST", MY_FEED_TOKENS, 409): lambda c: _feed_tokens(c, MY_FEED_TOKENS, _someone(), 11),
    ("DELETE", "/v1/feed-tokens/{id}", 200): lambda c: c.call(
        "DELETE", f"/v1/feed-tokens/{_feed_token(c)['token_id']}"
    ),
    ("DELETE", "/v1/feed-tokens/{id}", 403): _revoke_elsewhere,
    ("GET", "/v1/feeds/{token}.ics", 200): lambda c: _feed(c, revalidate=False),
    ("GET", "/v1/feeds/{token}.ics", 304): lambda c: _feed(c, revalidate=True),
    ("GET", "/v1/feeds/{token}.ics", 422): lambda c: c.call("GET", f"/v1/feeds/r_{'0' * 300}.ics"),
}


def _version(c: Ctx, service: str, day: date) -> int:
    path = f"/v1/services/{service}/availability"
    r = c.call("GET", path, params={"date": day.isoformat()})
    assert r.status_code == 200, r.text
    return int(r.json()["versions"][day.isoformat()])


def _taken_by(c: Ctx, path: str, by: str, *, stale_view: bool = False) -> httpx.Response:
    """Ask (POST `path`) for a time someone else took (POST `by`) first; with `stale_view`,
    naming the availability version from before."""
    day = next_test_day()
    seen = _version(c, c.cat.solo_service_id, day)
    body: J = {"service_id": c.cat.solo_service_id, "start_time": _start(c, day, 10)}
    first = c.call("POST", by, who=_someone(), json=body)
    assert first.status_code == 201, first.text
    return c.call(
        "POST", path, who=_someone(), json=body | ({"seen_version": seen} if stale_view else {})
    )


def _expired_hold_taken(c: Ctx, by: str) -> httpx.Response:
    """Convert a hold that lapsed while someone else took its time (POST `by`)."""
    who = _someone()
    body: J = {"service_id": c.cat.solo_service_id, "start_time": _start(c, next_test_day(), 9)}
    lapses = datetime.now(UTC) + timedelta(seconds=2)
    r = c.call("POST", "/v1/holds", who=who, json=body | {"expires_at": lapses.isoformat()})
    assert r.status_code == 201, r.text
    hold = r.json()
    time.sleep(max(0.0, (lapses - datetime.now(UTC)).total_seconds()) + 0.2)
    assert c.call("POST", by, who=_someone(), json=body).status_code == 201
    path = f"/v1/holds/{hold['hold_id']}/booking"
    return c.call("POST", path, who=who, json={"session_id": hold["session_id"]})


def _reschedule_onto(c: Ctx, by: str) -> httpx.Response:
    day = next_test_day()
    body: J = {"service_id": c.cat.solo_service_id, "start_time": _start(c, day, 10)}
    assert c.call("POST", by, who=_someone(), json=body).status_code == 201
    who = _someone()
    booking = _booking(c, who, day, 12)
    path = f"/v1/bookings/{booking['booking_id']}/reschedule"
    return c.call("POST", path, who=who, json={"start_time": body["start_time"]})


# Requests answered with one conflict type of one operation.
CONFLICT_PROBES: dict[tuple[str, str, str], Callable[[Ctx], httpx.Response]] = {
    ("POST", "/v1/holds", "HOLD_CONFLICT"): lambda c: _taken_by(c, "/v1/holds", "/v1/holds"),
    ("POST", "/v1/holds", "BOOKING_CONFLICT"): lambda c: _taken_by(c, "/v1/holds", "/v1/bookings"),
    ("POST", "/v1/holds", "CACHE_CONFLICT"): lambda c: _taken_by(
        c, "/v1/holds", "/v1/holds", stale_view=True
    ),
    ("POST", "/v1/bookings", "HOLD_CONFLICT"): lambda c: _taken_by(c, "/v1/bookings", "/v1/holds"),
    ("POST", "/v1/bookings", "BOOKING_CONFLICT"): lambda c: _taken_by(
        c, "/v1/bookings", "/v1/bookings"
    ),
    ("POST", "/v1/bookings", "CACHE_CONFLICT"): lambda c: _taken_by(
        c, "/v1/bookings", "/v1/bookings", stale_view=True
    ),
    ("POST", "/v1/holds/{id}/booking", "HOLD_CONFLICT"): lambda c: _expired_hold_taken(
        c, "/v1/holds"
    ),
    ("POST", "/v1/holds/{id}/booking", "BOOKING_CONFLICT"): lambda c: _expired_hold_taken(
        c, "/v1/bookings"
    ),
    ("POST", "/v1/bookings/{id}/cancel", "VERSION_CONFLICT"): lambda c: _change(
        c, "cancel", headers={"If-Match": '"99"'}
    ),
    ("POST", "/v1/bookings/{id}/reschedule", "HOLD_CONFLICT"): lambda c: _reschedule_onto(
        c, "/v1/holds"
    ),
    ("POST", "/v1/bookings/{id}/reschedule", "BOOKING_CONFLICT"): lambda c: _reschedule_onto(
        c, "/v1/bookings"
    ),
    ("POST", "/v1/bookings/{id}/reschedule", "VERSION_CONFLICT"): lambda c: _change(
        c, "reschedule", json={"start_time": LATER}, headers={"If-Match": '"99"'}
    ),
}
DECLARED_CONFLICTS = [
    (spec.method, spec.path_template, ctype) for spec in SPECS for ctype in spec.conflicts
]


def test_every_conflict_probe_is_a_documented_conflict_type() -> None:
    assert set(CONFLICT_PROBES) == set(DECLARED_CONFLICTS)


@pytest.mark.parametrize(
    ("method", "path", "conflict_type"),
    DECLARED_CONFLICTS,
    ids=[" ".join(d) for d in DECLARED_CONFLICTS],
)
def test_every_documented_conflict_type_is_answered(
    ctx: Ctx, method: str, path: str, conflict_type: str
) -> None:
    r = CONFLICT_PROBES[(method, path, conflict_type)](ctx)
    assert r.status_code == CONFLICT_PROBLEMS[conflict_type].status, r.text
    assert r.json()["conflict_type"] == conflict_type, r.text


def _probe(c: Ctx, method: str, path: str, status: int) -> httpx.Response:
    """A request of this operation that should be answered with `status`."""
    op = (method, path)
    if (method, path, status) in PROBES:
        return PROBES[(method, path, status)](c)
    has_body = "requestBody" in OPENAPI_DOCUMENT["paths"][path][method.lower()]
    if status == 401:
        return _well_formed(c, op, headers={"Authorization": "Bearer not-a-token"})
    if status == 429:
        _well_formed(c, op, base=c.limited)
        return _well_formed(c, op, base=c.limited)
    if status == 503:
        return _well_formed(c, op, base=c.dead)
    if status == 403:  # the operation is for staff or admins
        return _well_formed(c, op, headers=c.auth(*_someone()))
    if status == 404:  # the ids name nothing
        return _well_formed(c, op)
    if has_body and status == 400:
        return c.call(method, _concrete(path), content=b"{", headers=_json_type())
    if has_body and status == 413:
        return c.call(method, _concrete(path), content=b" " * 70_000, headers=_json_type())
    if has_body and status == 415:
        return c.call(
            method, _concrete(path), content=b"{}", headers={"Content-Type": "text/plain"}
        )
    if has_body and status == 422:
        return c.call(method, _concrete(path), json=[])
    if 200 <= status < 300:
        return _well_formed(c, op)
    raise AssertionError(f"no request reaches {status} of {method} {path}: add one to PROBES")


def _json_type() -> dict[str, str]:
    return {"Content-Type": "application/json"}


def _schema_of(answer: J, content_type: str) -> J | None:
    media = content_type.split(";")[0].strip()
    content = answer.get("content", {})
    if media not in content:
        assert not content, f"answered {media}, documented {sorted(content)}"
        return None
    schema: J | None = content[media].get("schema")
    return schema


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [d for d in _documented() if d not in ELSEWHERE],
    ids=[f"{m} {p} {s}" for m, p, s in _documented() if (m, p, s) not in ELSEWHERE],
)
def test_every_documented_answer_is_given(ctx: Ctx, method: str, path: str, status: int) -> None:
    r = _probe(ctx, method, path, status)
    assert r.status_code == status, r.text
    answer = OPENAPI_DOCUMENT["paths"][path][method.lower()]["responses"][str(status)]
    schema = _schema_of(answer, r.headers.get("content-type", ""))
    if schema is not None and "json" in r.headers["content-type"]:
        validator = jsonschema_rs.validator_for(
            {**schema, "components": OPENAPI_DOCUMENT["components"]}
        )
        errors = [e.message for e in validator.iter_errors(r.json())]
        assert not errors, (errors, r.text)
