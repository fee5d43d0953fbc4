"""Leases over HTTP: admin only, fenced tokens, another owner refused."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_admin_acquires_renews_and_releases_a_fenced_lease(
    gateway_url: str, mint: Callable[..., str]
) -> None:
    key = f"job-{uuid.uuid4().hex[:8]}"
    admin = _auth(mint("ops-1", "admin"))
    r = httpx.post(f"{gateway_url}/v1/locks/{key}", json={"ttl_seconds": 30}, headers=admin)
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert r.json()["owner"] == "ops-1"
    other = httpx.post(f"{gateway_url}/v1/locks/{key}", json={"owner": "ops-2"}, headers=admin)
    assert other.status_code == 409 and other.json()["type"].endswith("/lock-held")
    r = httpx.post(
        f"{gateway_url}/v1/locks/{key}/renew",
        json={"token": token, "ttl_seconds": 60},
        headers=admin,
    )
    assert r.status_code == 200 and r.json()["renewed"] is True
    r = httpx.post(
        f"{gateway_url}/v1/locks/{key}/renew", json={"token": token + 1000}, headers=admin
    )
    assert r.status_code == 409
    r = httpx.request(
        "DELETE", f"{gateway_url}/v1/locks/{key}", json={"token": token + 1000}, headers=admin
    )
    assert r.status_code == 409
    r = httpx.request(
        "DELETE", f"{gateway_url}/v1/locks/{key}", json={"token": token}, headers=admin
    )
    assert r.status_code == 204
    r = httpx.post(f"{gateway_url}/v1/locks/{key}", json={"owner": "ops-2"}, headers=admin)
    assert r.status_code == 201 and r.json()["token"] > token
    r = httpx.post(f"{gateway_url}/v1/locks/{key}", json={"ttl_seconds": 0}, headers=admin)
    assert r.status_code == 422


def test_staff_and_customers_cannot_take_leases(gateway_url: str, mint: Callable[..., str]) -> None:
    for role in ("staff", "customer"):
        r = httpx.post(
            f"{gateway_url}/v1/locks/not-yours", json={}, headers=_auth(mint("someone", role))
        )
        assert r.status_code == 403, r.text
        assert r.json()["code"] == "42501"
    assert httpx.post(f"{gateway_url}/v1/locks/not-yours", json={}).status_code == 401
