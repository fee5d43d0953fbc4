"""The router: which shard's engine serves a request. A location id routes through the directory;
any other id (service, resource, hold or booking, waiting-list entry, schedule exception,
conflict, webhook endpoint) through its location, which the router learns once by asking every
shard (`api.locate`) and then keeps: an entity never changes location, so the answer never goes
stale, and moving a location to another shard changes only the directory. Reads that span
locations (a customer's bookings, the list of locations) go to every shard and are merged.

With one database (no directory) every method answers that database's engine without any I/O,
so an unsharded gateway behaves exactly as before."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar
from uuid import UUID

from prometheus_client import Counter

from gateway.errors.problem import from_sqlstate
from gateway.http.problems import validation
from gateway.services.db import Database
from gateway.services.engine import Engine
from gateway.sharding.directory import ShardDirectory

T = TypeVar("T")

MAX_REMEMBERED = 200_000


@dataclass(frozen=True, slots=True)
class Shard:
    name: str
    db: Database
    engine: Engine


class Router:
    def __init__(
        self,
        shards: list[Shard],
        directory: ShardDirectory | None,
        calls: Counter | None = None,
    ) -> None:
        if not shards:
            raise ValueError("a router needs a shard")
        if directory is None and len(shards) != 1:
            raise ValueError("several shards need a directory")
        self.shards = shards
        self.by_name = {s.name: s for s in shards}
        self.directory = directory
        self.calls = calls  # booking_shard_calls_total{shard, purpose}
        self.located: OrderedDict[UUID, UUID] = OrderedDict()  # entity id -> location id

    @property
    def sharded(self) -> bool:
        return self.directory is not None

    @property
    def engines(self) -> list[Engine]:
        return [s.engine for s in self.shards]

    def _count(self, shard: Shard, purpose: str) -> None:
        if self.calls is not None and self.sharded:
            self.calls.labels(shard.name, purpose).inc()

    def shard_of_location(self, location_id: UUID) -> Shard:
        """The shard the directory places this location on; BK019 (404) when it places it on
        none: for this deployment, the location does not exist."""
        if self.directory is None:
            return self.shards[0]
        name = self.directory.shard_of(location_id)
        if name is None:
            raise from_sqlstate(
                "BK019",
                f"location {location_id} does not exist",
                "List locations and pass one of their ids.",
            )
        return self.by_name[name]

    async def location(self, location_id: UUID) -> Engine:
        """The engine of the shard holding this location."""
        shard = self.shard_of_location(location_id)
        self._count(shard, "routed")
        return shard.engine

    def placing(self, location_id: UUID | None) -> Engine:
        """The engine to create a new location on: the directory must place it (its id chosen by
        the operator and written in the directory first, docs/OPERATIONS.md)."""
        if self.directory is None:
            return self.shards[0].engine
        if location_id is None or self.directory.shard_of(location_id) is None:
            raise validation(
                "with several shards a new location needs an id the shard directory already"
                " places on a shard (BOOKING_SHARD_DIRECTORY)",
                [{"field": "id", "in": "body", "message": "is not in the shard directory"}],
            )
        shard = self.shard_of_location(location_id)
        self._count(shard, "routed")
        return shard.engine

    async def entity(self, entity_id: UUID) -> Engine:
        """The engine of the shard holding the location of this service, resource, hold or
        booking, waiting-list entry, schedule exception, conflict or webhook endpoint. An id no
        shard knows goes to the first shard, whose database answers its own not-found error."""
        if self.directory is None:
            return self.shards[0].engine
        location = self.located.get(entity_id)
        if location is None:
            location = await self._locate(entity_id)
        if location is None:
            self._count(self.shards[0], "unknown")
            return self.shards[0].engine
        return await self.location(location)

    async def topic_shard(self, topic: str) -> tuple[str, Engine] | None:
        """The shard whose event log holds a realtime topic: `availability:<service>:<day>` and
        `service:<id>` by the service's location, `location:<id>` by the location; None for a
        `user:` topic (it hears every shard), or an id no shard holds."""
        kind, _, rest = topic.partition(":")
        try:
            if kind in ("availability", "service"):
                entity = UUID(rest.split(":")[0])
                location = self.located.get(entity) or await self._locate(entity)
            elif kind == "location":
                location = UUID(rest)
            else:
                return None
        except ValueError:
            return None
        if location is None or self.directory is None:
            return None
        name = self.directory.shard_of(location)
        return None if name is None else (name, self.by_name[name].engine)

    def known(self, entity_id: UUID) -> UUID | None:
        """The location of an entity the router has already located (None with one database)."""
        return self.located.get(entity_id)

    def remember(self, entity_id: UUID, location_id: UUID) -> None:
        """An entity's location, learnt from a result (a new hold, service ...)."""
        if self.directory is None:
            return
        self.located[entity_id] = location_id
        self.located.move_to_end(entity_id)
        while len(self.located) > MAX_REMEMBERED:
            self.located.popitem(last=False)

    async def _locate(self, entity_id: UUID) -> UUID | None:
        """Ask every shard; only the shard the directory names for the location it answers is
        believed (after a move, the old shard's copy is not)."""
        assert self.directory is not None

        async def ask(shard: Shard) -> UUID | None:
            self._count(shard, "locate")
            return await shard.engine.locate(entity_id)

        # a shard that is down must not keep the others' entities from being found
        answers = await asyncio.gather(*(ask(s) for s in self.shards), return_exceptions=True)
        failed: BaseException | None = None
        for shard, location in zip(self.shards, answers, strict=True):
            if isinstance(location, BaseException):
                failed = location
            elif location is not None and self.directory.shard_of(location) == shard.name:
                self.remember(entity_id, location)
                return location
        if failed is not None:  # not found on the shards that answered: it may be on that one
            raise failed
        return None

    async def every(self, call: Callable[[Engine], Awaitable[T]]) -> list[tuple[Shard, T]]:
        """`call` on every shard's engine at once, with each shard's answer."""
        for shard in self.shards:
            self._count(shard, "fanout")
        answers = await asyncio.gather(*(call(s.engine) for s in self.shards))
        return list(zip(self.shards, answers, strict=True))

    def placed_here(self, shard: Shard, location_id: UUID | str) -> bool:
        """Whether the directory places this location on `shard` (a fan-out read keeps only
        those rows: a copy left on a shard a location moved away from is not the record)."""
        if self.directory is None:
            return True
        loc = location_id if isinstance(location_id, UUID) else UUID(location_id)
        return self.directory.shard_of(loc) == shard.name
