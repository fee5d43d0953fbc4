"""Cache and rate limits with a Redis of the test's own: shared between gateways, invalidation by
tag, warm-up, Redis stopped mid-test (slower, never wrong), and 429 under a burst."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator

import httpx
import pytest

from testkit.ports import free_port
from testkit.throwaway_redis import start_redis
from tests.fixtures import HttpCatalogue, next_test_day, start_gateway


@pytest.fixture
def own_redis() -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A redis-server only this test uses (so stopping it hurts nobody else)."""
    port = free_port()
    proc = start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(10)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def gateways() -> Iterator[Callable[[str, dict[str, str]], str]]:
    started: list[subprocess.Popen[bytes]] = []

    def start(database_url: str, env: dict[str, str]) -> str:
        proc, base = start_gateway(database_url, env)
        started.append(proc)
        return base

    yield start
    for proc in started:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _metric(base: str, name: str) -> float:
    for line in httpx.get(base + "/metrics").text.splitlines():
        if line.split(" ")[0] == name:
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _starts(base: str, service_id: str, day: object) -> list[str]:
    r = httpx.get(f"{base}/v1/services/{service_id}/availability", params={"date": str(day)})
    assert r.status_code == 200, r.text
    return [s["start_time"][11:16] for s in r.json()["slots"]]


def test_gateways_share_redis_and_survive_it_stopping(
    database_url: str,
    http_catalogue: HttpCatalogue,
    mint: Callable[..., str],
    own_redis: tuple[subprocess.Popen[bytes], str],
    gateways: Callable[[str, dict[str, str]], str],
) -> None:
    proc, url = own_redis
    one = gateways(database_url, {"REDIS_URL": url})
    two = gateways(database_url, {"REDIS_URL": url})
    day = next_test_day()
    assert httpx.get(one + "/ready").json()["redis"] == "ok"
    full = _starts(one, http_catalogue.solo_service_id, day)
    assert _starts(two, http_catalogue.solo_service_id, day) == full
    assert _metric(two, 'booking_cache_requests_total{result="hit_redis"}') == 1.0

    _stop(proc)
    ready = httpx.get(one + "/ready")
    assert ready.status_code == 200 and ready.json()["redis"] == "degraded"
    assert ready.json()["status"] == "degraded"
    auth = {"Authorization": f"Bearer {mint('no-redis')}"}
    hold = httpx.post(
        one + "/v1/holds",
        headers=auth,
        json={
            "service_id": http_catalogue.solo_service_id,
            "start_time": http_catalogue.at(day, 8).isoformat(),
            "end_time": http_catalogue.at(day, 9).isoformat(),
        },
    )
    assert hold.status_code == 201, hold.text
    for base in (one, two):
        assert _starts(base, http_catalogue.solo_service_id, day) == full[1:]
    again = httpx.post(
        two + "/v1/holds",
        headers=auth,
        json={
            "service_id": http_catalogue.solo_service_id,
            "start_time": http_catalogue.at(day, 8).isoformat(),
            "end_time": http_catalogue.at(day, 9).isoformat(),
        },
    )
    assert again.status_code == 409


def test_invalidate_by_tag_and_warm_up_are_admin_only(
    redis_gateway_url: str, http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    admin = {"Authorization": f"Bearer {mint('cache-admin', 'admin')}"}
    customer = {"Authorization": f"Bearer {mint('cache-customer')}"}
    day = next_test_day()
    body = {"tags": [f"service:{http_catalogue.service_id}"], "mode": "immediate"}
    assert (
        httpx.post(
            redis_gateway_url + "/v1/cache/invalidate", json=body, headers=customer
        ).status_code
        == 403
    )
    assert httpx.post(redis_gateway_url + "/v1/cache/invalidate", json=body).status_code == 401
    _starts(redis_gateway_url, http_catalogue.service_id, day)
    r = httpx.post(redis_gateway_url + "/v1/cache/invalidate", json=body, headers=admin)
    assert r.status_code == 200 and r.json()["entries"] >= 1
    _starts(redis_gateway_url, http_catalogue.service_id, day)
    lazy = {"tags": [f"day:{day.isoformat()}"], "mode": "lazy"}
    r = httpx.post(redis_gateway_url + "/v1/cache/invalidate", json=lazy, headers=admin)
    assert r.status_code == 200 and r.json()["mode"] == "lazy"
    misses = _metric(redis_gateway_url, 'booking_cache_requests_total{result="miss"}')
    _starts(redis_gateway_url, http_catalogue.service_id, day)
    assert _metric(redis_gateway_url, 'booking_cache_requests_total{result="miss"}') == misses + 1
    bad = httpx.post(
        redis_gateway_url + "/v1/cache/invalidate", json={"tags": ["everything"]}, headers=admin
    )
    assert bad.status_code == 422
    warm = httpx.post(
        redis_gateway_url + "/v1/cache/warm",
        headers=admin,
        json={
            "days": 3,
            "service_ids": [http_catalogue.solo_service_id, "00000000-0000-4000-8000-00000000dead"],
        },
    )
    assert warm.status_code == 200, warm.text
    statuses = [s["status"] for s in warm.json()["services"]]
    assert statuses == ["warmed", "unknown-service"]
    popular = httpx.post(redis_gateway_url + "/v1/cache/warm", headers=admin, json={"days": 1})
    assert popular.status_code == 200
    assert popular.json()["services"], "availability reads make a service popular"


@pytest.mark.parametrize("backend", ["local", "redis"])
def test_a_burst_gets_429_with_retry_after(
    backend: str,
    database_url: str,
    http_catalogue: HttpCatalogue,
    mint: Callable[..., str],
    own_redis: tuple[subprocess.Popen[bytes], str],
    gateways: Callable[[str, dict[str, str]], str],
) -> None:
    env = {
        "RATE_LIMIT_PER_SECOND": "1",
        "RATE_LIMIT_BURST": "5",
        "REDIS_URL": own_redis[1] if backend == "redis" else "",
        "RATE_LIMIT_BACKEND": backend,
    }
    base = gateways(database_url, env)
    day = next_test_day()
    url = f"{base}/v1/services/{http_catalogue.service_id}/availability"
    with httpx.Client() as client:
        codes = [client.get(url, params={"date": str(day)}) for _ in range(12)]
    assert [r.status_code for r in codes[:5]] == [200] * 5
    limited = [r for r in codes if r.status_code == 429]
    assert len(limited) >= 6
    assert int(limited[0].headers["retry-after"]) >= 1
    assert limited[0].headers["content-type"] == "application/problem+json"
    assert httpx.get(base + "/health").status_code == 200, "ops routes are not limited"


def test_warm_cache_command_warms_a_running_gateway(
    redis_gateway_url: str, http_catalogue: HttpCatalogue
) -> None:
    import sys

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "gateway.cli",
            "warm-cache",
            "--url",
            redis_gateway_url,
            "--days",
            "2",
            "--service",
            http_catalogue.service_id,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    assert '"warmed"' in out.stdout
