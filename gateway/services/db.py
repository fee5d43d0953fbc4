"""Database access: one transaction per request, the caller's role and claims set in it, and
the api call sent in the same round trip. Serialization failures and deadlocks are retried with
jittered exponential backoff.

The role switch is its own statement: EXECUTE privilege is checked when a statement is planned,
so a `set_config('role', ...)` in the same statement as the call would come too late. The two
statements travel as one simple-protocol message (values bound client-side by psycopg, which
quotes them): PostgreSQL runs the statements of one such message as one implicit transaction,
planning each after the one before has run, so `set_config(..., true)` lasts exactly as long as
the call. Measured against an explicit transaction in pipeline mode (BEGIN, set_config, call,
COMMIT), this halves the gateway's CPU per call (docs/ARCHITECTURE.md, "Gateway cost per write").

A request waits up to `pool_timeout` for a free connection, so a burst queues instead of failing.
Once a connection is found dead, the database is taken for unreachable and requests wait only
`pool_down_timeout` before a 503 (with Retry-After), instead of queueing for connections that
cannot be made; the pool keeps reconnecting in the background, and its first new connection
ends that state.

Reads marked `read_only` may be served by a hot-standby replica (gateway/services/replicas.py)
that has replayed past the read's fence; everything else, and every read no replica can serve,
goes to the primary.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg import AsyncClientCursor
from psycopg.rows import AsyncRowFactory, tuple_row
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from gateway.config import Settings
from gateway.errors.problem import Problem, from_sqlstate, unavailable
from gateway.errors.registry import RETRYABLE
from gateway.principal import Principal
from gateway.services.consistency import request_fence

if TYPE_CHECKING:
    from gateway.services.replicas import ReadRouter

log = logging.getLogger(__name__)

T = TypeVar("T")

SET_CALLER = (
    "select set_config('role', %(caller_role)s::text, true),"
    " set_config('request.jwt.claims', %(caller_claims)s::text, true);\n"
)
BACKOFF_BASE = 0.01
BACKOFF_CAP = 0.2


def _literal_safe(value: Any) -> Any:
    """A value as client-side binding may render it: an aware time in UTC (PostgreSQL refuses a
    literal offset beyond 15:59, which Python accepts; the instant is the same)."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC)
    return value


class Reachability:
    """Whether the database can be reached: false from a connection found dead until the pool
    makes its next connection."""

    def __init__(self) -> None:
        self.reachable = True

    async def connected(self, conn: psycopg.AsyncConnection[Any]) -> None:
        """The pool's `configure` callback: called for every connection it makes."""
        if not self.reachable:
            log.warning("database reachable again")
        self.reachable = True

    def lost(self) -> None:
        """A connection the pool handed out turned out dead (the server went away)."""
        if self.reachable:
            log.warning("a database connection was found dead: failing fast until reconnected")
        self.reachable = False


def make_pool(settings: Settings, reachability: Reachability) -> AsyncConnectionPool[Any]:
    """The gateway's connection pool (not yet opened)."""
    return AsyncConnectionPool(
        settings.database_url or "",
        min_size=settings.pool_min_size,
        max_size=settings.pool_max_size,
        timeout=settings.pool_timeout,
        kwargs={"autocommit": True, "options": "-c TimeZone=UTC"},
        configure=reachability.connected,
        open=False,
    )


