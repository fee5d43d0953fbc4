"""Webhook endpoints (admin, at the locations their token names): register one under a location
(the answer carries its secret, shown only then), list, read, change, delete, rotate the secret,
list deliveries with their attempts, redeliver. The gateway refuses URLs on internal addresses
(BOOKING_WEBHOOK_ALLOW_HOSTS excepted); the database checks the role and the location."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal
from uuid import UUID

from msgspec import UNSET, Meta, Struct, UnsetType
from starlette.requests import Request
from starlette.responses import Response

from gateway.errors.problem import Problem
from gateway.http.fields import EventId
from gateway.http.responses import caller, entry_headers, json_response
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import body_of, given, path_of, query_of
from gateway.services.webhook_results import (
    WebhookDeliveryList,
    WebhookEndpoint,
    WebhookEndpointList,
    WebhookRedelivery,
)
from gateway.services.webhook_store import WebhookStore
from gateway.services.webhook_targets import RefusedTarget, WebhookSettings, check_target
from gateway.state import gateway

ROLE_REFUSED = "42501"  # a customer or staff token: no EXECUTE on the admin functions
EXAMPLE_ENDPOINT = "7a1f6c2e-5b3d-4e8a-9c0f-1d2e3f4a5b6c"
REFUSED = "the URL's host is an internal address (or does not resolve) and is not allowed"

Url = Annotated[str, Meta(min_length=8, max_length=2000, description="http:// or https:// URL")]
EventTypes = Annotated[
    list[Annotated[str, Meta(pattern="^[a-z_]+:[a-z_]+$")]],
    Meta(
        min_length=1, max_length=100, description="e.g. booking:confirmed; all types when left out"
    ),
]
Description = Annotated[str, Meta(max_length=500)]


class WebhookLocationPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="location id")]


class WebhookEndpointPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="webhook endpoint id")]


class NewWebhookEndpoint(Struct, kw_only=True, frozen=True):
    url: Url
    event_types: EventTypes | UnsetType = UNSET
    description: Description = ""
    active: bool = True


class WebhookEndpointChange(Struct, kw_only=True, frozen=True):
    """What to change; a member left out keeps its value. `event_types: null` means every type;
    `active: true` switches an endpoint the worker disabled back on."""

    url: Url | UnsetType = UNSET
    event_types: EventTypes | UnsetType | None = UNSET
    description: Description | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class WebhookRotation(Struct, kw_only=True, frozen=True):
    grace_seconds: Annotated[
        int, Meta(ge=0, le=30 * 86400, description="how long the old secret still signs")
    ] = 86400


class WebhookDeliveriesQuery(Struct, kw_only=True, frozen=True):
    status: Literal["pending", "delivered", "dead"] | UnsetType = UNSET
    before_event_id: Annotated[EventId, Meta(description="page: older events")] | UnsetType = UNSET
    limit: Annotated[int, Meta(ge=1, le=500)] = 50


class WebhookRedeliveryRequest(Struct, kw_only=True, frozen=True):
    from_event_id: EventId
    to_event_id: Annotated[EventId, Meta(description="default: from_event_id only")] | UnsetType = (
        UNSET
    )


async def _location_store(request: Request, location_id: UUID) -> WebhookStore:
    """The store of the shard holding the location (the one database without shards)."""
    return WebhookStore((await gateway(request).router.location(location_id)).db)


async def _endpoint_store(request: Request) -> WebhookStore:
    """The store of the shard holding the endpoint named in the path."""
    endpoint_id = path_of(request, WebhookEndpointPath).id
    return WebhookStore((await gateway(request).router.entity(endpoint_id)).db)


async def _check(url: str) -> None:
    try:
        await check_target(url, WebhookSettings.from_env().allow_hosts)
    except RefusedTarget as exc:
        raise Problem(422, "webhook-url-refused", "Webhook URL not allowed", str(exc)) from exc


async def create_endpoint(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    location_id = path_of(request, WebhookLocationPath).id
    b = await body_of(request, NewWebhookEndpoint, g.settings.max_body_bytes)
    await _check(b.url)
    store = await _location_store(request, location_id)
    row = await store.create_endpoint(
        who, location_id, b.url, given(b.event_types), b.description, b.active
    )
    return json_response(row, 201, entry_headers(row["version"], f"/v1/webhooks/{row['id']}"))


async def list_endpoints(request: Request) -> Response:
    location_id = path_of(request, WebhookLocationPath).id
    store = await _location_store(request, location_id)
    answer = await store.list_endpoints(caller(request), location_id)
    return json_response(answer)


async def get_endpoint(request: Request) -> Response:
    row = await (await _endpoint_store(request)).call(
        caller(request), "get_webhook_endpoint", path_of(request, WebhookEndpointPath).id
    )
    return json_response(row, headers=entry_headers(row["version"]))


async def update_endpoint(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, WebhookEndpointChange, g.settings.max_body_bytes)
    url = given(b.url)
    if url is not None:
        await _check(url)
    types = b.event_types
    row = await (await _endpoint_store(request)).update_endpoint(
        who,
        path_of(request, WebhookEndpointPath).id,
        url=url,
        event_types=None if isinstance(types, UnsetType) else types,
        all_event_types=types is None,
        description=given(b.description),
        active=given(b.active),
    )
    return json_response(row, headers=entry_headers(row["version"]))


async def delete_endpoint(request: Request) -> Response:
    row = await (await _endpoint_store(request)).call(
        caller(request), "delete_webhook_endpoint", path_of(request, WebhookEndpointPath).id
    )
    return json_response(row)


async def rotate_secret(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, WebhookRotation, g.settings.max_body_bytes)
    row = await (await _endpoint_store(request)).rotate_secret(
        who, path_of(request, WebhookEndpointPath).id, timedelta(seconds=b.grace_seconds)
    )
    return json_response(row, headers=entry_headers(row["version"]))


async def list_deliveries(request: Request) -> Response:
    q = query_of(request, WebhookDeliveriesQuery)
    answer = await (await _endpoint_store(request)).list_deliveries(
        caller(request),
        path_of(request, WebhookEndpointPath).id,
        given(q.status),
        given(q.before_event_id),
        q.limit,
    )
    return json_response(answer)


async def redeliver(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    b = await body_of(request, WebhookRedeliveryRequest, g.settings.max_body_bytes)
    answer = await (await _endpoint_store(request)).redeliver(
        who, path_of(request, WebhookEndpointPath).id, b.from_event_id, given(b.to_event_id)
    )
    return json_response(answer)


ENDPOINT_EXAMPLE = {
    "id": EXAMPLE_ENDPOINT,
    "location_id": "10000000-0000-4000-8000-000000000001",
    "url": "https://crm.example.com/hooks/booking",
    "event_types": ["booking:confirmed", "booking:cancelled"],
    "description": "CRM",
    "active": True,
    "disabled_reason": None,
    "previous_secret_valid_until": None,
    "cursor_event_id": 1042,
    "consecutive_dead": 0,
    "pending": 0,
    "version": 1,
    "created_at": "2026-12-01T09:00:00+00:00",
    "updated_at": "2026-12-01T09:00:00+00:00",
    "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw2jqRQ9bGkXM=",
}
REFUSED_PROBLEM = {422: "the URL's host is an internal address not on the allow-list"}

SPECS = [
    RouteSpec(
        "POST",
        "/v1/locations/{id}/webhooks",  # no converter: a malformed id is 422
        create_endpoint,
        "Register a webhook endpoint (admin); the answer shows its secret, the only time",
        "webhooks",
        {
            201: Answer(
                "Registered",
                WebhookEndpoint,
                headers=("ETag", "Location"),
                example=ENDPOINT_EXAMPLE,
            )
        },
        sql="api.create_webhook_endpoint",
        body=NewWebhookEndpoint,
        body_example={
            "url": "https://crm.example.com/hooks/booking",
            "event_types": ["booking:confirmed", "booking:cancelled"],
        },
        path_params=WebhookLocationPath,
        errors=(ROLE_REFUSED, "BK017", "BK018", "BK034"),
        problems=REFUSED_PROBLEM,
    ),
    RouteSpec(
        "GET",
        "/v1/locations/{id}/webhooks",  # no converter: a malformed id is 422
        list_endpoints,
        "A location's webhook endpoints (admin; never their secrets)",
        "webhooks",
        {200: Answer("Oldest first", WebhookEndpointList)},
        sql="api.list_webhook_endpoints",
        path_params=WebhookLocationPath,
        errors=(ROLE_REFUSED, "BK017"),
    ),
    RouteSpec(
        "GET",
        "/v1/webhooks/{id:uuid}",
        get_endpoint,
        "One webhook endpoint (admin)",
        "webhooks",
        {200: Answer("Found; ETag is its version", WebhookEndpoint, headers=("ETag",))},
        sql="api.get_webhook_endpoint",
        path_params=WebhookEndpointPath,
        errors=(ROLE_REFUSED, "BK017", "BK033"),
    ),
    RouteSpec(
        "PATCH",
        "/v1/webhooks/{id:uuid}",
        update_endpoint,
        "Change a webhook endpoint, or switch it on or off (admin)",
        "webhooks",
        {200: Answer("Changed", WebhookEndpoint, headers=("ETag",))},
        sql="api.update_webhook_endpoint",
        body=WebhookEndpointChange,
        body_example={"active": True},
        path_params=WebhookEndpointPath,
        errors=(ROLE_REFUSED, "BK017", "BK033", "BK034"),
        problems=REFUSED_PROBLEM,
    ),
    RouteSpec(
        "DELETE",
        "/v1/webhooks/{id:uuid}",
        delete_endpoint,
        "Delete a webhook endpoint with its deliveries (admin)",
        "webhooks",
        {200: Answer("Deleted", WebhookEndpoint)},
        sql="api.delete_webhook_endpoint",
        path_params=WebhookEndpointPath,
        errors=(ROLE_REFUSED, "BK017", "BK033"),
    ),
    RouteSpec(
        "POST",
        "/v1/webhooks/{id:uuid}/rotate",
        rotate_secret,
        "New secret (shown once); the old one still signs during the grace period (admin)",
        "webhooks",
        {200: Answer("Rotated", WebhookEndpoint, headers=("ETag",))},
        sql="api.rotate_webhook_secret",
        body=WebhookRotation,
        body_required=False,
        body_example={"grace_seconds": 86400},
        path_params=WebhookEndpointPath,
        errors=(ROLE_REFUSED, "BK017", "BK033", "BK034"),
    ),
    RouteSpec(
        "GET",
        "/v1/webhooks/{id:uuid}/deliveries",
        list_deliveries,
        "An endpoint's deliveries with their attempts, newest event first (admin)",
        "webhooks",
        {200: Answer("Newest event first", WebhookDeliveryList)},
        sql="api.list_webhook_deliveries",
        path_params=WebhookEndpointPath,
        query=WebhookDeliveriesQuery,
        errors=(ROLE_REFUSED, "BK017", "BK033", "BK034"),
    ),
    RouteSpec(
        "POST",
        "/v1/webhooks/{id:uuid}/redeliver",
        redeliver,
        "Send one event or a range again, same webhook-id, in event order (admin)",
        "webhooks",
        {200: Answer("Queued again", WebhookRedelivery)},
        sql="api.redeliver_webhooks",
        body=WebhookRedeliveryRequest,
        body_example={"from_event_id": 1040, "to_event_id": 1042},
        path_params=WebhookEndpointPath,
        errors=(ROLE_REFUSED, "BK017", "BK033", "BK034", "BK035"),
    ),
]
