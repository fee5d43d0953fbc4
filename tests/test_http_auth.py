"""Authentication and error shapes: JWT negative cases, problem+json for every kind of mistake."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import httpx
import jwt
import pytest

from gateway.config import Settings
from tests.fixtures import HttpCatalogue, next_test_day

PROBLEM = "application/problem+json"
SECRET = Settings.from_env().jwt_secret


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _hold_body(cat: HttpCatalogue) -> dict[str, str]:
    day = next_test_day()
    return {
        "service_id": cat.service_id,
        "start_time": cat.at(day, 9).isoformat(),
        "end_time": cat.at(day, 10).isoformat(),
    }


BAD_TOKENS: dict[str, Callable[[], str]] = {
    "expired": lambda: jwt.encode(
        {"sub": "a", "role": "customer", "exp": int(time.time()) - 5}, SECRET, algorithm="HS256"
    ),
    "forged": lambda: jwt.encode(
        {"sub": "a", "role": "admin", "exp": int(time.time()) + 60},
        "not-the-secret-not-the-secret-not-the-secret",
        algorithm="HS256",
    ),
    "alg none": lambda: (
        _b64({"alg": "none", "typ": "JWT"})
        + "."
        + _b64({"sub": "a", "role": "admin", "exp": int(time.time()) + 60})
        + "."
    ),
    "missing exp": lambda: jwt.encode({"sub": "a", "role": "customer"}, SECRET, algorithm="HS256"),
    "unknown role": lambda: jwt.encode(
        {"sub": "a", "role": "root", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256"
    ),
    "HS512": lambda: jwt.encode(
        {"sub": "a", "role": "customer", "exp": int(time.time()) + 60}, SECRET, algorithm="HS512"
    ),
    "garbage": lambda: "not.a.jwt",
    "locations not a list": lambda: jwt.encode(
        {"sub": "a", "role": "staff", "locations": "all", "exp": int(time.time()) + 60},
        SECRET,
        algorithm="HS256",
    ),
    "locations not ids": lambda: jwt.encode(
        {"sub": "a", "role": "staff", "locations": ["salon-1"], "exp": int(time.time()) + 60},
        SECRET,
        algorithm="HS256",
    ),
}


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
def test_a_bad_token_is_401_problem_with_www_authenticate(
    case: str, gateway_url: str, http_catalogue: HttpCatalogue
) -> None:
    r = httpx.post(
        gateway_url + "/v1/holds",
        json=_hold_body(http_catalogue),
        headers={"Authorization": f"Bearer {BAD_TOKENS[case]()}"},
    )
    assert r.status_code == 401, r.text
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["type"].endswith("/unauthorized")


def test_a_bad_token_is_refused_even_on_the_public_route(
    gateway_url: str, http_catalogue: HttpCatalogue
) -> None:
    r = httpx.get(
        f"{gateway_url}/v1/services/{http_catalogue.service_id}/availability",
        params={"date": next_test_day().isoformat()},
        headers={"Authorization": f"Bearer {BAD_TOKENS['forged']()}"},
    )
    assert r.status_code == 401


def test_no_token_where_one_is_required_is_401(
    gateway_url: str, http_catalogue: HttpCatalogue
) -> None:
    r = httpx.post(gateway_url + "/v1/holds", json=_hold_body(http_catalogue))
    assert r.status_code == 401
    assert "www-authenticate" in r.headers
    r = httpx.post(
        gateway_url + "/v1/holds",
        json=_hold_body(http_catalogue),
        headers={"Authorization": "Basic YTpi"},
    )
    assert r.status_code == 401


def test_unknown_route_and_wrong_method_are_problems(gateway_url: str) -> None:
    r = httpx.get(gateway_url + "/v1/nothing-here")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert r.json()["status"] == 404
    r = httpx.put(gateway_url + "/v1/holds")
    assert r.status_code == 405 and r.headers["content-type"] == PROBLEM
    assert "POST" in r.headers["allow"]


def test_bad_json_is_400_and_bad_fields_are_422(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    auth = {"Authorization": f"Bearer {mint('shape-tester')}"}
    r = httpx.post(
        gateway_url + "/v1/holds",
        content=b"{not json",
        headers={**auth, "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["type"].endswith("/bad-request")
    r = httpx.post(gateway_url + "/v1/holds", json=[1, 2], headers=auth)
    assert r.status_code == 422
    r = httpx.post(gateway_url + "/v1/holds", json={"service_id": "nope"}, headers=auth)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"service_id", "start_time"}
    body = _hold_body(http_catalogue) | {"start_time": "2031-01-01 10:00"}
    r = httpx.post(gateway_url + "/v1/holds", json=body, headers=auth)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "start_time"


def test_an_oversized_body_is_413(gateway_url: str, mint: Callable[..., str]) -> None:
    r = httpx.post(
        gateway_url + "/v1/bookings",
        content=b"{" + b" " * (70 * 1024) + b"}",
        headers={"Authorization": f"Bearer {mint('big')}", "Content-Type": "application/json"},
    )
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM


@pytest.mark.parametrize(
    ("mutate", "code", "status"),
    [
        (lambda b, c: b | {"service_id": "00000000-0000-4000-8000-00000000dead"}, "BK001", 404),
        (lambda b, c: b | {"service_id": c.inactive_service_id}, "BK002", 422),
        (
            lambda b, c: (
                b
                | {
                    "start_time": c.at(next_test_day(), 5).isoformat(),
                    "end_time": c.at(next_test_day(), 6).isoformat(),
                }
            ),
            "BK006",
            422,
        ),
        (
            lambda b, c: (
                b | {"start_time": "2001-01-01T10:00:00Z", "end_time": "2001-01-01T11:00:00Z"}
            ),
            "BK004",
            422,
        ),
        (
            lambda b, c: (
                b | {"start_time": "2099-01-01T10:00:00Z", "end_time": "2099-01-01T11:00:00Z"}
            ),
            "BK005",
            422,
        ),
        (lambda b, c: b | {"expires_at": "2001-01-01T00:00:00Z"}, "BK007", 422),
        (lambda b, c: b | {"resource_id": "00000000-0000-4000-8000-00000000beef"}, "BK012", 422),
        (lambda b, c: b | {"user_id": "somebody-else"}, "BK015", 403),
    ],
)
def test_engine_errors_map_to_their_status_and_problem_type(
    mutate: Callable[[dict[str, str], HttpCatalogue], dict[str, str]],
    code: str,
    status: int,
    gateway_url: str,
    http_catalogue: HttpCatalogue,
    mint: Callable[..., str],
) -> None:
    body = mutate(_hold_body(http_catalogue), http_catalogue)
    r = httpx.post(
        gateway_url + "/v1/holds",
        json=body,
        headers={"Authorization": f"Bearer {mint('error-tester')}"},
    )
    assert r.status_code == status, r.text
    problem = r.json()
    assert r.headers["content-type"] == PROBLEM
    assert problem["code"] == code and problem["status"] == status
    assert problem["type"].startswith("https://booking.example/problems/")


def test_outside_hours_and_off_grid_are_422(
    gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    day = next_test_day()
    auth = {"Authorization": f"Bearer {mint('grid-tester')}"}
    late = {
        "service_id": http_catalogue.service_id,
        "start_time": http_catalogue.at(day, 21).isoformat(),
        "end_time": http_catalogue.at(day, 22).isoformat(),
    }
    r = httpx.post(gateway_url + "/v1/holds", json=late, headers=auth)
    assert (r.status_code, r.json()["code"]) == (422, "BK003")
    off = {
        "service_id": http_catalogue.service_id,
        "start_time": f"{day}T10:30:00Z",
        "end_time": f"{day}T11:30:00Z",
    }
    r = httpx.post(gateway_url + "/v1/holds", json=off, headers=auth)
    assert (r.status_code, r.json()["code"]) == (422, "BK013")
