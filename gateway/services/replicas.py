"""Read replicas: hot standbys that serve reads the database layer marks read-only.

A read goes to a replica in rotation (round robin), in one message with a guard statement
before it: `pg_last_wal_replay_lsn()`, which must have reached the read's fence (the request's
`Booking-Consistency` LSN, or an LSN the caller passes). The read's own statement starts after
the guard, so its snapshot holds everything replayed up to the guard's answer. A replica behind
the fence, unreachable, busy, or answering with an error (a replay conflict, or a "not found"
that may only be its lag) yields None and the caller reads from the primary instead: a client
is never answered from a replica older than its own writes, and a failing replica never fails
a request. Writes never come here.

Which replicas are in rotation is the monitor's business (gateway/jobs/replicas.py); a replica
whose connection breaks under a read is taken out at once and put back only by the monitor.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import psycopg
from psycopg import AsyncClientCursor
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import AsyncRowFactory
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from gateway.config import Settings
from gateway.principal import Principal
from gateway.services.consistency import parse_lsn
from gateway.services.db import SET_CALLER, _literal_safe

log = logging.getLogger(__name__)

T = TypeVar("T")

GUARD = "select pg_catalog.pg_last_wal_replay_lsn()::text;\n"
STATUS = "select pg_catalog.pg_is_in_recovery(), pg_catalog.pg_last_wal_replay_lsn()::text"


def replica_name(url: str) -> str:
    """host:port/dbname of a connection URL: a label without credentials."""
    info = conninfo_to_dict(url)
    return f"{info.get('host', 'localhost')}:{info.get('port', '5432')}/{info.get('dbname', '')}"


class Unreachable(Exception):
    """A replica did not answer the monitor's question."""


@dataclass
class Replica:
    """One hot standby: its pool and what the monitor last learned about it."""

    name: str
    pool: AsyncConnectionPool[Any]
    in_rotation: bool = False  # out until the monitor first finds it caught up
    reason: str = "not yet checked"
    replay_lsn: int = 0
    lag_seconds: float | None = None  # None: unknown (unreachable)
    lag_bytes: int | None = None

    async def replayed(self, wait: float) -> int | None:
        """How far this standby has replayed (an LSN); None when it is not a standby. Raises
        Unreachable when it does not answer within `wait` seconds: a server that hangs (stopped,
        not dead) keeps its connections open, so the whole check is bounded."""
        try:
            async with asyncio.timeout(wait), self.pool.connection(timeout=wait) as conn:
                row = await (await conn.execute(STATUS)).fetchone()
        except (psycopg.Error, PoolTimeout, TimeoutError) as exc:
            raise Unreachable(type(exc).__name__) from exc
        in_recovery, replay = row if row is not None else (False, None)
        return parse_lsn(replay) if in_recovery and replay else None

    def take_out(self, reason: str) -> None:
        if self.in_rotation:
            log.warning("replica %s out of rotation: %s", self.name, reason)
        self.in_rotation = False
        self.reason = reason

    def put_back(self) -> None:
        if not self.in_rotation:
            log.warning("replica %s back in rotation", self.name)
        self.in_rotation = True
        self.reason = "caught up"


def make_replica(url: str, settings: Settings) -> Replica:
    """A replica with its own pool (not yet opened). A request waits only briefly for one of its
    connections: when they are all busy, the primary serves."""
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        min_size=1,
        max_size=settings.pool_max_size,
        timeout=0.2,
        kwargs={"autocommit": True, "options": "-c TimeZone=UTC", "connect_timeout": 2},
        open=False,
    )
    return Replica(replica_name(url), pool)


@dataclass
class ReadRouter:
    """The replicas and the routing of read-only statements among them."""

    replicas: list[Replica]
    reads: Counter[str] = field(default_factory=Counter)  # outcome -> count, for /metrics
    _next: int = 0

    def in_rotation(self) -> list[Replica]:
        """The replicas in rotation, starting with the next one's turn."""
        live = [r for r in self.replicas if r.in_rotation]
        if not live:
            return []
        self._next = (self._next + 1) % len(live)
        return live[self._next :] + live[: self._next]

    async def read(
        self,
        principal: Principal | None,
        query: str,
        params: Mapping[str, Any],
        row_factory: AsyncRowFactory[T],
        fence: int,
    ) -> list[T] | None:
        """The rows from a replica that has replayed up to `fence`; None: read the primary."""
        candidates = self.in_rotation()
        if not candidates:
            self.reads["no_replica"] += 1
            return None
        for replica in candidates:
            rows = await self._try(replica, principal, query, params, row_factory, fence)
            if rows is not None:
                self.reads["replica"] += 1
                return rows
        return None

    async def _try(
        self,
        replica: Replica,
        principal: Principal | None,
        query: str,
        params: Mapping[str, Any],
        row_factory: AsyncRowFactory[T],
        fence: int,
    ) -> list[T] | None:
        values = {k: _literal_safe(v) for k, v in params.items()}
        message = GUARD
        if principal is not None:
            message += SET_CALLER
            values |= {"caller_role": principal.db_role, "caller_claims": principal.claims_json}
        try:
            async with replica.pool.connection() as conn:
                cur = AsyncClientCursor(conn, row_factory=row_factory)
                await cur.execute(message + query, values)
                guard = cur.pgresult.get_value(0, 0) if cur.pgresult is not None else None
                replayed = parse_lsn(guard.decode()) if guard else None
                if replayed is None:
                    replica.take_out("not a standby (no replay position)")
                    self.reads["failed"] += 1
                    return None
                replica.replay_lsn = max(replica.replay_lsn, replayed)
                if replayed < fence:
                    self.reads["behind_fence"] += 1
                    return None
                if principal is not None:
                    cur.nextset()
                cur.nextset()
                rows: list[T] = await cur.fetchall()
                return rows
        except PoolTimeout:
            self.reads["busy"] += 1
            return None
        except psycopg.Error as exc:
            # an error is the primary's to answer: raised by the read's own statement, it comes
            # before the guard could be judged, and a replica behind the fence may well answer
            # "not found" for what the client has just created
            if isinstance(exc, psycopg.OperationalError) or exc.sqlstate is None:
                replica.take_out(f"read failed: {exc}".splitlines()[0])
            self.reads["failed"] += 1
            return None
