"""The periodic maintenance job, in exactly one process at a time: a lease
(`api.acquire_lock('booking-maintenance', owner, ttl)`) renewed on every run. The holder expires
lapsed holds (each emits hold:expired and availability:updated through the outbox), removes
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

from gateway.http.problems import Problem
from gateway.services.db import Database

log = logging.getLogger(__name__)

LEASE_KEY = "booking-maintenance"
PRUNE_EVERY_RUNS = 60


@dataclass
class MaintenanceReport:
    runs: int = 0
    led_runs: int = 0
    expired_holds: int = 0
    pruned_events: int = 0
    last_error: str | None = None
    totals: dict[str, int] = field(default_factory=dict)


class Maintenance:
    def __init__(self, db: Database, interval: float, retention_seconds: int | None) -> None:
        self.db = db
        self.interval = max(0.05, interval)
        self.retention = retention_seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.token: int | None = None
        self.report = MaintenanceReport()

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
            renewed = await self.db.fetch_value(
                None,
                "select api.renew_lock(p_key => %(k)s::text, p_owner => %(o)s::text,"
                " p_token => %(t)s::bigint, p_ttl => %(ttl)s::interval)",
                {"k": LEASE_KEY, "o": self.owner, "t": self.token, "ttl": self.ttl},
            )
            if renewed:
                return True
        token = await self.db.fetch_value(
            None,
            "select api.acquire_lock(p_key => %(k)s::text, p_owner => %(o)s::text,"
            " p_ttl => %(ttl)s::interval)",
            {"k": LEASE_KEY, "o": self.owner, "ttl": self.ttl},
        )
        self.token = int(token) if token is not None else None
        return self.token is not None

    async def run_once(self) -> bool:
        """One run: True when this process held the lease and did the work."""
        self.report.runs += 1
        if not await self._lease():
            return False
        self.report.led_runs += 1
        self.report.expired_holds += int(
            await self.db.fetch_value(None, "select api.cleanup_expired_holds()", {})
        )
        await self.db.fetch_value(None, "select api.cleanup_expired_locks()", {})
        await self.db.fetch_value(None, "select api.cleanup_expired_idempotency_keys()", {})
        if self.report.led_runs % PRUNE_EVERY_RUNS == 1:
            self.report.pruned_events += int(
                await self.db.fetch_value(
                    None,
                    "select api.prune_events(p_older_than => %(keep)s::interval)",
                    {"keep": timedelta(seconds=self.retention) if self.retention else None},
                )
            )
        return True

    async def release(self) -> None:
        if self.token is not None:
            with contextlib.suppress(Problem):
                await self.db.fetch_value(
                    None,
                    "select api.release_lock(p_key => %(k)s::text, p_owner => %(o)s::text,"
                    " p_token => %(t)s::bigint)",
                    {"k": LEASE_KEY, "o": self.owner, "t": self.token},
                )
            self.token = None
