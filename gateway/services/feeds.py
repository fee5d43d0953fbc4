"""Calendar feeds: tokens made and revoked by their callers, and a feed's version and bookings read
by token, without a caller role (calendar apps send no bearer token)."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from gateway.principal import Principal
from gateway.services.db import Database
from gateway.services.feed_results import (
    CustomerFeedTokens,
    Feed,
    FeedToken,
    NewFeedToken,
    ResourceFeedTokens,
)

RESOURCE_TOKEN_PREFIX = "r_"  # a resource feed's token; a customer feed's starts with "c_"


async def create_resource_token(db: Database, who: Principal, resource_id: UUID) -> NewFeedToken:
    result = await db.fetch_value(
        who,
        "select api.create_resource_feed_token(p_resource_id => %(id)s::uuid)",
        {"id": resource_id},
    )
    return cast(NewFeedToken, result)


async def create_customer_token(db: Database, who: Principal, user_id: str) -> NewFeedToken:
    result = await db.fetch_value(
        who,
        "select api.create_customer_feed_token(p_user_id => %(user)s::text)",
        {"user": user_id},
    )
    return cast(NewFeedToken, result)


async def resource_tokens(db: Database, who: Principal, resource_id: UUID) -> ResourceFeedTokens:
    result = await db.fetch_value(
        who,
        "select api.resource_feed_tokens(p_resource_id => %(id)s::uuid)",
        {"id": resource_id},
    )
    return cast(ResourceFeedTokens, result)


async def customer_tokens(db: Database, who: Principal, user_id: str) -> CustomerFeedTokens:
    result = await db.fetch_value(
        who, "select api.customer_feed_tokens(p_user_id => %(user)s::text)", {"user": user_id}
    )
    return cast(CustomerFeedTokens, result)


async def revoke_token(db: Database, who: Principal, token_id: UUID) -> FeedToken:
    result = await db.fetch_value(
        who, "select api.revoke_feed_token(p_token_id => %(id)s::uuid)", {"id": token_id}
    )
    return cast(FeedToken, result)


async def feed_version(db: Database, token: str) -> int:
    """The feed's version (0: none to cache by); read before the feed, in its own statement."""
    result = await db.fetch_value(
        None, "select api.feed_version(p_token => %(token)s::text)", {"token": token}
    )
    return int(result)


async def feed(db: Database, token: str) -> Feed:
    """The feed's bookings: a resource's or a customer's, as the token's prefix says (the
    database checks the token's kind too)."""
    function = "resource_feed" if token.startswith(RESOURCE_TOKEN_PREFIX) else "customer_feed"
    result = await db.fetch_value(
        None, f"select api.{function}(p_token => %(token)s::text)", {"token": token}
    )
    result.setdefault("resource_id", None)
    result.setdefault("location_name", None)
    result.setdefault("time_zone", None)
    return cast(Feed, result)