class Database:
    """The pool plus the one way the gateway talks to PostgreSQL."""

    def __init__(
        self,
        pool: AsyncConnectionPool[Any],
        max_retries: int,
        reachability: Reachability,
        down_timeout: float,
        router: ReadRouter | None = None,
    ) -> None:
        self.pool = pool
        self.max_retries = max_retries
        self.reachability = reachability
        self.down_timeout = down_timeout
        self.router = router  # replicas for read-only statements; None: the primary only

    async def fetch_all(
        self,
        principal: Principal | None,
        query: str,
        params: Mapping[str, Any],
        row_factory: AsyncRowFactory[T],
        *,
        read_only: bool = False,
        fence: int = 0,
    ) -> list[T]:
        """Run one statement as `principal` (or the login role) and return its rows.

        `read_only`: the statement writes nothing, so a replica may answer it if it has replayed
        up to `fence` and to the request's own fence (an LSN; 0 for none)."""
        if read_only and self.router is not None:
            rows = await self.router.read(
                principal, query, params, row_factory, max(fence, request_fence())
            )
            if rows is not None:
                return rows
        attempt = 0
        while True:
            try:
                return await self._once(principal, query, params, row_factory)
            except psycopg.Error as exc:
                if exc.sqlstate in RETRYABLE and attempt < self.max_retries:
                    attempt += 1
                    await asyncio.sleep(
                        random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))
                    )
                    continue
                raise _problem(exc) from exc
            except PoolTimeout as exc:
                if not self.reachability.reachable:
                    raise unavailable("the database is unreachable") from exc
                raise unavailable("no database connection became free in time") from exc

    async def fetch_one(
        self,
        principal: Principal | None,
        query: str,
        params: Mapping[str, Any],
        row_factory: AsyncRowFactory[T],
        *,
        read_only: bool = False,
        fence: int = 0,
    ) -> T:
        """The single row of one statement."""
        rows = await self.fetch_all(
            principal, query, params, row_factory, read_only=read_only, fence=fence
        )
        if len(rows) != 1:
            raise Problem(
                500,
                "internal-error",
                "Internal error",
                f"the call returned {len(rows)} rows, expected one",
            )
        return rows[0]

    async def fetch_value(
        self,
        principal: Principal | None,
        query: str,
        params: Mapping[str, Any],
        *,
        read_only: bool = False,
        fence: int = 0,
    ) -> Any:
        """The first column of the single row."""
        row = await self.fetch_one(
            principal, query, params, tuple_row, read_only=read_only, fence=fence
        )
        return row[0]

    @property
    def replicas_serving(self) -> bool:
        """Whether some replica is in rotation (a read marked read-only may go there)."""
        return self.router is not None and any(r.in_rotation for r in self.router.replicas)

    async def write_position(self) -> int:
        """The primary's WAL flush position: a transaction is visible to others only once its
        commit is flushed (synchronous_commit on, the default), so this is at or past the commit
        of every write answered so far, and a replica that has replayed up to it shows them
        all. (The insert position would be safe under synchronous_commit off too, but it runs
        ahead of what any replica can have received while other writes are in flight.)"""
        from gateway.services.consistency import parse_lsn

        text = await self.fetch_value(
            None, "select pg_catalog.pg_current_wal_flush_lsn()::text", {}
        )
        return parse_lsn(str(text)) or 0

    async def _once(
        self,
        principal: Principal | None,
        query: str,
        params: Mapping[str, Any],
        row_factory: AsyncRowFactory[T],
    ) -> list[T]:
        wait = None if self.reachability.reachable else self.down_timeout  # None: pool_timeout
        async with self.pool.connection(timeout=wait) as conn:
            try:
                if principal is None:
                    cur = conn.cursor(row_factory=row_factory)
                    await cur.execute(query, params)
                    rows: list[T] = await cur.fetchall()
                    return rows
                # one message, one implicit transaction: the caller's role, then the call
                as_caller = AsyncClientCursor(conn, row_factory=row_factory)
                await as_caller.execute(
                    SET_CALLER + query,
                    {
                        **{k: _literal_safe(v) for k, v in params.items()},
                        "caller_role": principal.db_role,
                        "caller_claims": principal.claims_json,
                    },
                )
                as_caller.nextset()
                rows = await as_caller.fetchall()
                return rows
            except psycopg.OperationalError:
                if conn.broken:
                    self.reachability.lost()
                raise

    async def ping(self) -> bool:
        try:
            async with self.pool.connection(timeout=2) as conn:
                await conn.execute("select 1")
            return True
        except (psycopg.Error, PoolTimeout):
            return False


def _problem(exc: psycopg.Error) -> Problem:
    state = exc.sqlstate
    if state is None and isinstance(exc, psycopg.DataError):
        return from_sqlstate("22023", f"a value cannot be sent to the database: {exc}")
    if state is None or state.startswith(("08", "53", "57")):
        log.warning("database unavailable: %s", exc)
        return unavailable("the database is unavailable")
    diag = exc.diag
    problem = from_sqlstate(state, diag.message_primary, diag.message_hint)
    if problem.status >= 500:
        log.error("unmapped database error %s: %s", state, exc)
    return problem
