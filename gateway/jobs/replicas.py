"""The replica monitor: every few hundred milliseconds it reads the primary's WAL position and asks
each replica how far it has replayed, and from that how far behind it is in time. A replica that
does not answer, is not a standby, or is more than `max_lag` seconds behind is taken out of
rotation; it is put back once it answers again and is within half that bound.

The lag is measured against the primary's own positions: the monitor remembers when the primary
was at each position it read, and a replica that has replayed up to a position the primary held
at time t is behind by at most now - t. An idle primary writes nothing, so an idle replica is
never behind, however long ago its last replayed transaction was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import deque

from gateway.errors.problem import Problem
from gateway.services.db import Database
from gateway.services.replicas import ReadRouter, Replica, Unreachable

log = logging.getLogger(__name__)


class ReplicaMonitor:
    def __init__(
        self, router: ReadRouter, primary: Database, interval: float, max_lag: float
    ) -> None:
        self.router = router
        self.primary = primary
        self.interval = max(0.02, interval)
        self.max_lag = max_lag
        # (monotonic time, primary position): enough history to measure lags past the bound
        keep = math.ceil((2 * max_lag + 2) / self.interval) + 2
        self.samples: deque[tuple[float, int]] = deque(maxlen=keep)
        self.polls = 0
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name="booking-replica-monitor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                await self.poll_once()
            except Exception:  # the monitor must outlive any one poll
                log.exception("replica monitor poll failed")
            await asyncio.sleep(max(0.0, self.interval - (time.monotonic() - started)))

    async def poll_once(self) -> None:
        self.polls += 1
        now = time.monotonic()
        with contextlib.suppress(Problem):  # the primary down: judge against what was known
            self.samples.append((now, await self.primary.write_position()))
        for replica in self.router.replicas:
            await self.check(replica)

    def lag(self, replayed: int, now: float) -> float:
        """Seconds since the newest primary position the replica has replayed past (at least
        the whole remembered history when it has replayed none of them)."""
        for at, position in reversed(self.samples):
            if position <= replayed:
                return max(0.0, now - at)
        return now - self.samples[0][0] if self.samples else 0.0

    async def check(self, replica: Replica) -> None:
        try:
            replayed = await replica.replayed(wait=max(1.0, 4 * self.interval))
        except Unreachable as exc:
            replica.lag_seconds = None
            replica.lag_bytes = None
            replica.take_out(f"unreachable: {exc}")
            return
        if replayed is None:
            replica.lag_seconds = None
            replica.lag_bytes = None
            replica.take_out("not a standby")
            return
        replica.replay_lsn = replayed
        lag = self.lag(replayed, time.monotonic())
        replica.lag_seconds = lag
        replica.lag_bytes = max(0, self.samples[-1][1] - replayed) if self.samples else None
        if replica.in_rotation and lag > self.max_lag:
            replica.take_out(f"{lag:.1f} s behind the primary (bound {self.max_lag:g} s)")
        elif not replica.in_rotation and lag <= self.max_lag / 2:
            replica.put_back()
