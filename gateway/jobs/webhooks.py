"""The webhook delivery worker, in exactly one process at a time: a lease
(`api.acquire_lock('booking-webhooks', owner, ttl)`) renewed on every round. A round queues new
outbox events for each endpoint (api.webhook_enqueue), takes the due deliveries
(api.webhook_due), sends each endpoint's list in event order (the endpoints side by side), signed
per Standard Webhooks with the `standardwebhooks` package, and records every try (a run of 2xx
answers at once with api.webhook_delivered, a failure with api.webhook_record). A delivery is
recorded only after its answer came: a worker killed in between sends it again, with the same
webhook-id (at least once)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
from standardwebhooks.webhooks import Webhook

from gateway.errors.problem import Problem
from gateway.services.engine import Engine
from gateway.services.webhook_store import DueDelivery, TryOutcome, WebhookStore
from gateway.services.webhook_targets import RefusedTarget, WebhookSettings, check_target

log = logging.getLogger(__name__)

LEASE_KEY = "booking-webhooks"
ENQUEUE_LIMIT = 1000
EXCERPT_CHARS = 256
USER_AGENT = "atomic-booking-webhooks/1"


def signature_header(secrets: list[str], message_id: str, at: datetime, body: str) -> str:
    """The webhook-signature value: one `v1,<base64>` per secret, space-separated."""
    return " ".join(Webhook(s).sign(message_id, at, body) for s in secrets)


@dataclass
class WebhookReport:
    rounds: int = 0
    led_rounds: int = 0
    queued: int = 0
    delivered: int = 0
    failed_tries: int = 0
    dead: int = 0
    last_error: str | None = None


class WebhookWorker:
    def __init__(self, engine: Engine, store: WebhookStore, settings: WebhookSettings) -> None:
        self.engine = engine
        self.store = store
        self.settings = settings
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.token: int | None = None
        self.report = WebhookReport()
        self._task: asyncio.Task[None] | None = None
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(
                settings.read_timeout,
                connect=settings.connect_timeout,
                pool=settings.connect_timeout,
            ),
            follow_redirects=False,
            headers={"user-agent": USER_AGENT},
        )

    @property
    def ttl(self) -> timedelta:
        # a round waits for at most one slow answer per endpoint (they run side by side)
        slowest = self.settings.connect_timeout + self.settings.read_timeout
        return timedelta(seconds=max(5.0, 3 * self.settings.poll_seconds, 2 * slowest + 5))

    def start(self) -> None:
        """Run in the background until stop()."""
        self._task = asyncio.create_task(self.run(), name="booking-webhooks")

    async def stop(self) -> None:
        """Stop, give the lease up, and close the HTTP client."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.release()
        await self._client.aclose()

    async def run(self) -> None:
        while True:
            busy = False
            try:
                busy = await self.run_once()
            except Problem as exc:
                self.report.last_error = exc.detail
                self.token = None
                log.warning("webhook round failed: %s", exc.detail)
            if not busy:
                await asyncio.sleep(self.settings.poll_seconds)

    async def _lease(self) -> bool:
        if self.token is not None and await self.engine.renew_lock(
            None, LEASE_KEY, self.owner, self.token, self.ttl
        ):
            return True
        self.token = await self.engine.acquire_lock(None, LEASE_KEY, self.owner, self.ttl)
        return self.token is not None

    async def run_once(self) -> bool:
        """One round: True when this process held the lease and sent something (go on at once)."""
        self.report.rounds += 1
        if not await self._lease():
            return False
        self.report.led_rounds += 1
        self.report.queued += await self.store.enqueue(ENQUEUE_LIMIT)
        due = await self.store.due(self.settings.per_endpoint, self.settings.endpoints_per_round)
        if not due:
            return False
        per_endpoint: dict[uuid.UUID, list[DueDelivery]] = defaultdict(list)
        for d in due:
            per_endpoint[d.endpoint_id].append(d)
        await asyncio.gather(*(self._send_in_order(items) for items in per_endpoint.values()))
        return True

    async def _send_in_order(self, items: list[DueDelivery]) -> None:
        """One endpoint's deliveries, in event order, until the first that fails. A run of 2xx
        answers is recorded in one statement when the run ends (before a failure is recorded):
        a worker killed before that sends the run again, with the same webhook-ids."""
        answered: list[tuple[int, TryOutcome]] = []
        try:
            for d in items:
                outcome = await self.attempt(d)
                if outcome.ok:
                    answered.append((d.delivery_id, outcome))
                    continue
                await self._flush(answered)
                status = await self.store.record(
                    d.delivery_id,
                    outcome,
                    self.settings.backoff_base,
                    self.settings.backoff_max,
                    self.settings.retry_window,
                    self.settings.disable_after,
                )
                self.report.failed_tries += 1
                if status == "dead":
                    # the next one may go, in the next round: unless this switched the endpoint off
                    self.report.dead += 1
                return
        finally:
            await self._flush(answered)

    async def _flush(self, answered: list[tuple[int, TryOutcome]]) -> None:
        if answered:
            self.report.delivered += await self.store.delivered(answered)
            answered.clear()

    async def attempt(self, d: DueDelivery) -> TryOutcome:
        """POST one delivery; never raises for what the receiver does."""
        started = time.monotonic()

        def took() -> int:
            return int((time.monotonic() - started) * 1000)

        try:
            await check_target(d.url, self.settings.allow_hosts)
        except RefusedTarget as exc:
            return TryOutcome(False, None, f"refused: {exc}", None, took())
        at = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "webhook-id": d.message_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature_header(d.secrets, d.message_id, at, d.body),
        }
        try:
            async with self._client.stream(
                "POST", d.url, content=d.body.encode(), headers=headers
            ) as answer:
                excerpt = await _excerpt(answer)
        except httpx.TimeoutException as exc:
            return TryOutcome(False, None, f"timed out ({type(exc).__name__})", None, took())
        except httpx.HTTPError as exc:
            return TryOutcome(False, None, f"{type(exc).__name__}: {exc}"[:500], None, took())
        ok = 200 <= answer.status_code < 300
        error = None if ok else f"HTTP {answer.status_code}"
        return TryOutcome(ok, answer.status_code, error, excerpt, took())

    async def release(self) -> None:
        if self.token is not None:
            with contextlib.suppress(Problem):
                await self.engine.release_lock(None, LEASE_KEY, self.owner, self.token)
            self.token = None


async def _excerpt(answer: httpx.Response) -> str:
    """The first characters of the body; the rest is never read into memory."""
    taken = b""
    async for chunk in answer.aiter_bytes():
        taken += chunk
        if len(taken) >= EXCERPT_CHARS * 4:
            break
    return taken.decode("utf-8", "replace")[:EXCERPT_CHARS]
