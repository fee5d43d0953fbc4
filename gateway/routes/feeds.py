"""Calendar feeds (iCalendar): POST and GET /v1/resources/{id}/feed-tokens (staff, admin of the
location), POST and GET /v1/customers/me/feed-tokens (a customer, its own bookings),
DELETE /v1/feed-tokens/{id} (revoke), and GET /v1/feeds/{token}.ics, the feed itself: no bearer
token (calendar apps send none), the secret URL is the credential. ETag from the feed's version,
304 on If-None-Match."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated
from uuid import UUID

from msgspec import Meta, Struct
from starlette.requests import Request
from starlette.responses import Response

from gateway.http.fields import EXAMPLE_RESOURCE, IfNoneMatch
from gateway.http.responses import caller, etag_matches, json_response, optional_caller
from gateway.http.spec import Answer, RouteSpec
from gateway.http.validate import path_of
from gateway.services.feed_results import (
    CustomerFeedTokens,
    FeedToken,
    NewFeedToken,
    ResourceFeedTokens,
)
from gateway.services.feeds import (
    create_customer_token,
    create_resource_token,
    customer_tokens,
    feed,
    feed_version,
    resource_tokens,
    revoke_token,
)
from gateway.services.ical import calendar_file
from gateway.state import gateway

ROLE_REFUSED = "42501"  # a caller role without EXECUTE on the function
CALENDAR = "text/calendar; charset=utf-8"
# calendar apps poll; a feed URL is a secret, so no shared cache may keep it
CACHE_CONTROL = "private, max-age=300"
EXAMPLE_TOKEN_ID = "6a3f1c2e-8b7d-4e5f-9a0b-1c2d3e4f5a6b"
EXAMPLE_TOKEN = "r_" + "0123456789abcdef" * 4


class ResourcePath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="resource id")]


class TokenPath(Struct, frozen=True):
    id: Annotated[UUID, Meta(description="feed token id (not the token)")]


class FeedPath(Struct, frozen=True):
    token: Annotated[
        str, Meta(max_length=200, description="the secret token a feed token's creation showed")
    ]


def _created(token: NewFeedToken) -> Response:
    # the answer holds the secret: never cached anywhere
    return json_response(token, 201, {"Location": token["path"], "Cache-Control": "no-store"})


async def create_for_resource(request: Request) -> Response:
    g = gateway(request)
    token = await create_resource_token(g.db, caller(request), request.path_params["id"])
    return _created(token)


async def create_for_customer(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    return _created(await create_customer_token(g.db, who, who.sub))


async def list_for_resource(request: Request) -> Response:
    g = gateway(request)
    tokens = await resource_tokens(g.db, caller(request), request.path_params["id"])
    return json_response(tokens)


async def list_for_customer(request: Request) -> Response:
    g = gateway(request)
    who = caller(request)
    return json_response(await customer_tokens(g.db, who, who.sub))


async def revoke(request: Request) -> Response:
    g = gateway(request)
    return json_response(await revoke_token(g.db, caller(request), request.path_params["id"]))


def feed_etag(version: int, now: datetime) -> str:
    """The feed's version and the hour: a feed also changes as time passes (its window moves,
    cancelled bookings drop out), so a tag lives at most until the hour ends."""
    return f'W/"feed-{version}-{now.astimezone(UTC):%Y%m%d%H}"'


async def get_feed(request: Request) -> Response:
    g = gateway(request)
    optional_caller(request)  # the token in the URL is what counts; a bad bearer token is a 401
    token = path_of(request, FeedPath).token
    # the version first, in its own statement: the feed read after it is never older
    version = await feed_version(g.db, token)
    headers = {"Cache-Control": CACHE_CONTROL if version > 0 else "private, no-cache"}
    if version > 0:
        headers["ETag"] = feed_etag(version, datetime.now(UTC))
        if etag_matches(request.headers.get("if-none-match"), headers["ETag"]):
            return Response(status_code=304, headers=headers)
    body = calendar_file(await feed(g.db, token))
    return Response(body, headers=headers, media_type=CALENDAR)


TOKEN_EXAMPLE = {
    "token_id": EXAMPLE_TOKEN_ID,
    "kind": "resource",
    "location_id": "10000000-0000-4000-8000-000000000001",
    "resource_id": EXAMPLE_RESOURCE,
    "created_at": "2026-12-01T12:00:00+00:00",
    "revoked_at": None,
    "token": EXAMPLE_TOKEN,
    "path": f"/v1/feeds/{EXAMPLE_TOKEN}.ics",
}

SPECS = [
    RouteSpec(
        "POST",
        "/v1/resources/{id:uuid}/feed-tokens",
        create_for_resource,
        "A secret calendar feed URL of a resource's bookings (staff, admin of its location)",
        "calendar feeds",
        {
            201: Answer(
                "Made: the token is shown only now",
                NewFeedToken,
                headers=("Location", "Cache-Control"),
                example=TOKEN_EXAMPLE,
            )
        },
        sql="api.create_resource_feed_token",
        path_params=ResourcePath,
        errors=(ROLE_REFUSED, "BK017", "BK019", "BK039"),
    ),
    RouteSpec(
        "POST",
        "/v1/customers/me/feed-tokens",
        create_for_customer,
        "A secret calendar feed URL of your own bookings (customers)",
        "calendar feeds",
        {
            201: Answer(
                "Made: the token is shown only now",
                NewFeedToken,
                headers=("Location", "Cache-Control"),
            )
        },
        sql="api.create_customer_feed_token",
        errors=(ROLE_REFUSED, "BK039"),
    ),
    RouteSpec(
        "GET",
        "/v1/resources/{id:uuid}/feed-tokens",
        list_for_resource,
        "A resource's live calendar feed tokens, to revoke (staff, admin of its location)",
        "calendar feeds",
        {200: Answer("Oldest first; never the tokens themselves", ResourceFeedTokens)},
        sql="api.resource_feed_tokens",
        path_params=ResourcePath,
        errors=(ROLE_REFUSED, "BK017", "BK019"),
    ),
    RouteSpec(
        "GET",
        "/v1/customers/me/feed-tokens",
        list_for_customer,
        "Your live calendar feed tokens, to revoke (customers)",
        "calendar feeds",
        {200: Answer("Oldest first; never the tokens themselves", CustomerFeedTokens)},
        sql="api.customer_feed_tokens",
        errors=(ROLE_REFUSED,),
    ),
    RouteSpec(
        "DELETE",
        "/v1/feed-tokens/{id:uuid}",
        revoke,
        "Revoke a calendar feed token: its URL answers 404 from now on",
        "calendar feeds",
        {200: Answer("Revoked (or revoked already)", FeedToken)},
        sql="api.revoke_feed_token",
        path_params=TokenPath,
        errors=("BK017", "BK037"),
    ),
    RouteSpec(
        "GET",
        "/v1/feeds/{token}.ics",
        get_feed,
        "A calendar feed (iCalendar): the secret URL is the credential, no bearer token",
        "calendar feeds",
        {
            200: Answer(
                "The feed (RFC 5545)",
                str,
                media_type="text/calendar",
                headers=("ETag", "Cache-Control"),
            ),
            304: Answer("Not modified (If-None-Match matched)"),
        },
        sql="api.feed_version",
        path_params=FeedPath,
        headers=IfNoneMatch,
        errors=("BK038",),
        public=True,
    ),
]
