"""The webhook tables through their api.* functions (sql/functions/47_webhooks.sql): the admin
calls (as the caller) and the delivery worker's queue calls (as the gateway)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from uuid import UUID

from psycopg.rows import class_row

from gateway.principal import Principal
from gateway.services.db import Database


@dataclass(frozen=True)
class DueDelivery:
    """One delivery to send: where, signed with which secrets, and the exact body."""

    delivery_id: int
    endpoint_id: UUID
    url: str
    secrets: list[str]
    message_id: str
    body: str
    attempts: int


@dataclass(frozen=True)
class TryOutcome:
    """What one try came to, as api.webhook_record stores it."""

    ok: bool
    status_code: int | None
    error: str | None
    excerpt: str | None
    duration_ms: int


class WebhookStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # the delivery worker (no caller: the gateway's own role)

    async def enqueue(self, limit: int) -> int:
        queued: int = await self.db.fetch_value(
            None, "select api.webhook_enqueue(p_limit => %(limit)s::int)", {"limit": limit}
        )
        return queued

    async def due(self, per_endpoint: int, endpoints: int) -> list[DueDelivery]:
        return await self.db.fetch_all(
            None,
            "select delivery_id, endpoint_id, url, secrets, message_id, body, attempts"
            " from api.webhook_due(p_per_endpoint => %(per)s::int, p_endpoints => %(eps)s::int)",
            {"per": per_endpoint, "eps": endpoints},
            class_row(DueDelivery),
        )

    async def record(
        self,
        delivery_id: int,
        outcome: TryOutcome,
        backoff_base: timedelta,
        backoff_max: timedelta,
        window: timedelta,
        disable_after: int,
    ) -> str:
        status: str = await self.db.fetch_value(
            None,
            "select api.webhook_record(p_delivery_id => %(id)s::bigint, p_ok => %(ok)s::bool,"
            " p_status_code => %(code)s::int, p_error => %(error)s::text,"
            " p_response_excerpt => %(excerpt)s::text, p_duration_ms => %(ms)s::int,"
            " p_backoff_base => %(base)s::interval, p_backoff_max => %(max)s::interval,"
            " p_window => %(window)s::interval, p_disable_after => %(disable)s::int)",
            {
                "id": delivery_id,
                "ok": outcome.ok,
                "code": outcome.status_code,
                "error": outcome.error,
                "excerpt": outcome.excerpt,
                "ms": outcome.duration_ms,
                "base": backoff_base,
                "max": backoff_max,
                "window": window,
                "disable": disable_after,
            },
        )
        return status

    async def delivered(self, tries: list[tuple[int, TryOutcome]]) -> int:
        """Record a run of 2xx answers in one statement."""
        count: int = await self.db.fetch_value(
            None,
            "select api.webhook_delivered(p_delivery_ids => %(ids)s::bigint[],"
            " p_status_codes => %(codes)s::int[], p_response_excerpts => %(excerpts)s::text[],"
            " p_durations_ms => %(ms)s::int[])",
            {
                "ids": [i for i, _ in tries],
                "codes": [o.status_code for _, o in tries],
                "excerpts": [o.excerpt for _, o in tries],
                "ms": [o.duration_ms for _, o in tries],
            },
        )
        return count

    # admins (the database checks the role and the location)

    async def create_endpoint(
        self,
        who: Principal,
        location_id: UUID,
        url: str,
        event_types: list[str] | None,
        description: str,
        active: bool,
    ) -> dict[str, Any]:
        answer: dict[str, Any] = await self.db.fetch_value(
            who,
            "select api.create_webhook_endpoint(p_location_id => %(loc)s::uuid,"
            " p_url => %(url)s::text, p_event_types => %(types)s::text[],"
            " p_description => %(desc)s::text, p_active => %(active)s::bool)",
            {
                "loc": location_id,
                "url": url,
                "types": event_types,
                "desc": description,
                "active": active,
            },
        )
        return answer

    async def update_endpoint(
        self,
        who: Principal,
        endpoint_id: UUID,
        url: str | None,
        event_types: list[str] | None,
        all_event_types: bool,
        description: str | None,
        active: bool | None,
    ) -> dict[str, Any]:
        answer: dict[str, Any] = await self.db.fetch_value(
            who,
            "select api.update_webhook_endpoint(p_id => %(id)s::uuid, p_url => %(url)s::text,"
            " p_event_types => %(types)s::text[], p_description => %(desc)s::text,"
            " p_active => %(active)s::bool, p_all_event_types => %(all)s::bool)",
            {
                "id": endpoint_id,
                "url": url,
                "types": event_types,
                "desc": description,
                "active": active,
                "all": all_event_types,
            },
        )
        return answer

    async def call(self, who: Principal, function: str, endpoint_id: UUID) -> dict[str, Any]:
        """api.get_webhook_endpoint, api.delete_webhook_endpoint: one endpoint id in, jsonb out."""
        if function not in ("get_webhook_endpoint", "delete_webhook_endpoint"):
            raise ValueError(function)
        answer: dict[str, Any] = await self.db.fetch_value(
            who, f"select api.{function}(p_id => %(id)s::uuid)", {"id": endpoint_id}
        )
        return answer

    async def list_endpoints(self, who: Principal, location_id: UUID) -> dict[str, Any]:
        answer: dict[str, Any] = await self.db.fetch_value(
            who,
            "select api.list_webhook_endpoints(p_location_id => %(loc)s::uuid)",
            {"loc": location_id},
        )
        return answer

    async def rotate_secret(
        self, who: Principal, endpoint_id: UUID, grace: timedelta
    ) -> dict[str, Any]:
        answer: dict[str, Any] = await self.db.fetch_value(
            who,
            "select api.rotate_webhook_secret(p_id => %(id)s::uuid,"
            " p_grace => %(grace)s::interval)",
            {"id": endpoint_id, "grace": grace},
        )
        return answer

    async def list_deliveries(
        self, who: Principal, endpoint_id: UUID, status: str | None, before: int | None, limit: int
    ) -> dict[str, Any]:
        answer: dict[str, Any] = await self.db.fetch_value(
            who,
            "select api.list_webhook_deliveries(p_endpoint_id => %(id)s::uuid,"
            " p_status => %(status)s::text, p_before_event_id => %(before)s::bigint,"
            " p_limit => %(limit)s::int)",
            {"id": endpoint_id, "status": status, "before": before, "limit": limit},
        )
        return answer

    async def redeliver(
        self, who: Principal, endpoint_id: UUID, from_event: int, to_event: int | None
    ) -> dict[str, Any]:
        answer: dict[str, Any] = await self.db.fetch_value(
            who,
            "select api.redeliver_webhooks(p_endpoint_id => %(id)s::uuid,"
            " p_from_event_id => %(from)s::bigint, p_to_event_id => %(to)s::bigint)",
            {"id": endpoint_id, "from": from_event, "to": to_event},
        )
        return answer
