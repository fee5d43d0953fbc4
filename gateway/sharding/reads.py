"""Reads that span locations, so shards: each shard answers as with one database and the answers
are merged in the order one database would give. A shard's rows for a location the directory
places elsewhere (a copy left behind by a move) are dropped. A limit stays correct: every shard
returns its first `limit` rows, and the first `limit` of the merge are the first `limit` of all."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from gateway.principal import Principal
from gateway.services.catalogue_results import LocationSummary
from gateway.services.results import (
    ActiveConflict,
    Recommendation,
    Reservation,
    WaitlistEntry,
)
from gateway.sharding.router import Router


async def customer_reservations(
    router: Router,
    who: Principal,
    user_id: str,
    start: datetime | None,
    end: datetime | None,
    limit: int,
) -> list[Reservation]:
    """A customer's holds and bookings at every location, newest first (ties by id, newest
    first), at most `limit`."""
    if not router.sharded:
        return await router.engines[0].list_reservations(who, user_id, start, end, limit)
    answers = await router.every(lambda e: e.list_reservations(who, user_id, start, end, limit))
    rows = [r for shard, rs in answers for r in rs if router.placed_here(shard, r["location_id"])]
    rows.sort(key=lambda r: (datetime.fromisoformat(r["start_time"]), r["id"]), reverse=True)
    return rows[:limit]


async def locations(router: Router, who: Principal | None) -> list[LocationSummary]:
    """The open locations of every shard, by name then id (as `api.list_locations` orders)."""
    if not router.sharded:
        return await router.engines[0].list_locations(who)
    answers = await router.every(lambda e: e.list_locations(who))
    rows = [r for shard, rs in answers for r in rs if router.placed_here(shard, r["id"])]
    rows.sort(key=lambda r: (r["name"], UUID(r["id"])))
    return rows


async def customer_waitlist(
    router: Router, who: Principal, user_id: str, include_ended: bool
) -> list[WaitlistEntry]:
    """A customer's waiting-list entries at every location, by start, joining time and id."""
    if not router.sharded:
        return await router.engines[0].list_customer_waitlist(who, user_id, include_ended)
    answers = await router.every(lambda e: e.list_customer_waitlist(who, user_id, include_ended))
    rows = [r for shard, rs in answers for r in rs if router.placed_here(shard, r["location_id"])]
    rows.sort(
        key=lambda r: (
            datetime.fromisoformat(r["start_time"]),
            datetime.fromisoformat(r["joined_at"]),
            UUID(r["entry_id"]),
        )
    )
    return rows


async def active_conflicts(router: Router, who: Principal) -> list[ActiveConflict]:
    """Open conflicts at every location, oldest first (then by id)."""
    if not router.sharded:
        return await router.engines[0].active_conflicts(who)
    answers = await router.every(lambda e: e.active_conflicts(who))
    rows = [r for shard, rs in answers for r in rs if router.placed_here(shard, r["location_id"])]
    rows.sort(key=lambda r: (datetime.fromisoformat(r["detected_at"]), UUID(r["conflict_id"])))
    return rows


async def conflict_recommendations(router: Router, who: Principal) -> list[Recommendation]:
    """Every shard's recommendations: most conflicts first, then by service name, hour and text
    (as `api.conflict_recommendations` orders them)."""
    if not router.sharded:
        return await router.engines[0].conflict_recommendations(who)
    answers = await router.every(lambda e: e.conflict_recommendations(who))
    rows = [r for _, rs in answers for r in rs]
    rows.sort(
        key=lambda r: (-r["conflicts"], r["service_name"], r["local_hour"], r["recommendation"])
    )
    return rows
