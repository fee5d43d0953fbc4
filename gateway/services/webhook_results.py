"""The shapes of the webhook functions' jsonb answers (sql/functions/47_webhooks.sql)."""

from __future__ import annotations

from typing import NotRequired, TypedDict

from gateway.services.results import UuidText


class WebhookEndpoint(TypedDict):
    """An endpoint as admins read it; `secret` only in the answer to creation and rotation."""

    id: UuidText
    location_id: UuidText
    url: str
    event_types: list[str] | None
    description: str
    active: bool
    disabled_reason: str | None
    previous_secret_valid_until: str | None
    cursor_event_id: int
    consecutive_dead: int
    pending: int
    version: int
    created_at: str
    updated_at: str
    secret: NotRequired[str]
    deleted: NotRequired[bool]


class WebhookEndpointList(TypedDict):
    location_id: UuidText
    items: list[WebhookEndpoint]


class WebhookAttempt(TypedDict):
    attempted_at: str
    ok: bool
    status_code: int | None
    error: str | None
    response_excerpt: str | None
    duration_ms: int | None


class WebhookDelivery(TypedDict):
    id: int
    endpoint_id: UuidText
    event_id: int
    message_id: str
    event_type: str
    status: str
    attempts: int
    next_attempt_at: str | None
    last_error: str | None
    created_at: str
    finished_at: str | None
    attempt_log: list[WebhookAttempt]


class WebhookDeliveryList(TypedDict):
    endpoint_id: UuidText
    items: list[WebhookDelivery]


class WebhookRedelivery(TypedDict):
    endpoint_id: UuidText
    from_event_id: int
    to_event_id: int
    requeued: int
    endpoint_active: bool
