"""What the calendar feed functions return (sql/functions/48_calendar_feeds.sql), as typed shapes:
the routes answer the tokens as the database wrote them, and gateway/services/ical.py writes the
feeds' rows as iCalendar."""

from __future__ import annotations

from typing import Annotated, Literal, TypedDict

from msgspec import Meta

from gateway.services.results import LocalSpan, SeatCount, TimeText, UuidText, ZoneText

FeedKind = Literal["resource", "customer"]


class FeedToken(TypedDict):
    """A calendar feed token as callers see it: never the token itself, which only its creation
    shows."""

    token_id: UuidText
    kind: FeedKind
    location_id: UuidText | None
    resource_id: UuidText | None
    created_at: TimeText
    revoked_at: TimeText | None


class NewFeedToken(FeedToken):
    """A token just made: the secret (shown only now) and the feed's path."""

    token: Annotated[str, Meta(description="the secret: keep it, it is not shown again")]
    path: Annotated[str, Meta(description="the feed's path: /v1/feeds/<token>.ics")]


class ResourceFeedTokens(TypedDict):
    """A resource's live feed tokens, oldest first."""

    resource_id: UuidText
    items: list[FeedToken]


class CustomerFeedTokens(TypedDict):
    """A customer's own live feed tokens, oldest first."""

    items: list[FeedToken]


class FeedItem(LocalSpan):
    """One booking in a feed."""

    id: UuidText
    status: Literal["confirmed", "cancelled"]
    version: int
    seats: SeatCount
    service_name: str
    resource_name: str
    location_name: str
    customer_name: str | None
    updated_at: TimeText
    created_at: TimeText


class Feed(TypedDict):
    """A feed's bookings: a resource's (`resource_id`, `name`, `location_name`, `time_zone`) or a
    customer's (every location; each item names its own zone)."""

    kind: FeedKind
    name: str
    items: list[FeedItem]
    resource_id: UuidText | None
    location_name: str | None
    time_zone: ZoneText | None
