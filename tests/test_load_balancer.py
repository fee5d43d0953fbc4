"""nginx in front of two gateways, configured as docs/OPERATIONS.md shows (the block runs as it
stands, only its addresses replaced): HTTP reaches both gateways, a websocket passes through, and
every client behind it has a per-IP rate limit of its own, which writing X-Forwarded-For does not
escape."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from gateway.client import BookingClient
from testkit.ports import free_port
from testkit.throwaway_redis import start_redis
from tests.fixtures import HttpCatalogue, next_test_day, running_gateway
from tests.support.availability_reads import metric
from tests.support.wsclient import connect, next_event, subscribe

ROOT = Path(__file__).resolve().parent.parent
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")  # scripts/ensure-nginx.sh installs it
BLOCK = re.compile(
    r"<!-- nginx: tests/test_load_balancer.py runs this block -->\n```nginx\n(.*?)```", re.S
)
UPSTREAM = re.compile(r"^(\s*server )\S+:\d+", re.M)
LISTEN = re.compile(r"^(\s*listen )80;", re.M)
# the per-IP budget of the gateways here: 4 requests, then one every 5 s (none within the test)
BURST, PER_SECOND = 4, 0.2
READY_SERVED = (
    'booking_http_request_duration_seconds_count{method="GET",route="/ready",status="200"}'
)


def documented_site(port: int, upstreams: list[str]) -> str:
    """The nginx block of docs/OPERATIONS.md, listening on 127.0.0.1:`port`, its upstream servers
    the given gateways."""
    found = BLOCK.findall((ROOT / "docs" / "OPERATIONS.md").read_text(encoding="utf-8"))
    assert len(found) == 1, "docs/OPERATIONS.md shows one nginx block, marked for this test"
    addresses = iter(u.removeprefix("http://") for u in upstreams)
    site, servers = UPSTREAM.subn(lambda m: m.group(1) + next(addresses), found[0])
    assert servers == len(upstreams), f"the block names {servers} upstream servers"
    site, listens = LISTEN.subn(rf"\g<1>127.0.0.1:{port};", site)
    assert listens == 1, "the block listens on port 80 once"
    return site


@contextmanager
def running_nginx(upstreams: list[str]) -> Iterator[str]:
    """nginx (a process of its own, with its own files) serving the documented block in front of
    `upstreams`; its base URL once it answers."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="booking-nginx-") as tmp:
        os.chmod(tmp, 0o755)  # nginx started by root runs its worker as nobody
        temp_paths = "".join(
            f"    {kind}_temp_path {tmp}/{kind};\n"
            for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
        )
        conf = Path(tmp) / "nginx.conf"
        conf.write_text(
            f"worker_processes 1;\npid {tmp}/nginx.pid;\nerror_log {tmp}/error.log;\n"
            "events { worker_connections 256; }\n"
            f"http {{\n    access_log off;\n{temp_paths}{documented_site(port, upstreams)}}}\n",
            encoding="utf-8",
        )
        proc = subprocess.Popen(
            [NGINX, "-p", tmp, "-c", str(conf), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 10
            while True:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                try:
                    if httpx.get(base + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "nginx did not answer within 10 s"
                time.sleep(0.05)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


@pytest.fixture(scope="module")
def balanced(database_url: str) -> Iterator[tuple[str, list[str]]]:
    """(nginx's base URL, the two gateways' base URLs): gateways on the session database and a
    Redis of this module's own (their small per-IP budget touches no other test)."""
    port = free_port()
    redis = start_redis(port)
    env = {
        "REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "RATE_LIMIT_PER_SECOND": str(PER_SECOND),
        "RATE_LIMIT_BURST": str(BURST),
    }
    try:
        with ExitStack() as stack:
            gateways = [stack.enter_context(running_gateway(database_url, env)) for _ in range(2)]
            yield stack.enter_context(running_nginx(gateways)), gateways
    finally:
        redis.terminate()
        redis.wait(10)


def test_http_through_nginx_reaches_both_gateways(balanced: tuple[str, list[str]]) -> None:
    front, gateways = balanced
    served = [metric(httpx.get(g + "/metrics").text, READY_SERVED) for g in gateways]
    for _ in range(6):
        r = httpx.get(front + "/ready")
        assert r.status_code == 200 and r.json()["database"] == "ok", r.text
    now = [metric(httpx.get(g + "/metrics").text, READY_SERVED) for g in gateways]
    assert sum(now) - sum(served) == 6
    assert all(after > before for before, after in zip(served, now, strict=True)), now


async def test_a_websocket_through_nginx_hears_a_hold_made_through_nginx(
    balanced: tuple[str, list[str]], http_catalogue: HttpCatalogue, mint: Callable[..., str]
) -> None:
    front, _ = balanced
    cat, day = http_catalogue, next_test_day()
    topic = f"availability:{cat.solo_service_id}:{day.isoformat()}"
    ws = await connect(front, mint("lb-watcher"))
    await subscribe(ws, [topic])
    async with BookingClient(front, mint("lb-holder")) as c:
        hold = await c.create_hold(cat.solo_service_id, cat.at(day, 10), cat.at(day, 11))
    assert hold.status_code == 201, hold.text
    event = await next_event(ws)
    assert (event["topic"], event["payload"]["reservation_id"]) == (topic, hold.json()["hold_id"])
    await ws.close()


def test_each_client_behind_nginx_has_its_own_ip_budget(
    balanced: tuple[str, list[str]], http_catalogue: HttpCatalogue
) -> None:
    """Two clients on different addresses (127.0.0.2 and 127.0.0.3, both loopback) reach the
    gateways only through nginx, so only X-Forwarded-For can tell them apart."""
    front, _ = balanced
    path = f"/v1/services/{http_catalogue.solo_service_id}/availability?date={next_test_day()}"

    def client(address: str) -> httpx.Client:
        return httpx.Client(base_url=front, transport=httpx.HTTPTransport(local_address=address))

    with client("127.0.0.2") as first, client("127.0.0.3") as second:
        codes = [first.get(path).status_code for _ in range(BURST + 1)]
        assert codes == [200] * BURST + [429]
        # what a client writes in the header itself is not the address nginx saw
        spoofed = first.get(path, headers={"X-Forwarded-For": "203.0.113.9"})
        assert spoofed.status_code == 429
        assert second.get(path).status_code == 200  # the other client's budget is untouched
