"""The conflict desk over HTTP: staff and admins read it, only admins resolve, customers neither."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from tests.fixtures import HttpCatalogue, next_test_day


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_staff_read_the_conflict_desk_and_customers_cannot(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    body = {
        "service_id": http_catalogue.solo_service_id,
        "start_time": http_catalogue.at(day, 16).isoformat(),
        "end_time": http_catalogue.at(day, 17).isoformat(),
    }
    for who in ("desk-a", "desk-b"):
        httpx.post(gateway_url + "/v1/holds", json=body, headers=_auth(mint(who)))
    staff = _auth(mint("desk-staff", "staff"))
    r = httpx.get(gateway_url + "/v1/conflicts", headers=staff)
    assert r.status_code == 200 and isinstance(r.json()["items"], list)
    r = httpx.get(
        gateway_url + "/v1/conflicts/metrics", params={"window_seconds": 600}, headers=staff
    )
    assert r.status_code == 200 and r.json()["in_window"] >= 1
    r = httpx.get(gateway_url + "/v1/conflicts/recommendations", headers=staff)
    assert r.status_code == 200 and isinstance(r.json()["items"], list)
    customer = _auth(mint("desk-customer"))
    for path in ("/v1/conflicts", "/v1/conflicts/metrics", "/v1/conflicts/recommendations"):
        r = httpx.get(gateway_url + path, headers=customer)
        assert r.status_code == 403, (path, r.text)


def test_only_admins_resolve_and_unknown_conflicts_are_404(
    gateway_url: str, mint: Callable[..., str]
) -> None:
    unknown = uuid.uuid4()
    decision = {"decision": "keep_existing"}
    r = httpx.post(
        f"{gateway_url}/v1/conflicts/{unknown}/resolve",
        json=decision,
        headers=_auth(mint("desk-staff", "staff")),
    )
    assert r.status_code == 403
    r = httpx.post(
        f"{gateway_url}/v1/conflicts/{unknown}/resolve",
        json=decision,
        headers=_auth(mint("desk-admin", "admin")),
    )
    assert r.status_code == 404 and r.json()["code"] == "BK008"
    r = httpx.post(
        f"{gateway_url}/v1/conflicts/{unknown}/confirm",
        json={"accept": True},
        headers=_auth(mint("desk-customer")),
    )
    assert r.status_code == 404
    r = httpx.post(
        f"{gateway_url}/v1/conflicts/{unknown}/confirm",
        json={"accept": "yes"},
        headers=_auth(mint("desk-customer")),
    )
    assert r.status_code == 422
