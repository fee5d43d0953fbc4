"""The periodic maintenance job, in exactly one process at a time: a lease
(`api.acquire_lock('booking-maintenance', owner, ttl)`) renewed on every run. The holder expires
lapsed holds (each emits hold:expired and availability:updated through the outbox, and offers
their time to the waiting lists), marks waiting-list entries whose start has come lapsed, removes
lapsed leases and idempotency records, and prunes the event log."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from gateway.errors.problem import Problem
from gateway.services.engine import Engine

log = logging.getLogger(__name__)

LEASE_KEY = "booking-maintenance"
PRUNE_EVERY_RUNS = 60


@dataclass
class MaintenanceReport:
    runs: int = 0
    led_runs: int = 0
    expired_holds: int = 0
    lapsed_waitlist_entries: int = 0
    pruned_events: int = 0
    last_error: str | None = None
    totals: dict[str, int] = field(default_factory=dict)


class Maintenance:
    def __init__(self, engine: Engine, interval: float, retention_seconds: int | None) -> None:
        self.engine = engine
        self.interval = max(0.05, interval)
        self.retention = retention_seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.token: int | None = None
        self.report = MaintenanceReport()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Run in the background until stop()."""
        self._task = asyncio.create_task(self.run(), name="booking-maintenance")

    async def stop(self) -> None:
        """Stop running and give the lease up, so another process can lead at once."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        await self.release()

    @property
    def ttl(self) -> timedelta:
        return timedelta(seconds=max(1.0, self.interval * 3))

    async def run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Problem as exc:
                self.report.last_error = exc.detail
                self.token = None
                log.warning("maintenance run failed: %s", exc.detail)
            await asyncio.sleep(self.interval)

    async def _lease(self) -> bool:
        if self.token is not None:
            renewed = await self.engine.renew_lock(
                None, LEASE_KEY, self.owner, self.token, self.ttl
            )
            if renewed:
                return True
        self.token = await self.engine.acquire_lock(None, LEASE_KEY, self.owner, self.ttl)
        return self.token is not None

    async def run_once(self) -> bool:
        """One run: True when this process held the lease and did the work."""
        self.report.runs += 1
        if not await self._lease():
            return False
        self.report.led_runs += 1
        self.report.expired_holds += await self.engine.cleanup_expired_holds()
        self.report.lapsed_waitlist_entries += await self.engine.cleanup_waitlist()
        await self.engine.cleanup_expired_locks()
        await self.engine.cleanup_expired_idempotency_keys()
        if self.report.led_runs % PRUNE_EVERY_RUNS == 1:
            keep = timedelta(seconds=self.retention) if self.retention else None
            self.report.pruned_events += await self.engine.prune_events(keep)
        return True

    async def release(self) -> None:
        if self.token is not None:
            with contextlib.suppress(Problem):
                await self.engine.release_lock(None, LEASE_KEY, self.owner, self.token)
            self.token = None
