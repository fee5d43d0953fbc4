"""The demo customers' token endpoint: there while tokens are signed with the development secret
(published in this repository, so anyone could mint any token anyway), absent otherwise, and even
then only customer tokens for the listed demo customers."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import jwt
import pytest

from gateway.config import DEV_JWT_SECRET
from gateway.web.demo_tokens import DEMO_CUSTOMERS, TOKEN_TTL_SECONDS
from tests.fixtures import running_gateway

OWN_SECRET = "a-secret-of-this-deployment-only-0123456789abcdef"


@pytest.fixture(scope="module")
def own_secret_gateway(database_url: str) -> Iterator[str]:
    with running_gateway(database_url, {"BOOKING_JWT_SECRET": OWN_SECRET}) as base:
        yield base


def test_a_development_gateway_lists_its_demo_customers(gateway_url: str) -> None:
    r = httpx.get(gateway_url + "/demo/tokens")
    assert r.status_code == 200
    assert r.json()["customers"] == [{"sub": sub, "name": name} for sub, name in DEMO_CUSTOMERS]
    assert r.json()["role"] == "customer"


def test_it_mints_a_customer_token_the_gateway_accepts(gateway_url: str) -> None:
    r = httpx.post(gateway_url + "/demo/tokens", json={"customer": "bob"})
    assert r.status_code == 201, r.text
    assert r.headers["cache-control"] == "no-store"
    token = r.json()["token"]
    claims = jwt.decode(token, DEV_JWT_SECRET, algorithms=["HS256"])
    assert (claims["sub"], claims["role"]) == ("bob", "customer")
    assert claims["exp"] - claims["iat"] == TOKEN_TTL_SECONDS
    mine = httpx.get(gateway_url + "/v1/bookings", headers={"Authorization": f"Bearer {token}"})
    assert mine.status_code == 200 and mine.json()["user_id"] == "bob"


@pytest.mark.parametrize(
    "body",
    [{"customer": "root"}, {"customer": "mallory", "role": "customer"}, {}],
    ids=["unknown", "not-listed", "missing"],
)
def test_only_the_listed_customers_get_a_token(gateway_url: str, body: dict[str, str]) -> None:
    r = httpx.post(gateway_url + "/demo/tokens", json=body)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "customer"


def test_a_role_in_the_request_is_ignored_the_token_is_a_customers(gateway_url: str) -> None:
    r = httpx.post(gateway_url + "/demo/tokens", json={"customer": "alice", "role": "admin"})
    claims = jwt.decode(r.json()["token"], DEV_JWT_SECRET, algorithms=["HS256"])
    assert claims["role"] == "customer"


def test_a_body_that_is_not_an_object_is_a_bad_request(gateway_url: str) -> None:
    r = httpx.post(gateway_url + "/demo/tokens", content=b"[1")
    assert r.status_code == 400
    assert r.headers["content-type"].startswith("application/problem+json")


def test_a_gateway_with_its_own_secret_has_no_token_endpoint_but_serves_the_pages(
    own_secret_gateway: str,
) -> None:
    for method in ("GET", "POST"):
        r = httpx.request(method, own_secret_gateway + "/demo/tokens", json={"customer": "alice"})
        assert r.status_code == 404, (method, r.text)
    for page in ("/demo", "/docs"):
        assert httpx.get(own_secret_gateway + page).status_code == 200
